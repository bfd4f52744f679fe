#!/usr/bin/env bash
# Weight normalization on full MNIST: plain vs weight norm vs weight norm with data-dependent
# init, for the MLP and the CNN, with SGD and with Adam, 3 seeds; then the aggregate (results.md,
# results.json, loss-curve PNGs) from the runs' results.json files.
# bash experiments/weight-norm/run.sh   (needs the full MNIST files: PLASTICITY_DATA or ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/weight-norm
data="${PLASTICITY_DATA:-$(pwd)/../shared/data}"
seeds="${SEEDS:-1 2 3}"
cargo build --release -q -p plasticity-cli
bin=target/release/plasticity
out="$here/runs"
declare -A optimizers=(
  [sgd]='optimizer={kind="sgd", lr=0.05}'
  [adam]='optimizer={kind="adam", lr=1e-3}'
)
declare -A arms=(
  [plain]=''
  [wn]='reparam={method="weight-norm"}'
  [wn-ddi]='reparam={method="weight-norm", data_init=true}'
)
for seed in $seeds; do
  for model in mlp cnn; do
    for opt in sgd adam; do
      for arm in plain wn wn-ddi; do
        dir="$out/$model-$opt/$arm/seed$seed"
        set_arm=()
        [ -n "${arms[$arm]}" ] && set_arm=(--set "${arms[$arm]}")
        args=("$here/configs/$model.toml" --data-dir "$data" --seed "$seed" --set "${optimizers[$opt]}" "${set_arm[@]}" --output-dir "$dir")
        [ -f "$dir/results.json" ] || $bin -q train "${args[@]}"
        # The CNN trains 10 epochs; below 97 % validation accuracy it continues to the first
        # epoch that reaches it, at most 30 (the same run, resumed bit-identically).
        if [ "$model" = cnn ] && ! python3 -c "import json,sys; r=json.load(open('$dir/results.json')); sys.exit(0 if any(e['valid_accuracy']>=0.97 for e in r['epochs']) or len(r['epochs'])>=30 else 1)"; then
          $bin -q train "${args[@]}" --resume --set train.epochs=30 --set train.stop_at_valid_accuracy=0.97
        fi
      done
    done
  done
done
cargo run --release -q --example reparam_experiments -- weight-norm "$here"
