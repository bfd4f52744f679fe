#!/usr/bin/env python3
"""Numpy reference values for plasticity-peft (numpy only).

Every formula here is written in PyTorch layout (weight [out, in], y = x W^T + b), following
/work/shared/specs/peft.md sections 2 (MiSS/Bone/Bat/mini), 4.1 (LoRA) and 4.3 (IA3) and
check_formulas.py. The Rust tests transpose to Burn's [in, out] layout themselves, so these
fixtures stay comparable with peft's own tensors.

Run from the repository root:  python3 scripts/peft_reference.py
Writes crates/peft/fixtures/{miss,lora,ia3,triadapt}.json.
"""
import json
import os

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "crates", "peft", "fixtures")
rng = np.random.default_rng(20260223)


def lst(a):
    return np.asarray(a, dtype=np.float64).round(7).tolist()


# ---- MiSS (peft.md 2.3-2.5) ----------------------------------------------------------------
def miss_forward_chunk_sum(x, W, B):
    """peft MissLinear.forward: pad x to a multiple of r, sum the r-wide chunks, multiply by B."""
    r = B.shape[0]
    pad = (r - x.shape[-1] % r) % r
    xp = np.pad(x, [(0, 0), (0, pad)])
    return x @ W.T + xp.reshape(x.shape[0], -1, r).sum(axis=1) @ B


def miss_merged(W, B):
    """W'[o, i] = W[o, i] + B[i mod r, o] (index form, valid for in % r != 0)."""
    i = np.arange(W.shape[1])
    return W + B[i % B.shape[0], :].T


