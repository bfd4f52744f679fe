#!/usr/bin/env bash
# The peft round trip on a pretrained transformer (run by hand, not in CI; `just bert-peft-check`):
# trains LoRA r = 8 on all-MiniLM-L6-v2's query/value without a head
# (experiments/minilm-sentiment/configs/headless-lora.toml), exports the adapter in peft format,
# writes plasticity's pooled embeddings of the reference sentences and some reviews
# (`plasticity embed`), and runs scripts/check_bert_adapter.py: PeftModel.from_pretrained on
# transformers' BertModel from the same folder, warnings as errors, embeddings within 1e-4,
# different from the base model's.
# Needs torch, transformers and peft: PYTHON=/path/to/python, or
#   python3 -m venv target/bert-check/venv && target/bert-check/venv/bin/pip install -r scripts/requirements-bert-check.txt
set -euo pipefail
cd "$(dirname "$0")/.."
data="${PLASTICITY_DATA:-$(pwd)/../shared/data}"
out="${OUT:-target/bert-check}"
py="${PYTHON:-$out/venv/bin/python}"
if [ -z "${PLASTICITY_BIN:-}" ]; then
  cargo build --release -q -p plasticity-cli
fi
bin="${PLASTICITY_BIN:-${CARGO_TARGET_DIR:-target}/release/plasticity}"
mkdir -p "$out"
run="$out/headless-lora"
rm -rf "$run"
"$bin" -q train experiments/minilm-sentiment/configs/headless-lora.toml --data-dir "$data" \
  --set "model.pretrained=\"$data/text/all-MiniLM-L6-v2\"" --output-dir "$run"
"$bin" export --run "$run" --out "$run/export"
# The four reference sentences and the first reviews of the file (up to 128 tokens each).
"$py" - "$data" > "$out/texts.txt" <<'PY'
import csv, gzip, json, sys
data = sys.argv[1]
print("\n".join(json.load(open(f"{data}/text/reference/minilm_reference.json"))["sentences"]))
with gzip.open(f"{data}/text/movie_reviews.csv.gz", "rt", newline="") as f:
    rows = csv.DictReader(f)
    for i, row in zip(range(12), rows):
        print(" ".join(row["text"].split()))
PY
"$bin" embed --run "$run" --texts "$out/texts.txt" --out "$out/embeddings.json"
"$py" scripts/check_bert_adapter.py "$data/text/all-MiniLM-L6-v2" "$run/export/adapter" "$out/embeddings.json" \
  | tee "$out/check.json"
