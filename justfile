# Convenience recipes; each is a plain cargo command you can run without just.

# Train the quickstart config on the bundled MNIST subset.
quickstart:
    cargo run --release -p plasticity-cli -- train configs/quickstart.toml

# The test suite (flex). Tests that need the full MNIST files (../shared/data or $PLASTICITY_DATA)
# are ignored by `cargo test --workspace`; this recipe runs them too.
test:
    cargo test --workspace -- --include-ignored

# What CI runs.
ci:
    bash .ci/run

# Train-step benchmark: flex and ndarray against PyTorch; writes docs/benchmarks.md.
bench:
    bash scripts/bench.sh

# Short training on wgpu (lavapipe's software Vulkan on CPU machines) compared with flex.
wgpu-smoke:
    bash scripts/wgpu_smoke.sh

# Full MNIST MLP experiment (writes experiments/mnist-mlp/results.json).
mnist-mlp:
    cargo run --release -p plasticity-cli -- train configs/mnist-mlp.toml --data-dir ${PLASTICITY_DATA:-../shared/data} --output-dir experiments/mnist-mlp/run

# MiniLM training step: plasticity (full FT, frozen, LoRA) against PyTorch + peft; writes docs/benchmarks.md.
bench-bert:
    bash scripts/bench_bert.sh

# The peft round trip on MiniLM: a headless LoRA adapter loaded by PeftModel on transformers' BertModel.
bert-peft-check:
    bash scripts/check_bert_adapter.sh

# The MiniLM sentiment experiment (frozen encoder, full FT, LoRA, TauGate): results.md, results.json.
minilm-sentiment:
    bash experiments/minilm-sentiment/run.sh
