#!/usr/bin/env bash
# Permuted MNIST, 10 tasks, Avalanche's EWC protocol (configs/avalanche-pmnist.toml): naive SGD,
# EWC (λ 1, separate, batched Fisher, Avalanche's convention: Avalanche's ewc_pmnist settings),
# online EWC (the same with mode online, γ 1) and CLASSP (paper mode, lr 0.01 as in the Split
# MNIST runs; its reference mode takes identical steps at p = 1 and default τ, so it is not run
# again: METHODS=classp-reference adds it), seeds 1-3 (SEEDS to change); then the aggregate
# (results-pmnist.md/json) from the streams' results.json files.
# bash experiments/continual/run-pmnist.sh   (needs the full MNIST files: PLASTICITY_DATA or ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/continual
data="${PLASTICITY_DATA:-$(pwd)/../shared/data}"
seeds="${SEEDS:-1 2 3}"
if [ -z "${PLASTICITY_BIN:-}" ]; then
  cargo build --release -q -p plasticity-cli
fi
bin="${PLASTICITY_BIN:-target/release/plasticity}"
ewc='lambda=1.0, fisher="batched", convention="avalanche"'
declare -A methods=(
  [naive]=''
  [ewc]="ewc={$ewc}"
  [online-ewc]="ewc={$ewc, mode=\"online\"}"
  [classp-paper]='optimizer={kind="classp", lr=0.01}'
  [classp-reference]='optimizer={kind="classp", mode="reference", lr=0.01}'
)
for seed in $seeds; do
  for m in ${METHODS:-naive ewc online-ewc classp-paper}; do
    dir="$here/runs/pmnist/$m/seed$seed"
    [ -f "$dir/results.json" ] && continue
    extra=()
    [ -n "${methods[$m]}" ] && extra=(--set "${methods[$m]}")
    rm -rf "$dir"
    $bin -q continual "$here/configs/avalanche-pmnist.toml" --data-dir "$data" --seed "$seed" "${extra[@]}" --output-dir "$dir"
  done
done
# λ sensitivity: Avalanche's λ = 1 on the batched Fisher (squared minibatch-mean gradients)
# barely moves the weights; EWC with λ 100, 1000 and 10000, seed 1 (SWEEP_SEEDS to change).
for seed in ${SWEEP_SEEDS:-1}; do
  for lambda in 100 1000 10000; do
    dir="$here/runs/pmnist/ewc-lambda$lambda/seed$seed"
    [ -f "$dir/results.json" ] && continue
    rm -rf "$dir"
    $bin -q continual "$here/configs/avalanche-pmnist.toml" --data-dir "$data" --seed "$seed" \
      --set "ewc={lambda=$lambda.0, fisher=\"batched\", convention=\"avalanche\"}" --output-dir "$dir"
  done
done
python3 "$here/aggregate.py" "$here"
