#!/usr/bin/env bash
# Runs the CLI on a GPU device and on flex, side by side, and writes a summary:
#   1. the quickstart (bundled MNIST, MLP 784-256-256-10, 8 epochs);
#   2. every PEFT method specialising that quickstart model to 45°-rotated digits (2 epochs),
#      then `merge` (logit check) and `export` on the same device.
# Every number comes from the results.json / merge output the runs wrote.
#
#   bash scripts/gpu_check.sh BIN DEVICE OUT     e.g. target/release/plasticity cuda /tmp/gpu
#
# BIN must be built with the device's feature (`cargo build --release -p plasticity-cli
# --features cuda`). Writes OUT/<device>/..., OUT/flex/... and OUT/summary.json; prints a table.
set -euo pipefail
bin=$1 device=$2 out=$3
cd "$(dirname "$0")/.."
mkdir -p "$out"
declare -A methods=(
  [taugate]='peft={method="taugate"}'
  [lora-dropout]='peft={method="lora", r=8, alpha=8.0, dropout=0.1, target_modules="all-linear", modules_to_save=["output"]}'
  [miss-bone]='peft={method="miss", r=8, target_modules=["hidden.0","hidden.1","output"]}'
  [miss-bat]='peft={method="miss", r=8, variant="bat", target_modules=["hidden.0","hidden.1"]}'
  [ia3]='peft={method="ia3", target_modules=["hidden.0","hidden.1","output"]}'
  [triadapt]='peft={method="triadapt", reference_rank=8, target_modules=["hidden.0","hidden.1","output"]}'
)
for dev in "$device" flex; do
  base="$out/$dev/quickstart"
  rm -rf "$out/$dev" && mkdir -p "$out/$dev"
  "$bin" -q train configs/quickstart.toml --device "$dev" --output-dir "$base"
  for name in "${!methods[@]}"; do
    dir="$out/$dev/$name"
    "$bin" -q train configs/quickstart.toml --device "$dev" --output-dir "$dir" \
      --set "init_from=\"$base\"" --set "data.rotate_degrees=45.0" --set "train.epochs=2" \
      --set "${methods[$name]}"
    if [ "$name" != taugate ]; then
      "$bin" -q merge --run "$dir" --device "$dev" > "$dir/merge.json"
    fi
    "$bin" -q export --run "$dir" --device "$dev" --out "$dir/export" > /dev/null
  done
done
python3 - "$out" "$device" <<'PY'
import json, sys
from pathlib import Path
out, device = Path(sys.argv[1]), sys.argv[2]
rows = {}
for dev in (device, "flex"):
    for run in sorted((out / dev).iterdir()):
        r = json.loads((run / "results.json").read_text())
        merge = run / "merge.json"
        rows.setdefault(run.name, {})[dev] = {
            "test_accuracy": r["test_accuracy"],
            "wall_seconds": r["wall_seconds"],
            "train_examples_per_second": r["train_examples_per_second"],
            "trainable": r["parameters"]["trainable"],
            "merge_max_abs_diff": json.loads(merge.read_text())["max_abs_diff"] if merge.exists() else None,
        }
(out / "summary.json").write_text(json.dumps(rows, indent=2))
print(f"| run | {device} test acc | flex test acc | {device} s | flex s | trainable | {device} merge max diff |")
print("|---|---|---|---|---|---|---|")
for name, r in rows.items():
    g, f = r[device], r["flex"]
    diff = "–" if g["merge_max_abs_diff"] is None else f"{g['merge_max_abs_diff']:.1e}"
    print(f"| {name} | {g['test_accuracy']:.4f} | {f['test_accuracy']:.4f} | {g['wall_seconds']:.1f} | "
          f"{f['wall_seconds']:.1f} | {g['trainable']:,} | {diff} |")
PY
