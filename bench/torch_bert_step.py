"""PyTorch + peft reference for benches/bert.rs: the same MiniLM training step, timed the same way.

all-MiniLM-L6-v2 (transformers' BertModel, eager attention, no pooler) with mean pooling and a
linear head of 2 classes, batch 16 x 128 tokens (the ids benches/bert.rs wrote to
target/bench/bert_batch.json, every position real), AdamW, CrossEntropyLoss. Modes:
- full: every parameter trains (lr 5e-5);
- frozen: the encoder frozen (requires_grad_(False)), the head trained (lr 1e-3);
- lora: peft's LoraConfig(r=8, lora_alpha=16, target_modules=["query", "value"],
  modules_to_save=["classifier"]) through get_peft_model (lr 1e-3).
After `--warmup` steps per mode, `--repeats` rounds time `--steps` steps of each mode in turn; the
median seconds per step per mode are printed as JSON (and written to `--out`).
Run by scripts/bench_bert.sh; requirements in scripts/requirements-bert-check.txt.
"""

import argparse
import copy
import json
import os
import statistics
import time

import torch
from torch import nn


class Classifier(nn.Module):
    def __init__(self, bert, classes=2):
        super().__init__()
        self.bert = bert
        self.classifier = nn.Linear(bert.config.hidden_size, classes)

    def forward(self, input_ids, attention_mask):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return self.classifier((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pretrained", required=True)
    parser.add_argument("--batch", default="target/bench/bert_batch.json")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--out")
    args = parser.parse_args()

    import peft
    import transformers
    from peft import LoraConfig, get_peft_model
    from transformers import BertModel

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batch = json.load(open(args.batch))
    ids = torch.tensor(batch["input_ids"])
    mask = torch.ones_like(ids)
    labels = torch.tensor(batch["labels"])
    bert = BertModel.from_pretrained(args.pretrained, add_pooling_layer=False, attn_implementation="eager")
    base = Classifier(bert).train()
    loss_fn = nn.CrossEntropyLoss()

    modes = {}
    full = copy.deepcopy(base)
    modes["full"] = (full, torch.optim.AdamW(full.parameters(), lr=5e-5))
    frozen = copy.deepcopy(base)
    frozen.bert.requires_grad_(False)
    modes["frozen"] = (frozen, torch.optim.AdamW([p for p in frozen.parameters() if p.requires_grad], lr=1e-3))
    lora = get_peft_model(
        copy.deepcopy(base),
        LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["query", "value"], modules_to_save=["classifier"]),
    )
    modes["lora"] = (lora, torch.optim.AdamW([p for p in lora.parameters() if p.requires_grad], lr=1e-3))

    def step(model, optim):
        optim.zero_grad(set_to_none=True)
        loss = loss_fn(model(ids, mask), labels)
        loss.backward()
        optim.step()

    for model, optim in modes.values():
        for _ in range(args.warmup):
            step(model, optim)
    times = {name: [] for name in modes}
    for _ in range(args.repeats):
        for name, (model, optim) in modes.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                step(model, optim)
            times[name].append((time.perf_counter() - start) / args.steps)
    full_s = statistics.median(times["full"])
    rows = []
    for name, (model, _) in modes.items():
        s = statistics.median(times[name])
        rows.append({
            "mode": name,
            "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "seconds_per_step": s,
            "slowest_repeat": max(times[name]),
            "vs_full": s / full_s,
        })
    out = {
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "peft_version": peft.__version__,
        "threads": torch.get_num_threads(),
        "batch": int(ids.shape[0]),
        "sequence_length": int(ids.shape[1]),
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "rows": rows,
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        open(args.out, "w").write(text)


if __name__ == "__main__":
    main()
