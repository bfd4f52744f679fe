#!/usr/bin/env python3
"""Load plasticity's LoRA adapter for all-MiniLM-L6-v2 with Hugging Face peft (run by hand, not in CI).

    bash scripts/check_bert_adapter.sh        # trains the headless adapter, exports it, runs this

Arguments: the pretrained folder, the exported adapter folder (adapter_config.json and
adapter_model.safetensors written by `plasticity export`), and the JSON written by
`plasticity embed` (texts and plasticity's pooled embeddings of the trained run).

Checks, each a failure (exit status 1) when it does not hold:
- `PeftModel.from_pretrained(BertModel.from_pretrained(folder), adapter)` loads without a warning
  from peft (its missing- or unexpected-key warnings, and any other it raises, are errors; a
  transformers deprecation notice is printed) and every adapter
  tensor in the file lands in a `lora_A`/`lora_B` weight of the model;
- the peft model's mean-pooled embeddings of the texts (tokenized by transformers from the same
  folder, truncated to 128) equal plasticity's within --tol (default 1e-4) per element;
- they differ from the base model's by more than 1e-3 somewhere (the adapter is not a no-op).
Prints a JSON summary.
"""

import argparse
import json
import logging
import sys
import warnings

import torch
from safetensors.torch import load_file


def mean_pool(hidden, mask):
    mask = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def embed(model, tokenizer, texts, max_length):
    out = []
    with torch.no_grad():
        for text in texts:
            enc = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt")
            hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
            out.append(mean_pool(hidden, enc["attention_mask"])[0])
    return torch.stack(out)


class RaiseOnWarning(logging.Handler):
    def emit(self, record):
        raise RuntimeError(f"{record.name}: {record.getMessage()}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pretrained")
    parser.add_argument("adapter")
    parser.add_argument("embeddings")
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--max-length", type=int, default=128)
    args = parser.parse_args()

    from peft import PeftModel
    from transformers import AutoTokenizer, BertModel

    torch.manual_seed(0)
    ours = json.load(open(args.embeddings))
    texts, expected = ours["texts"], torch.tensor(ours["embeddings"], dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(args.pretrained)
    base = BertModel.from_pretrained(args.pretrained, add_pooling_layer=False).eval()
    base_emb = embed(base, tokenizer, texts, args.max_length)

    # peft's warnings about the adapter's keys (missing or unexpected) are errors, whether they
    # come through `warnings` or peft's logger; other warnings (deprecations) are printed.
    handler = RaiseOnWarning(level=logging.WARNING)
    logging.getLogger("peft").addHandler(handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = PeftModel.from_pretrained(base, args.adapter).eval()
    logging.getLogger("peft").removeHandler(handler)
    for w in caught:
        message = str(w.message)
        if "key" in message.lower() or w.filename.find("/peft/") >= 0:
            sys.exit(f"FAIL: peft warned while loading the adapter: {message}")
        print(f"note: {w.category.__name__}: {message}", file=sys.stderr)

    # Every tensor of the file is in the model, with its value.
    saved = load_file(f"{args.adapter}/adapter_model.safetensors")
    state = model.state_dict()
    loaded = 0
    for key, value in saved.items():
        name = key.replace(".lora_A.weight", ".lora_A.default.weight").replace(".lora_B.weight", ".lora_B.default.weight")
        if name not in state:
            sys.exit(f"FAIL: adapter tensor {key} is not in the peft model (looked for {name})")
        if not torch.equal(state[name], value):
            sys.exit(f"FAIL: {name} differs from the file's {key}")
        loaded += 1

    peft_emb = embed(model, tokenizer, texts, args.max_length)
    diff = (peft_emb - expected).abs().max().item()
    changed = (peft_emb - base_emb).abs().max().item()
    summary = {
        "texts": len(texts),
        "adapter_tensors": loaded,
        "max_abs_diff_vs_plasticity": diff,
        "max_abs_change_vs_base": changed,
        "tol": args.tol,
        "torch": torch.__version__,
        "peft": __import__("peft").__version__,
        "transformers": __import__("transformers").__version__,
    }
    print(json.dumps(summary, indent=2))
    if diff > args.tol:
        sys.exit(f"FAIL: peft's embeddings differ from plasticity's by {diff:.3g} > {args.tol}")
    if changed <= 1e-3:
        sys.exit(f"FAIL: the adapter changes the base embeddings by only {changed:.3g}")
    print("OK: peft loads the adapter on BertModel and reproduces plasticity's embeddings")


if __name__ == "__main__":
    main()
