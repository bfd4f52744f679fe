"""PyTorch equivalent of `plasticity train configs/quickstart.toml`, for scripts/bench_cli.sh.

The same data (the bundled MNIST subset: 15,000 training images, 1,500 held out for validation,
the 10,000 test images; pixels scaled to [0, 1] and standardised with MNIST's mean and std), the
same model (MLP 784-256-256-10, ReLU), the same optimizer (Adam, lr 1e-3, eps 1e-8, no weight
decay) and schedule (cosine to 0 over every step, stepped per batch), batch 128 reshuffled every
epoch, 8 epochs, validation after every epoch (batches of 1000), test at the end. Like
plasticity, every training step reads the loss and the correct count back to the host.

Training examples per second are timed as plasticity times them: per epoch from the first
batch to the last optimizer step (batch assembly included, validation excluded).
"""

import argparse
import gzip
import json
import os
import struct
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "crates" / "data" / "bundled"
MEAN, STD = 0.1307, 0.3081


def idx(path: Path) -> torch.Tensor:
    data = gzip.open(path).read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims :]), dtype=torch.uint8).reshape(shape)


def load():
    x = idx(BUNDLED / "train-images-15k-idx3-ubyte.gz").reshape(-1, 784).float() / 255.0
    y = idx(BUNDLED / "train-labels-15k-idx1-ubyte.gz").long()
    xt = idx(BUNDLED / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).float() / 255.0
    yt = idx(BUNDLED / "t10k-labels-idx1-ubyte.gz").long()
    norm = lambda t: (t - MEAN) / STD
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(42))
    valid, train = perm[:1500], perm[1500:]
    return (norm(x[train]), y[train]), (norm(x[valid]), y[valid]), (norm(xt), yt)


def evaluate(model, x, y, batch=1000):
    model.eval()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    loss = correct = 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(x[i : i + batch])
            loss += loss_fn(logits, y[i : i + batch]).item()
            correct += (logits.argmax(1) == y[i : i + batch]).sum().item()
    model.train()
    return loss / len(x), correct / len(x)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out")
    args = parser.parse_args()
    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    (x, y), (xv, yv), (xt, yt) = load()
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    optim = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
    steps_per_epoch = -(-len(x) // args.batch)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=steps_per_epoch * args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    train_seconds = 0.0
    examples = 0
    epochs = []
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(x))
        t0 = time.perf_counter()
        loss_sum = correct = 0.0
        for i in range(0, len(x), args.batch):
            idx_b = order[i : i + args.batch]
            xb, yb = x[idx_b], y[idx_b]
            optim.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optim.step()
            schedule.step()
            loss_sum += loss.item() * len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
            examples += len(yb)
        seconds = time.perf_counter() - t0
        train_seconds += seconds
        valid_loss, valid_acc = evaluate(model, xv, yv)
        epochs.append(
            {
                "epoch": epoch,
                "train_loss": loss_sum / len(x),
                "train_accuracy": correct / len(x),
                "valid_loss": valid_loss,
                "valid_accuracy": valid_acc,
                "train_seconds": seconds,
            }
        )
    test_loss, test_acc = evaluate(model, xt, yt)
    result = {
        "torch_version": torch.__version__,
        "threads": args.threads,
        "train_examples_per_second": examples / train_seconds,
        "test_accuracy": test_acc,
        "wall_seconds": time.perf_counter() - started,
        "epochs": epochs,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "epochs"}))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
