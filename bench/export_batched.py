#!/usr/bin/env python3
"""Exports the benchmark's CNNs with a batch dim: torchvision resnet18,
mobilenet_v2 and squeezenet1_1 (random weights, seeded) and the U-Net of
scripts/export_torch.py, TorchScript ONNX exporter, opset 17, input "image"
[batch, 3, 224, 224] (the U-Net's [batch, 3, 128, 128]), so that bench.py
can run them at batch 1, 8 and 32 (loom pins the dim with --dim batch=N).
Each folder gets model.onnx, input_image.npy (batch 1) and dims.txt.

    python3 bench/export_batched.py --out /tmp/loom-bench-cnn
    LOOM_BATCHED_MODELS=/tmp/loom-bench-cnn python3 bench/bench.py
"""

import argparse
import os
import warnings

import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from export_torch import UNet  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    for name in ["resnet18", "mobilenet_v2", "squeezenet1_1", "unet"]:
        torch.manual_seed(0)
        model = UNet() if name == "unet" else getattr(torchvision.models, name)(weights=None)
        model = model.eval()
        size = 128 if name == "unet" else 224
        image = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(2))
        folder = os.path.join(args.out, f"{name}_b")
        os.makedirs(folder, exist_ok=True)
        output = "mask" if name == "unet" else "logits"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (image,), os.path.join(folder, "model.onnx"), dynamo=False,
                              opset_version=17, input_names=["image"], output_names=[output],
                              dynamic_axes={"image": {0: "batch"}}, do_constant_folding=True)
        np.save(os.path.join(folder, "input_image.npy"), image.numpy())
        with open(os.path.join(folder, "dims.txt"), "w") as f:
            f.write("batch=1\n")
        print(f"{folder}: exported")


if __name__ == "__main__":
    main()
