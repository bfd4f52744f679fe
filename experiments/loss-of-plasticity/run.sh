#!/usr/bin/env bash
# Loss of plasticity on online Permuted MNIST (configs/online-pmnist.toml: 200 tasks of 6,000
# images each, seen once at batch 1, an MLP with one hidden layer of 100 ReLU units, SGD 0.01):
# plain backprop, backprop with L2 (weight decay 1e-4), shrink and perturb (L2 1e-4 and noise
# σ 1e-5 after every step) and continual backprop (its defaults: ρ 1e-4, η 0.99, m 100), seeds
# 1-3 (SEEDS to change); then the aggregate (results.md/json, plasticity.png).
# bash experiments/loss-of-plasticity/run.sh   (needs the full MNIST files: PLASTICITY_DATA or ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/loss-of-plasticity
data="${PLASTICITY_DATA:-$(pwd)/../shared/data}"
seeds="${SEEDS:-1 2 3}"
if [ -z "${PLASTICITY_BIN:-}" ]; then
  cargo build --release -q -p plasticity-cli
fi
bin="${PLASTICITY_BIN:-target/release/plasticity}"
declare -A methods=(
  [backprop]=''
  [l2]='optimizer={kind="sgd", lr=0.01, weight_decay=1e-4}'
  [shrink-perturb]='shrink_perturb={noise_std=1e-5}'
  [cbp]='cbp={replacement_rate=1e-4}'
)
for seed in $seeds; do
  for m in ${METHODS:-backprop l2 shrink-perturb cbp}; do
    dir="$here/runs/$m/seed$seed"
    [ -f "$dir/results.json" ] && continue
    extra=()
    [ -n "${methods[$m]}" ] && extra=(--set "${methods[$m]}")
    # shrink and perturb shrinks with the same L2 as the l2 arm.
    [ "$m" = shrink-perturb ] && extra+=(--set 'optimizer={kind="sgd", lr=0.01, weight_decay=1e-4}')
    # A killed run resumes from its last checkpoint (every 10 tasks).
    resume=(); [ -f "$dir/tasks.jsonl" ] && resume=(--resume)
    $bin -q continual "$here/configs/online-pmnist.toml" --data-dir "$data" --seed "$seed" "${extra[@]}" "${resume[@]}" --output-dir "$dir"
  done
done
if [ -z "${PLASTICITY_BIN:-}" ]; then
  cargo run --release -q --example plasticity_experiment -- "$here"
fi
