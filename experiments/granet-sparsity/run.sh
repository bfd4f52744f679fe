#!/usr/bin/env bash
# Sparse training of LeNet-300-100 on full MNIST (configs/lenet-300-100.toml): dense, GMP,
# GraNet (sᵢ = 0 and 0.5) and RigL at 90 % and 98 % sparsity, seeds 1-3 (SEEDS to change);
# then the aggregate (results.md/json) from the runs' results.json files.
# bash experiments/granet-sparsity/run.sh   (needs the full MNIST files: PLASTICITY_DATA or ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/granet-sparsity
data="${PLASTICITY_DATA:-$(pwd)/../shared/data}"
seeds="${SEEDS:-1 2 3}"
if [ -z "${PLASTICITY_BIN:-}" ]; then
  cargo build --release -q -p plasticity-cli
fi
bin="${PLASTICITY_BIN:-target/release/plasticity}"
run() { # dir, extra --set arguments…
  local dir=$1; shift
  [ -f "$dir/results.json" ] && return 0
  rm -rf "$dir"
  $bin -q train "$here/configs/lenet-300-100.toml" --data-dir "$data" "$@" --output-dir "$dir"
}
for seed in $seeds; do
  run "$here/runs/dense/seed$seed" --seed "$seed"
  for s in 0.9 0.98; do
    run "$here/runs/gmp-$s/seed$seed" --seed "$seed" --set "prune={method=\"gmp\", final_sparsity=$s, frequency=100}"
    run "$here/runs/granet-$s/seed$seed" --seed "$seed" --set "prune={method=\"granet\", final_sparsity=$s, frequency=100}"
    run "$here/runs/granet-si0.5-$s/seed$seed" --seed "$seed" --set "prune={method=\"granet\", init_sparsity=0.5, final_sparsity=$s, frequency=100}"
    run "$here/runs/rigl-$s/seed$seed" --seed "$seed" --set "prune={method=\"rigl\", final_sparsity=$s, frequency=100}"
  done
done
python3 "$here/aggregate.py" "$here"
