#!/usr/bin/env python3
"""Check a weight-norm run's export against torch.nn.utils.parametrizations.weight_norm (run by
hand, not in CI).

    pip install -r scripts/requirements-peft-check.txt      # torch, safetensors, numpy
    plasticity train configs/quickstart.toml --output-dir runs/wn-mlp \\
        --set 'reparam={ method = "weight-norm", data_init = true }'
    plasticity export --run runs/wn-mlp
    python scripts/check_weight_norm_export.py runs/wn-mlp --mnist ../shared/data/mnist

The run's `config.toml` gives the model (the MLP or the CNN, with the same attribute names as
plasticity's, so state-dict keys equal Burn's paths) and `[reparam] norm` ("output" is PyTorch's
`dim=0`, "whole" its `dim=None`). The script registers `weight_norm` on every layer that
`export/weight_norm.safetensors` holds `<layer>.parametrizations.weight.original0/1` for, loads
the file with a strict `load_state_dict`, and checks:

1. every parametrized weight equals the baked one in `export/base.safetensors` (max abs
   difference <= --tol, default 1e-5), and so do the logits of the two torch models on the
   10,000 MNIST test images (relative to the largest logit, f32 rounding);
2. the parametrized model's test accuracy equals the one the run reported in results.json
   (same images, same preprocessing: pixels / 255, then (x - 0.1307) / 0.3081 when
   `data.normalize`);
3. a gradient step in torch moves `original0` (g) and `original1` (v), as both train.

Exit status 0 when every check passes.
"""

import argparse
import gzip
import json
import sys
import tomllib
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from check_peft_export import ACTIVATIONS, Mlp  # plasticity's MLP, with its attribute names

class Cnn(nn.Module):
    """plasticity's `Cnn`: conv 5×5 → act → max-pool 2 (×2), flatten [c, h, w], fc → act, output."""

    def __init__(self, m):
        super().__init__()
        c1, c2 = m.get("channels", [6, 16])
        side = m.get("side", 28)
        feature = ((side - 4) // 2 - 4) // 2
        self.side = side
        self.conv1 = nn.Conv2d(1, c1, 5)
        self.conv2 = nn.Conv2d(c1, c2, 5)
        self.fc = nn.Linear(c2 * feature * feature, m.get("hidden", 120))
        self.output = nn.Linear(m.get("hidden", 120), m.get("classes", 10))
        self.act = ACTIVATIONS[m.get("activation", "relu")]()
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        x = x.reshape(-1, 1, self.side, self.side)
        x = self.pool(self.act(self.conv1(x)))
        x = self.pool(self.act(self.conv2(x)))
        x = self.act(self.fc(x.flatten(1)))
        return self.output(x)


def build(model_config):
    kind = model_config.get("kind", "mlp")
    if kind == "mlp":
        m = model_config
        return Mlp(m.get("input", 784), m.get("hidden", [256, 256]), m.get("classes", 10), m.get("activation", "relu"))
    if kind == "cnn":
        return Cnn(model_config)
    sys.exit(f"model.kind = {kind!r}: this script knows the mlp and the cnn")


def idx(path):
    data = gzip.open(path).read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="run directory (with export/ from `plasticity export`)")
    parser.add_argument("--mnist", type=Path, default=Path("../shared/data/mnist"), help="folder with t10k-*.gz")
    parser.add_argument("--tol", type=float, default=1e-5)
    args = parser.parse_args()

    config = tomllib.loads((args.run / "config.toml").read_text())
    reparam = config.get("reparam", {})
    if reparam.get("method") != "weight-norm":
        sys.exit(f"{args.run}: its config has no [reparam] method = \"weight-norm\"")
    dim = None if reparam.get("norm", "output") == "whole" else 0
    export = args.run / "export"
    state = load_file(export / "weight_norm.safetensors")
    layers = sorted({k.split(".parametrizations.")[0] for k in state if ".parametrizations." in k})
    print(f"weight-normalized layers: {layers} (dim={dim})")

    model = build(config["model"])
    for name in layers:
        weight_norm(model.get_submodule(name), name="weight", dim=dim)
    model.load_state_dict(state, strict=True)
    model.eval()
    plain = build(config["model"])
    plain.load_state_dict(load_file(export / "base.safetensors"), strict=True)
    plain.eval()

    failures = []

    def check(name, ok, detail):
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        if not ok:
            failures.append(name)

    for name in layers:
        ours = model.get_submodule(name).weight
        baked = plain.get_submodule(name).weight
        diff = (ours - baked).abs().max().item()
        check(f"{name}.weight", diff <= args.tol, f"max |weight_norm(g, v) - baked| = {diff:.2e}")

    images = idx(args.mnist / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0
    labels = idx(args.mnist / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    if config.get("data", {}).get("normalize", True):
        images = (images - np.float32(0.1307)) / np.float32(0.3081)
    x = torch.from_numpy(images)
    with torch.no_grad():
        logits = model(x)
        diff = (logits - plain(x)).abs().max().item()
    scale = max(1.0, logits.abs().max().item())
    check("logits", diff <= args.tol * scale, f"max |parametrized - baked| over {len(x)} test images = {diff:.2e} (max |logit| {scale:.1f})")
    accuracy = (logits.argmax(1).numpy() == labels).mean()
    reported = json.loads((args.run / "results.json").read_text()).get("test_accuracy")
    check("test accuracy", reported is not None and abs(accuracy - reported) < 1e-9, f"torch {accuracy:.4f}, plasticity {reported}")

    # g and v both train.
    model.train()
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    loss = nn.functional.cross_entropy(model(x[:256]), torch.from_numpy(labels[:256]))
    loss.backward()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    for name in layers:
        for field in ("original0", "original1"):
            key = f"{name}.parametrizations.weight.{field}"
            moved = (dict(model.named_parameters())[key] - before[key]).abs().max().item()
            check(f"{key} trains", moved > 0, f"max change {moved:.2e}")

    print("all checks passed" if not failures else f"{len(failures)} checks failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
