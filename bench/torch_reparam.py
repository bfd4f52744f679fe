"""PyTorch CPU reference for benches/reparam.rs: the same models and variants, timed the same way.

MLP 784-256-256-10 and the CNN (conv 5x5 x8 -> pool -> conv 5x5 x16 -> pool -> fc 120 -> 10),
ReLU, batch 128, Adam(lr=1e-3), cross-entropy, 4 fixed random batches used in turn. Variants:
plain; `torch.nn.utils.parametrizations.weight_norm` on every Linear/Conv2d weight (dim=0);
the compander W = s * gamma * sign(u) * log1p(|u| / beta), u = w / s, as a parametrization with
fixed and with learned (gamma, beta) (log-parameterized), initialised through its inverse. Train
steps round-robin over the variants per repeat; the medians (ms per step, ms per forward in
eval mode under no_grad) are printed as JSON and written to --out.

    python bench/torch_reparam.py --out target/bench/torch_reparam.json
"""

import argparse
import copy
import json
import os
import statistics
import time

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

BATCH, INPUT, CLASSES, BATCHES = 128, 784, 10, 4


class Compander(nn.Module):
    """W = s * gamma * sign(u) * log1p(|u| / beta), u = w / s (mu-law, gamma = 1, beta = 0.5)."""

    def __init__(self, weight, learn):
        super().__init__()
        self.scale = weight.pow(2).mean().sqrt().item()
        log_theta = torch.log(torch.tensor([1.0, 0.5]))
        self.log_theta = nn.Parameter(log_theta, requires_grad=learn)

    def forward(self, w):
        gamma, beta = self.log_theta.exp()
        u = w / self.scale
        return self.scale * gamma * torch.sign(u) * torch.log1p(u.abs() / beta)

    def right_inverse(self, weight):
        gamma, beta = self.log_theta.exp().detach()
        v = weight / self.scale
        return self.scale * torch.sign(v) * beta * torch.expm1(v.abs() / gamma)


def mlp():
    return nn.Sequential(nn.Linear(INPUT, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, CLASSES))


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 8, 5), nn.Conv2d(8, 16, 5)
        self.fc, self.output = nn.Linear(16 * 4 * 4, 120), nn.Linear(120, CLASSES)
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        x = x.reshape(-1, 1, 28, 28)
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        return self.output(torch.relu(self.fc(x.flatten(1))))


def variant(model, kind):
    model = copy.deepcopy(model)
    for module in list(model.modules()):
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            if kind == "weight-norm":
                weight_norm(module, name="weight", dim=0)
            elif kind.startswith("compander"):
                parametrize.register_parametrization(module, "weight", Compander(module.weight, kind == "compander-learned"))
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--forwards", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    data = [(torch.rand(BATCH, INPUT) * 2 - 1, torch.randint(0, CLASSES, (BATCH,))) for _ in range(BATCHES)]
    loss_fn = nn.CrossEntropyLoss()
    kinds = ["plain", "weight-norm", "compander", "compander-learned"]
    report = {"batch": BATCH, "steps": args.steps, "repeats": args.repeats, "threads": args.threads, "torch": torch.__version__}
    for name, build in [("mlp", mlp), ("cnn", Cnn)]:
        base = build()
        models = [variant(base, k) for k in kinds]
        optims = [torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-3) for m in models]
        steps = {k: [] for k in kinds}
        for repeat in range(args.repeats + 1):
            for k, model, optim in zip(kinds, models, optims):
                start = time.perf_counter()
                for s in range(args.steps):
                    x, y = data[s % BATCHES]
                    optim.zero_grad(set_to_none=True)
                    loss_fn(model(x), y).backward()
                    optim.step()
                if repeat > 0:
                    steps[k].append((time.perf_counter() - start) * 1e3 / args.steps)
        out = {}
        for k, model in zip(kinds, models):
            model.eval()
            times = []
            with torch.no_grad():
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    for i in range(args.forwards):
                        model(data[i % BATCHES][0])
                    times.append((time.perf_counter() - start) * 1e3 / args.forwards)
            out[k] = {"train_step_ms": statistics.median(steps[k]), "forward_ms": statistics.median(times)}
        report[name] = out
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
