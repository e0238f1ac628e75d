#!/usr/bin/env python3
"""Fused against unfused attention, side by side with onnxruntime.

For each sequence length (default 16 to 2048) one attention block,
softmax(Q K^T / sqrt(64) [+ causal mask]) V over Q, K, V [1, 12, S, 64], is
written in torch the way models spell it (matmul, div, masked_fill,
softmax, matmul) and exported with the TorchScript exporter at opset 17.
loom times it with `loom bench --json` at -O3 (fuse-attention on: one
FusedAttention node, loomrt_attention's tiled online softmax) and at -O3
--disable-pass=fuse-attention (MatMul, FusedElementwise, Softmax, MatMul
over the full [12, S, S] scores), on the C backend (and the JIT with
--jit), one thread; onnxruntime runs the same model single-threaded in
this process. The table gives minimum latencies over the runs (on a
shared, loaded machine the minimum is the stable statistic; medians move
2-5x with the load), the ratios fused/unfused and fused/onnxruntime
(below 1: fused is faster), and each loom build's workspace (arena)
bytes. Compare the ratios of one run.

    python3 bench/attention_bench.py
    python3 bench/attention_bench.py --seqs 16,128,1024 --causal --jit

Needs torch, onnx, onnxruntime (scripts/install-py.sh).
"""

import argparse
import os
import sys
import tempfile

import numpy as np

from bench import time_loom, time_ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADS, HEAD_DIM = 12, 64


def export(path, seq, causal):
    import torch

    class Attention(torch.nn.Module):
        def forward(self, q, k, v):
            s = torch.matmul(q, k.transpose(-1, -2)) / (HEAD_DIM ** 0.5)
            if causal:
                keep = torch.tril(torch.ones(seq, seq, dtype=torch.bool))
                s = s.masked_fill(~keep, float("-inf"))
            return torch.matmul(torch.softmax(s, dim=-1), v)

    x = torch.zeros(1, HEADS, seq, HEAD_DIM)
    torch.onnx.export(Attention(), (x, x, x), path, input_names=["q", "k", "v"],
                      output_names=["y"], opset_version=17, dynamo=False)


def time_attention(loom, path, inputs, runs, backend, fused):
    extra = [f"--backend={backend}"] + ([] if fused else ["--disable-pass=fuse-attention"])
    return time_loom(loom, path, inputs, runs, extra=extra)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--loom", default=os.path.join(ROOT, "build", "loom"))
    ap.add_argument("--seqs", default="16,32,64,128,256,512,1024,2048")
    ap.add_argument("--causal", action="store_true", help="GPT-style causal mask")
    ap.add_argument("--jit", action="store_true", help="also time the JIT backend")
    args = ap.parse_args()
    backends = ["c", "jit"] if args.jit else ["c"]
    print(f"attention, 1 x {HEADS} heads x S x {HEAD_DIM}, causal={args.causal}, one thread")
    print(f"{'S':>5} {'backend':>7} {'fused_ms':>9} {'unfused_ms':>10} {'ort_ms':>9} "
          f"{'fused/unf':>9} {'fused/ort':>9} {'fused_ws':>12} {'unfused_ws':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for seq in [int(s) for s in args.seqs.split(",")]:
            path = os.path.join(tmp, f"attn_{seq}.onnx")
            export(path, seq, args.causal)
            rng = np.random.default_rng(seq)
            feeds, inputs = {}, {}
            for name in "qkv":
                a = rng.uniform(-1, 1, (1, HEADS, seq, HEAD_DIM)).astype(np.float32)
                feeds[name] = a
                inputs[name] = os.path.join(tmp, f"{name}_{seq}.npy")
                np.save(inputs[name], a)
            runs = max(3, min(50, int(2e4 / seq)))
            ort_ms = time_ort(path, feeds, runs, stat=np.min)
            for b in backends:
                fu = time_attention(args.loom, path, inputs, runs, b, True)
                un = time_attention(args.loom, path, inputs, runs, b, False)
                print(f"{seq:>5} {b:>7} {fu['min_ms']:>9.3f} {un['min_ms']:>10.3f} "
                      f"{ort_ms:>9.3f} {fu['min_ms'] / un['min_ms']:>9.3f} "
                      f"{fu['min_ms'] / ort_ms:>9.3f} {fu['workspace_bytes']:>12} "
                      f"{un['workspace_bytes']:>12}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
