#!/usr/bin/env bash
# The sparsity sweep on full MNIST: LeNet-300-100 (configs/lenet-300-100.toml at 10 epochs, seeds
# 1-3) and the small CNN (configs/cnn.toml, 5 epochs, seed 1: the budget the timed pilot allowed)
# at 50 / 80 / 90 / 95 / 98 % sparsity, with: dense; one-shot magnitude pruning of the dense run +
# fine-tuning (`plasticity prune`, as many epochs as the run); GMP; GraNet with sᵢ = 0 and 0.5;
# RigL; SNIP; SynFlow (100 iterations); the signed supermask (Adam lr 1e-2, from pilot/). Then
# GraNet's seed-1 models exported (sizes), and the aggregate: sweep/results.json, sweep/results.md,
# sweep/accuracy-vs-sparsity.png.
# bash experiments/granet-sparsity/sweep.sh   (needs the full MNIST files: PLASTICITY_DATA or ../shared/data;
# MODELS, SEEDS, SPARSITIES to narrow it; about an hour on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/granet-sparsity
data="${PLASTICITY_DATA:-$(pwd)/../shared/data}"
if [ -z "${PLASTICITY_BIN:-}" ]; then
  cargo build --release -q -p plasticity-cli
fi
bin="${PLASTICITY_BIN:-target/release/plasticity}"
run() { # dir, config, extra arguments…
  local dir=$1 config=$2; shift 2
  [ -f "$dir/results.json" ] && return 0
  rm -rf "$dir"
  $bin -q train "$config" --data-dir "$data" "$@" --output-dir "$dir"
}
for model in ${MODELS:-mlp cnn}; do
  case $model in
    mlp) config=$here/configs/lenet-300-100.toml; epochs=10; seeds="${SEEDS:-1 2 3}" ;;
    cnn) config=$here/configs/cnn.toml; epochs=5; seeds="${SEEDS:-1}" ;;
  esac
  out=$here/sweep/$model
  for seed in $seeds; do
    common=(--seed "$seed" --set "train.epochs=$epochs")
    run "$out/dense/seed$seed" "$config" "${common[@]}"
    for s in ${SPARSITIES:-0.5 0.8 0.9 0.95 0.98}; do
      dir=$out/magnitude-$s/seed$seed
      if [ ! -f "$dir/results.json" ]; then
        rm -rf "$dir"
        $bin -q prune --run "$out/dense/seed$seed" --method magnitude --sparsity "$s" --finetune-epochs "$epochs" --data-dir "$data" --out "$dir"
      fi
      run "$out/gmp-$s/seed$seed" "$config" "${common[@]}" --set "prune={method=\"gmp\", final_sparsity=$s, frequency=100}"
      run "$out/granet-$s/seed$seed" "$config" "${common[@]}" --set "prune={method=\"granet\", final_sparsity=$s, frequency=100}"
      run "$out/granet-si0.5-$s/seed$seed" "$config" "${common[@]}" --set "prune={method=\"granet\", init_sparsity=0.5, final_sparsity=$s, frequency=100}"
      run "$out/rigl-$s/seed$seed" "$config" "${common[@]}" --set "prune={method=\"rigl\", final_sparsity=$s}"
      run "$out/snip-$s/seed$seed" "$config" "${common[@]}" --set "prune={method=\"snip\", final_sparsity=$s}"
      run "$out/synflow-$s/seed$seed" "$config" "${common[@]}" --set "prune={method=\"synflow\", final_sparsity=$s}"
      run "$out/supermask-$s/seed$seed" "$config" "${common[@]}" --set "prune={method=\"supermask\", final_sparsity=$s}" --set 'optimizer={kind="adam", lr=1e-2}'
    done
  done
done
# Exported sizes: seed 1 of GraNet at every sparsity (`plasticity export`: pruned.bpk, pruned.sparse).
for model in ${MODELS:-mlp cnn}; do
  for s in ${SPARSITIES:-0.5 0.8 0.9 0.95 0.98}; do
    dir=$here/sweep/$model/granet-$s/seed1
    if [ -f "$dir/results.json" ] && [ ! -f "$dir/export/pruned.sparse" ]; then
      $bin -q export --run "$dir" --out "$dir/export" > /dev/null
    fi
  done
done
if [ -z "${PLASTICITY_BIN:-}" ]; then
  cargo run --release -q --example sparsity_sweep -- "$here/sweep"
else
  echo "aggregate: cargo run --release --example sparsity_sweep -- $here/sweep"
fi
