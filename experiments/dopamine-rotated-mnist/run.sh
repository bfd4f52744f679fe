#!/usr/bin/env bash
# Reproduces the Dopamine rotated-MNIST table: pretrain on 50/50 upright/45° MNIST, freeze,
# specialise to 45° with each method, 3 seeds; then aggregate into results.md / results.json.
# bash experiments/dopamine-rotated-mnist/run.sh   (needs the full MNIST files: PLASTICITY_DATA;
# SEEDS and METHODS, e.g. METHODS="lora-r4 lora-r8", to narrow it)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/dopamine-rotated-mnist
data="${PLASTICITY_DATA:-$(pwd)/../shared/data}"
seeds="${SEEDS:-1 2 3}"
if [ -z "${PLASTICITY_BIN:-}" ]; then
  cargo build --release -q -p plasticity-cli
fi
bin="${PLASTICITY_BIN:-${CARGO_TARGET_DIR:-target}/release/plasticity}"
out="$here/runs"
declare -A methods=(
  [frozen]=''
  [taugate]='peft={method="taugate"}'
  [lora-r4]='peft={method="lora", r=4, alpha=4.0, target_modules=["hidden.0","hidden.1","output"]}'
  [lora-r8]='peft={method="lora", r=8, alpha=8.0, target_modules=["hidden.0","hidden.1","output"]}'
  [lora-r8-dropout]='peft={method="lora", r=8, alpha=8.0, dropout=0.1, target_modules=["hidden.0","hidden.1","output"]}'
  [miss-bone]='peft={method="miss", r=8, variant="bone", target_modules=["hidden.0","hidden.1","output"]}'
  [miss-bat]='peft={method="miss", r=8, variant="bat", target_modules=["hidden.0","hidden.1"]}'
  [ia3]='peft={method="ia3", target_modules=["hidden.0","hidden.1","output"]}'
  [triadapt]='peft={method="triadapt", reference_rank=8, target_modules=["hidden.0","hidden.1","output"]}'
)
for seed in $seeds; do
  base="$out/seed$seed/pretrain"
  [ -f "$base/results.json" ] || $bin -q train "$here/configs/pretrain.toml" --data-dir "$data" --seed "$seed" --output-dir "$base"
  for name in ${METHODS:-${!methods[@]}}; do
    dir="$out/seed$seed/$name"
    if [ "$name" = frozen ]; then
      mkdir -p "$dir"
      $bin -q eval --run "$base" --data-dir "$data" --set data.rotate_fraction=1.0 > "$dir/eval-rotated.json"
      $bin -q eval --run "$base" --data-dir "$data" --set data.rotate_fraction=0.0 > "$dir/eval-upright.json"
      continue
    fi
    [ -f "$dir/results.json" ] || $bin -q train "$here/configs/adapt.toml" --data-dir "$data" --seed "$seed" \
        --set "init_from=\"$base\"" --set "${methods[$name]}" --output-dir "$dir"
    $bin -q eval --run "$dir" --data-dir "$data" > "$dir/eval-rotated.json"
    $bin -q eval --run "$dir" --data-dir "$data" --set data.rotate_fraction=0.0 > "$dir/eval-upright.json"
  done
done
python3 "$here/aggregate.py" "$out" "$here"
