#!/usr/bin/env bash
# Split MNIST under Hsu et al. 2018's protocol, the three scenarios, naive Adam / SGD / Adagrad,
# EWC, online EWC and CLASSP (both modes), seeds 1-3 (SEEDS to change); then the aggregate
# (results.md, results.json) from the streams' results.json files.
# bash experiments/continual/run.sh   (needs the full MNIST files: PLASTICITY_DATA or ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/continual
data="${PLASTICITY_DATA:-$(pwd)/../shared/data}"
seeds="${SEEDS:-1 2 3}"
cargo build --release -q -p plasticity-cli
bin=target/release/plasticity
# Hsu's learning rates: Adam 1e-3, SGD 0.01, Adagrad 0.01; EWC and online EWC on Adam with
# Hsu's reg_coef per scenario (task/domain/class), in Avalanche's convention (λ, no ½) and
# the empirical Fisher; CLASSP with its own defaults except lr.
declare -A methods=(
  [adam]=''
  [sgd]='optimizer={kind="sgd", lr=0.01}'
  [adagrad]='optimizer={kind="adagrad", lr=0.01}'
  [classp-paper]='optimizer={kind="classp", lr=0.01}'
  [classp-reference]='optimizer={kind="classp", mode="reference", lr=0.01}'
)
declare -A ewc=([task]=100 [domain]=100 [class]=600)
declare -A online=([task]=400 [domain]=700 [class]=100)
for seed in $seeds; do
  for scenario in task domain class; do
    classes=10; [ "$scenario" = domain ] && classes=2
    common=(--data-dir "$data" --seed "$seed" --set "continual.stream.scenario=\"$scenario\"" --set "model.classes=$classes")
    for m in adam sgd adagrad classp-paper classp-reference ewc online-ewc; do
      dir="$here/runs/$scenario/$m/seed$seed"
      [ -f "$dir/results.json" ] && continue
      extra=()
      case $m in
        ewc) extra=(--set "ewc={lambda=${ewc[$scenario]}.0, fisher=\"empirical\", samples=1000, convention=\"avalanche\"}") ;;
        online-ewc) extra=(--set "ewc={lambda=${online[$scenario]}.0, mode=\"online\", fisher=\"empirical\", samples=1000, convention=\"avalanche\"}") ;;
        *) [ -n "${methods[$m]}" ] && extra=(--set "${methods[$m]}") ;;
      esac
      rm -rf "$dir"
      $bin -q continual "$here/configs/hsu-split.toml" "${common[@]}" "${extra[@]}" --output-dir "$dir"
    done
  done
done
python3 "$here/aggregate.py" "$here"
