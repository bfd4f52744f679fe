#!/usr/bin/env bash
# wgpu smoke training: the same short run on flex and on wgpu must give the same losses within a
# tolerance, and the pretrained MiniLM encoder's forward on wgpu must match flex's within 1e-4
# (tests/wgpu_smoke.rs; the second needs ../shared/data/text). On a CPU-only machine wgpu runs on Mesa's lavapipe software
# Vulkan (Debian package mesa-vulkan-drivers); without it wgpu falls back to OpenGL and can panic.
# Records the last result, with date and commit, in docs/backends.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PLASTICITY_DATA="${PLASTICITY_DATA:-$(pwd)/../shared/data}"
if ! dpkg -s mesa-vulkan-drivers >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq mesa-vulkan-drivers >/dev/null
fi
log=$(mktemp)
start=$(date +%s)
status=passed
cargo test --features wgpu --test wgpu_smoke -- --nocapture 2>&1 | tee "$log" || status=failed
secs=$(( $(date +%s) - start ))
result=$(grep -E '^(epoch|test accuracy|bert forward)' "$log" | sed 's/^/    /' || true)
adapter=$(vulkaninfo --summary 2>/dev/null | grep -m1 deviceName | sed 's/.*= //' || echo "unknown (vulkaninfo not installed)")
python3 - "$status" "$secs" "$adapter" "$result" <<'PY'
import sys, datetime, subprocess, re
status, secs, adapter, result = sys.argv[1:5]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
block = (f"<!-- wgpu-smoke:begin -->\nLast run: {datetime.date.today()} at commit `{commit}`: **{status}** "
         f"in {secs} s (build included), Vulkan adapter: {adapter}.\n\n```\n{result}\n```\n<!-- wgpu-smoke:end -->")
path = "docs/backends.md"
text = open(path).read()
text = re.sub(r"<!-- wgpu-smoke:begin -->.*<!-- wgpu-smoke:end -->", lambda _: block, text, flags=re.S)
open(path, "w").write(text)
PY
rm -f "$log"
[ "$status" = passed ]
