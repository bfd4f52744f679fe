#!/usr/bin/env bash
# The weight compander on top of AdamW's weight decay, in an overfitting regime (2,000 training
# images, 60 epochs): plain vs compander (fixed θ) vs compander with learned θ, for the MLP and
# the CNN, 5 seeds; then the aggregate (results.md, results.json, weight histograms) from the
# runs' files. Runs on the bundled MNIST subset: no download needed.
# bash experiments/weight-compander/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/weight-compander
seeds="${SEEDS:-1 2 3 4 5}"
cargo build --release -q -p plasticity-cli
bin=target/release/plasticity
out="$here/runs"
declare -A arms=(
  [plain]=''
  [compander]='reparam={method="compander"}'
  [compander-learned]='reparam={method="compander", learn=true}'
)
for seed in $seeds; do
  for model in mlp cnn; do
    for arm in plain compander compander-learned; do
      dir="$out/$model/$arm/seed$seed"
      set_arm=()
      [ -n "${arms[$arm]}" ] && set_arm=(--set "${arms[$arm]}")
      [ -f "$dir/results.json" ] || $bin -q train "$here/configs/$model.toml" --seed "$seed" "${set_arm[@]}" --output-dir "$dir"
    done
  done
done
cargo run --release -q --example reparam_experiments -- compander "$here"
