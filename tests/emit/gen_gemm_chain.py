#!/usr/bin/env python3
"""Writes a synthetic model for the weights benchmark (bench_weights.sh):
LAYERS dense layers of WIDTH x WIDTH (Gemm, transB = 1, with bias) and a
ReLU after each but the last, on an input x [1, WIDTH], as OUT/model.json
and OUT/model.safetensors. The weights are WIDTH * (WIDTH + 1) * 4 bytes
per layer (about 1 MiB at the default WIDTH 512), from a fixed seed, so the
files are the same on every run.

usage: gen_gemm_chain.py OUT LAYERS [WIDTH]
"""
import json
import os
import struct
import sys

import numpy as np


def write_safetensors(path, tensors):
    """Minimal safetensors writer: JSON header (padded to 8 bytes), data."""
    header, offset = {}, 0
    for name, a in tensors:
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, a in tensors:
            f.write(a.astype("<f4").tobytes())


def main():
    out, layers = sys.argv[1], int(sys.argv[2])
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 512
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20240607 + layers)
    tensors, nodes, x = [], [], "x"
    for k in range(layers):
        w = (rng.standard_normal((width, width)) * np.sqrt(2.0 / width)).astype(np.float32)
        b = (rng.standard_normal(width) * 0.01).astype(np.float32)
        tensors += [(f"fc{k}.weight", w), (f"fc{k}.bias", b)]
        y = f"fc{k}"
        nodes.append({"op": "Gemm", "name": y, "inputs": [x, f"fc{k}.weight", f"fc{k}.bias"],
                      "outputs": [y], "attrs": {"transB": 1}})
        x = y
        if k + 1 < layers:
            nodes.append({"op": "Relu", "name": f"relu{k}", "inputs": [y], "outputs": [f"relu{k}"]})
            x = f"relu{k}"
    model = {"format": "loom-graph", "version": 1, "name": f"gemm_chain{layers}",
             "inputs": [{"name": "x", "dtype": "f32", "shape": [1, width]}],
             "outputs": [x], "weights": "model.safetensors", "nodes": nodes}
    with open(os.path.join(out, "model.json"), "w") as f:
        json.dump(model, f, indent=1)
        f.write("\n")
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)


if __name__ == "__main__":
    main()
