#!/usr/bin/env bash
# Train-step benchmark: Burn (flex, ndarray) against PyTorch CPU on the same machine.
#
#   scripts/bench.sh [extra args for the Rust bench, e.g. --steps 200 --phases]
#
# 1. runs `cargo bench --bench train_step --features ndarray` -> target/bench/train_step.json
# 2. runs bench/torch_train_step.py (torch from bench/requirements.txt, installed on first use into
#    target/bench/venv unless `python3 -c 'import torch'` already works or $BENCH_PYTHON is set)
#    -> target/bench/torch_train_step.json
# 3. regenerates docs/benchmarks.md from both JSON files. The text between the
#    `<!-- profile:begin -->` and `<!-- profile:end -->` markers is hand-written and kept.
#
# Environment: STEPS, WARMUP, REPEATS (defaults 100, 20, 7) apply to both sides.
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=${STEPS:-100}
WARMUP=${WARMUP:-20}
REPEATS=${REPEATS:-7}
OUT=target/bench
mkdir -p "$OUT"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
cargo bench --bench train_step --features ndarray -- \
    --steps "$STEPS" --warmup "$WARMUP" --repeats "$REPEATS" --phases --out "$OUT/train_step.json" "$@"

if [[ -n "${BENCH_PYTHON:-}" ]]; then
    PY=$BENCH_PYTHON
elif python3 -c 'import torch' 2>/dev/null; then
    PY=python3
else
    if [[ ! -x "$OUT/venv/bin/python" ]] || ! "$OUT/venv/bin/python" -c 'import torch' 2>/dev/null; then
        python3 -m venv "$OUT/venv"
        "$OUT/venv/bin/pip" install -q -r bench/requirements.txt
    fi
    PY=$OUT/venv/bin/python
fi
"$PY" bench/torch_train_step.py --steps "$STEPS" --warmup "$WARMUP" --repeats "$REPEATS" \
    --out "$OUT/torch_train_step.json"
# One thread as well: OpenMP threads that spin-wait degrade badly when other processes share the
# cores, so this row shows how much of the reference is parallel speed-up (or contention).
"$PY" bench/torch_train_step.py --steps "$STEPS" --warmup "$WARMUP" --repeats "$REPEATS" --threads 1 \
    --out "$OUT/torch_train_step_1thread.json"

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
export LOAD_BEFORE LOAD_AFTER
python3 - "$OUT/train_step.json" "$OUT/torch_train_step.json" "$OUT/torch_train_step_1thread.json" \
    docs/benchmarks.md <<'EOF'
import datetime, json, os, re, subprocess, sys

burn_path, torch_path, torch1_path, md_path = sys.argv[1:]
burn = json.load(open(burn_path))
torch = json.load(open(torch_path))
torch1 = json.load(open(torch1_path))
# The reference is the faster PyTorch run (all cores, or 1 thread when contention spoils that one).
ref_run = max((torch, torch1), key=lambda t: t["steps_per_s"])
ref = ref_run["steps_per_s"]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")

BEGIN, END = "<!-- profile:begin -->", "<!-- profile:end -->"
CLI_BEGIN, CLI_END = "<!-- cli:begin -->", "<!-- cli:end -->"
SPARSE_BEGIN, SPARSE_END = "<!-- sparse:begin -->", "<!-- sparse:end -->"
BERT_BEGIN, BERT_END = "<!-- bert:begin -->", "<!-- bert:end -->"
kept = "\n_Nothing written yet._\n"
cli = "\n_Run scripts/bench_cli.sh._\n"
sparse = "\n_Run `cargo bench --bench sparse`._\n"
bert = "\n_Run scripts/bench_bert.sh._\n"
try:
    old = open(md_path).read()
    m = re.search(re.escape(BEGIN) + "(.*?)" + re.escape(END), old, re.S)
    if m:
        kept = m.group(1)
    m = re.search(re.escape(CLI_BEGIN) + "(.*?)" + re.escape(CLI_END), old, re.S)
    if m:
        cli = m.group(1)
    m = re.search(re.escape(SPARSE_BEGIN) + "(.*?)" + re.escape(SPARSE_END), old, re.S)
    if m:
        sparse = m.group(1)
    m = re.search(re.escape(BERT_BEGIN) + "(.*?)" + re.escape(BERT_END), old, re.S)
    if m:
        bert = m.group(1)
