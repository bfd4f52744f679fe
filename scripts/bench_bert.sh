#!/usr/bin/env bash
# PEFT on MiniLM, plasticity against PyTorch + peft on the same CPU in one run (`just bench-bert`):
# 1. `cargo bench --bench bert` (benches/bert.rs): a training step of all-MiniLM-L6-v2 + head,
#    batch 16 x 128, for full fine-tuning, the frozen encoder, LoRA in activation space and LoRA
#    in weight space -> target/bench/bert.json (and the batch's ids, target/bench/bert_batch.json);
# 2. bench/torch_bert_step.py on the same ids: full fine-tuning, frozen, peft LoRA
#    -> target/bench/torch_bert_step.json;
# 3. rewrites the section of docs/benchmarks.md between `<!-- bert:begin -->` and `<!-- bert:end -->`.
# Needs ../shared/data/text (or PLASTICITY_DATA) and torch, transformers, peft for PYTHON
# (default target/bert-check/venv/bin/python; scripts/requirements-bert-check.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
data="${PLASTICITY_DATA:-$(pwd)/../shared/data}"
py="${PYTHON:-target/bert-check/venv/bin/python}"
mkdir -p target/bench
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
PLASTICITY_DATA="$data" cargo bench -q --bench bert -- --out target/bench/bert.json
"$py" bench/torch_bert_step.py --pretrained "$data/text/all-MiniLM-L6-v2" --out target/bench/torch_bert_step.json
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - target/bench/bert.json target/bench/torch_bert_step.json docs/benchmarks.md "$load_before" "$load_after" <<'PY'
import datetime, json, re, subprocess, sys
ours_path, torch_path, md_path, load_before, load_after = sys.argv[1:]
ours, torch = json.load(open(ours_path)), json.load(open(torch_path))
t = {r["mode"]: r for r in torch["rows"]}
o = {r["mode"]: r for r in ours["rows"]}
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
about = {
    "full": "full fine-tuning",
    "frozen": "frozen encoder, head trained",
    "lora": "LoRA r 8 q/v + head (activation space)",
    "lora-weight": "LoRA r 8 q/v + head (Burn's weight space)",
}
rows = []
for mode, r in o.items():
    ref = t.get("lora" if mode == "lora-weight" else mode)
    vs_torch = f"{ref['seconds_per_step'] / r['seconds_per_step']:.2f}×" if ref else "–"
    torch_s = f"{ref['seconds_per_step']:.3f}" if ref else "–"
    torch_ratio = f"{ref['vs_full']:.2f}×" if ref else "–"
    rows.append(
        f"| {about.get(mode, mode)} | {r['trainable_parameters']:,} | {r['seconds_per_step']:.3f} | {r['vs_full']:.2f}× | "
        f"{torch_s} | {torch_ratio} | {vs_torch} |"
    )
phase_rows = [
    f"| {about.get(r['mode'], r['mode'])} | {r['phases_seconds']['forward_and_loss']:.3f} | {r['phases_seconds']['backward']:.3f} | "
    f"{r['phases_seconds']['optimizer']:.3f} |"
    for r in ours["rows"]
]
section = f"""
## PEFT on MiniLM: training step against full fine-tuning and against PyTorch + peft

Written by `scripts/bench_bert.sh` (`just bench-bert`) from `target/bench/bert.json`
(`cargo bench --bench bert`, benches/bert.rs) and `target/bench/torch_bert_step.json`
(bench/torch_bert_step.py), run one after the other on the same machine: all-MiniLM-L6-v2 with
mean pooling and a 2-class head, batch {ours['batch']} × {ours['sequence_length']} tokens (the same ids on both
sides, every position real), AdamW, cross-entropy; {ours['warmup']} warm-up steps per mode, then the median of
{ours['repeats']} rounds of {ours['steps']} steps, the modes in turn within each round.

- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; commit `{commit}`; CPU: {cpu}
- plasticity: flex, {ours['threads']} threads; PyTorch {torch['torch_version']} ({torch['threads']} threads), transformers
  {torch['transformers_version']}, peft {torch['peft_version']}
- load average (1, 5, 15 min) before: {load_before}; after: {load_after}

| mode | trainable params | plasticity s / step | vs full FT | PyTorch s / step | PyTorch vs full FT | plasticity speed vs PyTorch |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}

Where plasticity's time goes (seconds per step, a sync after each phase, {ours['steps']} steps per mode):

| mode | forward + loss | backward | gradients + AdamW |
| --- | ---: | ---: | ---: |
{chr(10).join(phase_rows)}

"vs full FT" is the mode's step time over full fine-tuning's in the same run (target for LoRA:
≤ 0.7×); the last column is PyTorch's step time over plasticity's (above 1 = plasticity faster).
The weight-space LoRA row is compared with peft's LoRA.
"""
BEGIN, END = "<!-- bert:begin -->", "<!-- bert:end -->"
doc = open(md_path).read()
if BEGIN in doc and END in doc:
    doc = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda m: BEGIN + section + END, doc, flags=re.S)
else:
    doc = doc.rstrip("\n") + "\n\n" + BEGIN + section + END + "\n"
open(md_path, "w").write(doc)
print(section)
PY
