#!/usr/bin/env bash
# Sentiment fine-tuning of all-MiniLM-L6-v2 on the movie reviews (configs/minilm-sentiment.toml:
# 2,000 training reviews, 128 tokens at most, mean pooling, batch 16, one epoch), one process per
# method so that each results.json holds that method's own peak memory (VmHWM):
#   frozen    the encoder frozen, the head trained (a linear probe)
#   full      full fine-tuning
#   lora      LoRA r = 8 on query and value (activation space), the head in modules_to_save
#   taugate   TauGate gates on the FFN's intermediate units, the head in modules_to_save
# then aggregate.py writes results.json and results.md from the runs' results.json.
# bash experiments/minilm-sentiment/run.sh   (needs ../shared/data/text or PLASTICITY_DATA;
# METHODS to narrow it; about 40 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/minilm-sentiment
data="${PLASTICITY_DATA:-$(pwd)/../shared/data}"
if [ -z "${PLASTICITY_BIN:-}" ]; then
  cargo build --release -q -p plasticity-cli
fi
bin="${PLASTICITY_BIN:-${CARGO_TARGET_DIR:-target}/release/plasticity}"
declare -A methods=(
  [frozen]='peft={method="frozen", modules_to_save=["classifier"]}'
  [full]=''
  [lora]='peft={method="lora", r=8, alpha=16.0, target_modules=["query", "value"], modules_to_save=["classifier"]}'
  [taugate]='peft={method="taugate", modules_to_save=["classifier"]}'
)
declare -A lr=([frozen]=1e-3 [full]=5e-5 [lora]=1e-3 [taugate]=1e-2)
for name in ${METHODS:-frozen full lora taugate}; do
  dir="$here/runs/$name"
  [ -f "$dir/results.json" ] && continue
  rm -rf "$dir"
  extra=()
  [ -n "${methods[$name]}" ] && extra=(--set "${methods[$name]}")
  $bin -q train configs/minilm-sentiment.toml --data-dir "$data" --output-dir "$dir" \
    --set "model.pretrained=\"$data/text/all-MiniLM-L6-v2\"" --set "optimizer.lr=${lr[$name]}" "${extra[@]}"
done
python3 "$here/aggregate.py" "$here/runs" "$here"
