#!/usr/bin/env bash
# The CLI training path against PyTorch: `plasticity train configs/quickstart.toml` (release,
# flex) against bench/torch_cli_path.py, the same run written in PyTorch, alternated REPEATS times
# on the same machine. With OLD_BIN=<a plasticity binary built from an earlier commit> the earlier
# binary runs too (the "before" column); the script prints how to build one.
#
#   OLD_BIN=/tmp/old-target/release/plasticity scripts/bench_cli.sh
#
# Writes target/bench/cli.json and the section between `<!-- cli:begin -->` and
# `<!-- cli:end -->` of docs/benchmarks.md. Run it on an otherwise idle machine: PyTorch's OpenMP
# threads spin-wait and collapse when other processes share the cores.
set -euo pipefail
cd "$(dirname "$0")/.."

REPEATS=${REPEATS:-3}
OUT=target/bench/cli
mkdir -p "$OUT"
rm -rf "$OUT"/runs
cargo build --release -q -p plasticity-cli
NEW=target/release/plasticity

if [[ -n "${BENCH_PYTHON:-}" ]]; then
    PY=$BENCH_PYTHON
elif python3 -c 'import torch' 2>/dev/null; then
    PY=python3
else
    if [[ ! -x target/bench/venv/bin/python ]] || ! target/bench/venv/bin/python -c 'import torch' 2>/dev/null; then
        python3 -m venv target/bench/venv
        target/bench/venv/bin/pip install -q -r bench/requirements.txt
    fi
    PY=target/bench/venv/bin/python
fi
if [[ -n "${OLD_BIN:-}" && ! -x "$OLD_BIN" ]]; then
    echo "OLD_BIN=$OLD_BIN is not an executable" >&2
    exit 1
fi
[[ -n "${OLD_BIN:-}" ]] || echo "(no OLD_BIN: build one with 'git worktree add /tmp/old <commit> && \
(cd /tmp/old && CARGO_TARGET_DIR=/tmp/old-target cargo build --release -p plasticity-cli)')"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$REPEATS"); do
    "$NEW" -q train configs/quickstart.toml --output-dir "$OUT/runs/after-$r"
    "$NEW" -q train configs/quickstart.toml --output-dir "$OUT/runs/after-burn-$r" \
        --set 'optimizer.implementation="burn"'
    if [[ -n "${OLD_BIN:-}" ]]; then
        "$OLD_BIN" -q train configs/quickstart.toml --output-dir "$OUT/runs/before-$r"
    fi
    "$PY" bench/torch_cli_path.py --out "$OUT/runs/torch-$r.json" > /dev/null
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
export LOAD_BEFORE LOAD_AFTER REPEATS
OLD_COMMIT=$( [[ -n "${OLD_BIN:-}" ]] && "$OLD_BIN" --version 2>/dev/null || true)
export OLD_COMMIT

python3 - "$OUT" docs/benchmarks.md <<'EOF'
import datetime, glob, json, os, re, statistics, subprocess, sys

out, md_path = sys.argv[1:]
def runs(pattern):
    found = []
    for path in sorted(glob.glob(os.path.join(out, "runs", pattern))):
        f = path if path.endswith(".json") else os.path.join(path, "results.json")
        found.append(json.load(open(f)))
    return found

variants = [
    ("after", "plasticity train (this commit): plasticity's Adam", runs("after-[0-9]*")),
    ("after-burn", "plasticity train (this commit): Burn's Adam (`implementation = \"burn\"`)", runs("after-burn-*")),
    ("before", "plasticity train (before the Method API, OLD_BIN)", runs("before-*")),
]
torch = runs("torch-*.json")
med = lambda rs: statistics.median(r["train_examples_per_second"] for r in rs)
listed = lambda rs: ", ".join(format(r["train_examples_per_second"], ",.0f") for r in rs)
accuracy = lambda rs: statistics.median(r["test_accuracy"] for r in rs)
ref = med(torch)
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
cores = os.cpu_count()
rows = [f"| PyTorch {torch[0]['torch_version']}, {torch[0]['threads']} threads | {ref:,.0f} | "
        f"{listed(torch)} | 1.00x | {accuracy(torch):.4f} |"]
summary = {"reference_examples_per_second": ref, "variants": {}}
for key, about, rs in variants:
    if not rs:
        continue
    m = med(rs)
    rows.append(f"| {about} | {m:,.0f} | {listed(rs)} | {m / ref:.2f}x | {accuracy(rs):.4f} |")
    summary["variants"][key] = {"examples_per_second": m, "ratio_to_pytorch": m / ref,
                                "repeats": [r["train_examples_per_second"] for r in rs]}
summary.update({"cores": cores, "cpu": cpu, "load_before": os.environ["LOAD_BEFORE"],
                "load_after": os.environ["LOAD_AFTER"], "commit": commit})
json.dump(summary, open(os.path.join(out, "..", "cli.json"), "w"), indent=2)
load = float(os.environ["LOAD_BEFORE"].split()[0])
warning = (f"\n**The 1-minute load average was {load} before the runs started: other processes shared the "
           f"cores, so these figures are noisy. Rerun on an idle machine.**\n" if load > 1.0 else "")
section = f"""
## The CLI training path against PyTorch

`scripts/bench_cli.sh` (with `OLD_BIN` for the "before" row): `plasticity -q train
configs/quickstart.toml` (release, flex; MLP 784-256-256-10, batch 128, Adam, cosine schedule, 8
epochs on the bundled 13,500 training images, validation every epoch) against
`bench/torch_cli_path.py`, the same run in PyTorch (same data, model, optimizer, schedule, batch,
per-step host reads of loss and accuracy). Each alternated {os.environ['REPEATS']} times in one
run; training examples per second as `results.json` reports them (per epoch, from the first batch
to the last optimizer step; validation excluded), median over the repeats.

- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; commit `{commit}`{' (with uncommitted changes)' if dirty else ''}
- CPU: {cpu}; cores: {cores}; load average before / after: {os.environ['LOAD_BEFORE']} / {os.environ['LOAD_AFTER']}

| run | train examples/s (median) | repeats | vs PyTorch | test accuracy |
| --- | ---: | --- | ---: | ---: |
{chr(10).join(rows)}
{warning}"""
BEGIN, END = "<!-- cli:begin -->", "<!-- cli:end -->"
text = open(md_path).read()
block = BEGIN + section + END
if BEGIN in text:
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
else:
    marker = "## Train step:"
    text = text.replace(marker, block + "\n\n" + marker, 1) if marker in text else text + "\n" + block + "\n"
open(md_path, "w").write(text)
print(section)
EOF