except FileNotFoundError:
    pass

rows = [
    f"| pytorch | torch {t['torch_version']}, {t['threads']} thread(s) | {t['steps_per_s']:.1f} "
    f"| {min(t['repeats_steps_per_s']):.1f} | {t['steps_per_s'] / ref:.2f}x |"
    for t in (torch, torch1)
]
order = {"flex": 0, "ndarray": 1}
for r in sorted(burn["results"], key=lambda r: order.get(r["backend"], 2)):
    rows.append(
        f"| {r['backend']} | `{r['variant']}`: {r['about']} | {r['steps_per_s']:.1f} | {r['slowest_repeat']:.1f} "
        f"| {r['steps_per_s'] / ref:.2f}x |"
    )
phases = [
    f"| {p['backend']} | {p['setup']} | {p['phase']} | {p['ms']:.3f} |"
    for p in sorted(burn.get("phases_ms", []), key=lambda p: order.get(p["backend"], 2))
]
load = float(os.environ.get("LOAD_BEFORE", "0").split()[0] or 0)
warning = (
    f"\n**Warning: the 1-minute load average was {load} before the run started (on {burn['cores']} cores): "
    "other processes competed for the cores, so these numbers are noisy, and PyTorch's multi-threaded row in "
    "particular can collapse (its OpenMP threads spin-wait). Rerun on an otherwise idle machine.**\n"
    if load > 1.0 else ""
)

out = f"""# Benchmarks

Generated by `scripts/bench.sh` (also `just bench`) from `target/bench/train_step.json` and
`target/bench/torch_train_step.json`; do not edit the tables by hand. Only the section between the
profile markers is hand-written, and the script keeps it (and the sparse-inference section, which
`cargo bench --bench sparse` writes, and the MiniLM section, which scripts/bench_bert.sh writes). The PEFT methods (train step, adapted
and merged forward, optimizer state against full fine-tuning) are in
[benchmarks-peft.md](benchmarks-peft.md) (`cargo bench --bench peft`).

{CLI_BEGIN}{cli}{CLI_END}

## Train step: MLP 784-256-256-10, batch 128, Adam, cross-entropy

- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}
- commit: `{commit}`{' (with uncommitted changes)' if dirty else ''}
- CPU: {cpu}; cores (`available_parallelism`): {burn['cores']}; PyTorch threads: {torch['threads']}
- RAYON_NUM_THREADS: {burn.get('rayon_num_threads') or 'unset'}; load average (1, 5, 15 min) before the Burn run:
  {os.environ.get('LOAD_BEFORE', '?')}, after the PyTorch runs: {os.environ.get('LOAD_AFTER', '?')} (the benchmarks
  themselves add up to the core count; a load before the run means other processes shared the cores)
- timing: {burn['warmup']} warm-up steps, then the median of {burn['repeats']} repeats of {burn['steps']} steps
  (Burn: `device.sync()` before each clock stop); 4 fixed random batches generated before timing

| backend | variant | steps/s (median) | slowest repeat | vs PyTorch |
| --- | --- | ---: | ---: | ---: |
{chr(10).join(rows)}

Ratios are against the faster PyTorch row ({ref_run['threads']} thread(s) here; the first row is
`torch.set_num_threads(os.cpu_count())`).
Target: at or above 1.0x PyTorch on the same cores.
{warning}
### Phases of one step (mean ms, a `device.sync()` after every phase)

`plain`: Burn's Adam, default malloc; `malloc+ours`: plasticity's Adam after the malloc tuning.

| backend | setup | phase | ms |
| --- | --- | --- | ---: |
{chr(10).join(phases) if phases else '| - | - | not measured (run with --phases) | - |'}

{SPARSE_BEGIN}{sparse}{SPARSE_END}

{BERT_BEGIN}{bert}{BERT_END}

## Profile
{BEGIN}{kept}{END}
"""
open(md_path, "w").write(out)
print(f"wrote {md_path}")
EOF