def bat_merged(W, B):
    """peft get_delta_weight (bat): W'_{I,J} = W_{I,J} (I + B_I) + B_I, reshape/permute form."""
    out, d = W.shape
    r = B.shape[-1]
    Wb = W.reshape(out // r, r, d // r, r).transpose(2, 0, 1, 3)
    delta = (Wb @ B + B).transpose(1, 2, 0, 3).reshape(out, d)
    return W + delta


def bat_unmerge(Wm, B):
    out, d = Wm.shape
    r = B.shape[-1]
    Wb = Wm.reshape(out // r, r, d // r, r).transpose(2, 0, 1, 3)
    inv = np.linalg.inv(np.eye(r) + B.astype(np.float32)).astype(np.float64)
    return ((Wb - B) @ inv).transpose(1, 2, 0, 3).reshape(out, d)


def miss_cases():
    cases = []
    for d_in, d_out, r in ((12, 5, 4), (14, 6, 4), (5, 3, 2)):
        W = rng.normal(size=(d_out, d_in))
        B = rng.normal(size=(r, d_out))
        x = rng.normal(size=(3, d_in))
        merged = miss_merged(W, B)
        y = miss_forward_chunk_sum(x, W, B)
        assert np.allclose(y, x @ merged.T)
        cases.append(dict(variant="bone", r=r, mini_r=1, w=lst(W), b=lst(B), x=lst(x),
                          merged=lst(merged), y=lst(y)))
    for d_in, d_out, r, mini_r in ((12, 6, 4, 2), (10, 9, 4, 3)):
        W = rng.normal(size=(d_out, d_in))
        Bm = rng.normal(size=(r, mini_r))
        x = rng.normal(size=(3, d_in))
        B = np.tile(Bm, (1, d_out // mini_r))  # peft: miss_mini.repeat(1, out // mini_r)
        merged = miss_merged(W, B)
        y = miss_forward_chunk_sum(x, W, B)
        cases.append(dict(variant="mini", r=r, mini_r=mini_r, w=lst(W), b=lst(Bm), x=lst(x),
                          merged=lst(merged), y=lst(y)))
    for d_in, d_out, r in ((12, 8, 4), (6, 6, 3)):
        W = rng.normal(size=(d_out, d_in))
        B = 0.1 * rng.normal(size=(d_out // r, r, r))
        x = rng.normal(size=(3, d_in))
        merged = bat_merged(W, B)
        assert np.allclose(bat_unmerge(merged, B), W, atol=1e-5)
        cases.append(dict(variant="bat", r=r, mini_r=1, w=lst(W), b=lst(B), x=lst(x),
                          merged=lst(merged), y=lst(x @ merged.T)))
    return cases


# ---- LoRA (peft.md 4.1) --------------------------------------------------------------------
def lora_cases():
    cases = []
    for d_in, d_out, r, alpha, rslora in ((6, 4, 2, 8.0, False), (6, 4, 2, 8.0, True),
                                          (5, 7, 4, 16.0, True)):
        W = rng.normal(size=(d_out, d_in))
        A = rng.normal(size=(r, d_in))   # peft lora_A.weight [r, in]
        B = rng.normal(size=(d_out, r))  # peft lora_B.weight [out, r]
        scaling = alpha / np.sqrt(r) if rslora else alpha / r
        x = rng.normal(size=(3, d_in))
        merged = W + (B @ A) * scaling
        y = x @ W.T + (x @ A.T @ B.T) * scaling
        assert np.allclose(y, x @ merged.T)
        cases.append(dict(r=r, alpha=alpha, use_rslora=rslora, scaling=float(scaling), w=lst(W),
                          a=lst(A), b=lst(B), x=lst(x), merged=lst(merged), y=lst(y)))
    return cases


# ---- IA3 (peft.md 4.3) ---------------------------------------------------------------------
def ia3_cases():
    cases = []
    for d_in, d_out, ff in ((5, 4, False), (5, 4, True), (3, 6, False)):
        W = rng.normal(size=(d_out, d_in))
        bias = rng.normal(size=(d_out,))
        l = rng.uniform(0.5, 1.5, size=(d_in if ff else d_out,))
        x = rng.normal(size=(3, d_in))
        if ff:   # y = base(x * l); merge W <- W * l per input column
            merged = W * l[None, :]
            y = (x * l) @ W.T + bias
        else:    # y = base(x) * l; merge W <- W * l per output row (peft also scales the bias)
            merged = W * l[:, None]
            y = (x @ W.T + bias) * l
        unmerged = merged / (l[None, :] + 1e-8 if ff else l[:, None] + 1e-8)
        cases.append(dict(feedforward=ff, w=lst(W), bias=lst(bias), l=lst(l), x=lst(x),
                          merged=lst(merged), y_peft=lst(y), y_weight_only=lst(x @ merged.T + bias),
                          unmerged=lst(unmerged)))
    return cases


# ---- TriAdaptLoRA (peft.md 3.2-3.4) -------------------------------------------------------
def triadapt_assemble(C_row, C_col):
    """check_formulas.py `assemble`: L = rows(C_row padded right), U = cols(C_col padded bottom)."""
    R = C_row[-1].shape[1]
    L = np.concatenate([np.pad(c, [(0, 0), (0, R - c.shape[1])]) for c in C_row], 0)
    U = np.concatenate([np.pad(c, [(0, R - c.shape[0]), (0, 0)]) for c in C_col], 1)
    return L, U


def triadapt_cases():
    """Per-increment blocks in the source's layout (A_t [k, in], B_t [out, k], C_row_t [k, R_t],
    C_col_t [R_t, k]); delta = B @ (C @ A) * alpha / (R + 1e-5); orth = [||A A^T - I||_F,
    ||B^T B - I||_F]; c_norm = ||C||_F. Own generator, so the other fixtures do not change."""
    trng = np.random.default_rng(250108008)
    cases = []
    for d_in, d_out, sizes, alpha in ((6, 4, (1, 3, 5), 8.0), (5, 7, (2, 4), 16.0)):
        A, B, C_row, C_col, prev = [], [], [], [], 0
        for s in sizes:
            k = s - prev
            A.append(trng.normal(size=(k, d_in)))
            B.append(trng.normal(size=(d_out, k)))
            C_row.append(trng.normal(size=(k, s)))
            C_col.append(trng.normal(size=(s, k)))
            prev = s
        L, U = triadapt_assemble(C_row, C_col)
        C = L + U
        A_all, B_all, R = np.concatenate(A, 0), np.concatenate(B, 1), sizes[-1]
        delta = B_all @ (C @ A_all) * alpha / (R + 1e-5)
        W = trng.normal(size=(d_out, d_in))
        x = trng.normal(size=(3, d_in))
        eye = np.eye(R)
        orth = [float(np.linalg.norm(A_all @ A_all.T - eye)), float(np.linalg.norm(B_all.T @ B_all - eye))]
        cases.append(dict(d_in=d_in, d_out=d_out, sizes=list(sizes), alpha=alpha,
                          a=[lst(a) for a in A], b=[lst(b) for b in B], c_row=[lst(c) for c in C_row],
                          c_col=[lst(c) for c in C_col], l=lst(L), u=lst(U), c=lst(C), delta=lst(delta),
                          w=lst(W), merged=lst(W + delta), x=lst(x), y=lst(x @ (W + delta).T),
                          c_norm=float(np.linalg.norm(C)), orth=orth))
    return cases


def triadapt_schedule():
    """Dynamic-threshold count n (peft.md 3.4): linear int(rem * m), exponential
    int(exp(m * ln(rem))), clamped to [1, n_layers]. Python float semantics (8 ** 1.0 -> 7)."""
    import math
    out = []
    for growth, rem, m, n_layers in (("linear", 20, 0.25, 8), ("linear", 20, 0.01, 8), ("linear", 100, 0.5, 8),
                                     ("linear", 7, 0.3, 4), ("exponential", 20, 0.5, 8),
                                     ("exponential", 8, 1.0, 8), ("exponential", 1000, 0.1, 8),
                                     ("exponential", 2, 0.0, 4), ("exponential", 30, 0.75, 16)):
        n = int(rem * m) if growth == "linear" else int(math.exp(m * math.log(rem)))
        out.append(dict(growth=growth, remaining=rem, m=m, n_layers=n_layers, n=max(1, min(n, n_layers))))
    return out


def write_triadapt():
    path = os.path.join(OUT_DIR, "triadapt.json")
    with open(path, "w") as f:
        json.dump({"source": "scripts/peft_reference.py", "layout": "pytorch [out, in]",
                   "cases": triadapt_cases(), "schedule": triadapt_schedule()}, f, indent=1)
    print("wrote", os.path.normpath(path))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, cases in (("miss", miss_cases()), ("lora", lora_cases()), ("ia3", ia3_cases())):
        path = os.path.join(OUT_DIR, f"{name}.json")
        with open(path, "w") as f:
            json.dump({"source": "scripts/peft_reference.py", "layout": "pytorch [out, in]",
                       "cases": cases}, f, indent=1)
        print("wrote", os.path.normpath(path), len(cases), "cases")
    write_triadapt()


if __name__ == "__main__":
    main()
