"""PyTorch CPU reference for benches/train_step.rs: the same train step, timed the same way.

MLP 784-256-256-10 (nn.Linear, ReLU), batch 128, Adam(lr=1e-3), CrossEntropyLoss, 4 fixed random
batches used in turn (generated before timing). After `--warmup` steps, `--repeats` runs of
`--steps` steps are timed; the median steps/s is printed as JSON (and written to `--out`).
Run by scripts/bench.sh; requirements in bench/requirements.txt.
"""

import argparse
import json
import os
import statistics
import time

import torch
from torch import nn

BATCH, INPUT, HIDDEN, CLASSES, BATCHES = 128, 784, 256, 10, 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(INPUT, HIDDEN), nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
        nn.Linear(HIDDEN, CLASSES),
    )
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    data = [
        (torch.rand(BATCH, INPUT) * 2 - 1, torch.randint(0, CLASSES, (BATCH,)))
        for _ in range(BATCHES)
    ]

    i = 0

    def step() -> None:
        nonlocal i
        x, y = data[i % BATCHES]
        i += 1
        optim.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optim.step()

    for _ in range(args.warmup):
        step()
    rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        rates.append(args.steps / (time.perf_counter() - start))

    result = {
        "benchmark": "train_step",
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "cores": os.cpu_count(),
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "steps_per_s": statistics.median(rates),
        "repeats_steps_per_s": rates,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
