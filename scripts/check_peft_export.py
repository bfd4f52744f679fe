#!/usr/bin/env python3
"""Check plasticity's Hugging Face export against torch + peft (run by hand, not in CI).

    pip install -r scripts/requirements-peft-check.txt
    cargo run -p plasticity-peft --example export_for_python -- target/peft-export
    python scripts/check_peft_export.py target/peft-export

The export directory holds `base.safetensors` (PyTorch layout, keys `hidden.<i>.weight`, ...),
one peft adapter directory per method (any sub-directory with an `adapter_config.json`), and
`io.json` (model config, inputs, plasticity's outputs per method). For each method this script
builds the equivalent torch module, loads the base with a strict `load_state_dict`, loads the
adapter with `PeftModel.from_pretrained` and compares the outputs with plasticity's (max abs
difference <= --tol, default 1e-5). It also checks the base alone, that the adapter changes the
output, and that peft's own `save_pretrained` writes back the same keys, shapes and values.
Exit status 0 when every check passes.

With --write-from-python the other direction is prepared too: peft adapters with random nonzero
weights are saved by peft itself under `<export_dir>/from_python/<method>/` (LoRA with rsLoRA,
MiSS bone, bat and mini, and LoRA with the head in `modules_to_save`) with torch's outputs in `from_python/io.json`; then
`cargo run -p plasticity-peft --example import_from_python -- <export_dir>` imports them with
`plasticity_peft::hf` and compares.
"""

import argparse
import copy
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "silu": nn.SiLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
}


class Mlp(nn.Module):
    """plasticity's `Mlp` with the same attribute names, so state-dict keys equal Burn's paths."""

    def __init__(self, input, hidden, classes, activation="relu"):
        super().__init__()
        widths = [input] + list(hidden)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        self.output = nn.Linear(widths[-1], classes)
        self.act = ACTIVATIONS[activation]()

    def forward(self, x):
        for layer in self.hidden:
            x = self.act(layer(x))
        return self.output(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export_dir", type=Path)
    parser.add_argument("--tol", type=float, default=1e-5)
    parser.add_argument("--write-from-python", action="store_true")
    args = parser.parse_args()

    from peft import PeftModel  # imported late so --help works without peft

    root = args.export_dir
    io = json.loads((root / "io.json").read_text())
    cfg = io["model"]
    x = torch.tensor(np.asarray(io["inputs"], dtype=np.float32))

    base = Mlp(cfg["input"], cfg["hidden"], cfg["classes"], cfg.get("activation", "relu"))
    base.load_state_dict(load_file(root / "base.safetensors"), strict=True)
    base.eval()
    failures = 0

    def report(name, got, expected):
        nonlocal failures
        diff = float(np.max(np.abs(got - expected)))
        ok = diff <= args.tol
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: max |torch - plasticity| = {diff:.3e} (tol {args.tol:g})")

    with torch.no_grad():
        base_out = base(x).numpy()
    report("base", base_out, np.asarray(io["outputs"]["base"], dtype=np.float32))

    methods = sorted(p.parent.name for p in root.glob("*/adapter_config.json"))
    if not methods:
        print("FAIL no adapter directories found")
        return 1
    for method in methods:
        model = PeftModel.from_pretrained(copy.deepcopy(base), root / method)
        model.eval()
        with torch.no_grad():
            got = model(x).numpy()
        expected = np.asarray(io["outputs"][method], dtype=np.float32)
        report(f"{method} ({model.peft_config['default'].peft_type.value})", got, expected)
        if float(np.max(np.abs(expected - base_out))) <= args.tol:
            failures += 1
            print(f"FAIL {method}: the adapter does not change the output; the comparison proves nothing")
        # peft re-saves exactly the tensors plasticity wrote (same keys, shapes and values).
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(tmp)
            resaved = load_file(Path(tmp) / "adapter_model.safetensors")
        ours = load_file(root / method / "adapter_model.safetensors")
        same = resaved.keys() == ours.keys() and all(torch.equal(resaved[k], ours[k]) for k in ours)
        failures += not same
        print(f"{'ok  ' if same else 'FAIL'} {method}: peft's save_pretrained writes the same tensors ({len(ours)} keys)")
    if args.write_from_python:
        write_from_python(base, x, root / "from_python")
    print(f"{3 * len(methods) + 1 - failures} passed, {failures} failed")
    return 1 if failures else 0


def write_from_python(base, x, out):
    """Save peft adapters made in Python (random nonzero weights) and torch's outputs."""
    from peft import LoraConfig, MissConfig, get_peft_model

    targets = ["hidden.0", "output"]
    configs = {
        "lora": LoraConfig(r=4, lora_alpha=8, use_rslora=True, target_modules=targets),
        "miss_bone": MissConfig(r=8, target_modules=targets),
        "miss_bat": MissConfig(r=2, init_weights="bat", target_modules=targets),
        "miss_mini": MissConfig(r=8, mini_r=2, init_weights="mini", target_modules=targets),
        "lora_saved": LoraConfig(r=4, lora_alpha=8, target_modules=["hidden.0"], modules_to_save=["output"]),
    }
    torch.manual_seed(0)
    outputs = {}
    for method, config in configs.items():
        model = get_peft_model(copy.deepcopy(base), config)
        with torch.no_grad():
            for name, param in model.named_parameters():
                if param.requires_grad:  # the adapter tensors and the saved head's copy
                    param.copy_(0.05 * torch.randn_like(param))
        model.eval()
        model.save_pretrained(out / method)
        with torch.no_grad():
            outputs[method] = model(x).tolist()
    (out / "io.json").write_text(json.dumps({"outputs": outputs}))
    print(f"wrote {len(configs)} peft adapters to {out}")


if __name__ == "__main__":
    sys.exit(main())
