"""Runs examples with `loom run --threads N` (N = 1 and 3) on the JIT and
(one model, the builds are slow) the standalone C build, and checks that
every output file is byte-identical to the 1-thread one. The JIT links
OpenBLAS, which may take large GEMMs (mnist_cnn's second convolution on a
CPU where its kernel is as wide as loom's) and rounds them differently at
another thread count (docs/emitted-c.md): such a case is reported as
agreeing "within rounding" when every float is within 1e-5 relative (+1e-7).
Usage: threads_agree.py LOOM EXAMPLES_DIR WORK_DIR"""

import filecmp
import os
import struct
import subprocess
import sys


def npy_floats(path):
    """The f32 values of a little-endian .npy file (loom's outputs)."""
    with open(path, "rb") as f:
        data = f.read()
    header_len = struct.unpack("<H", data[8:10])[0]
    body = data[10 + header_len:]
    return struct.unpack(f"<{len(body) // 4}f", body)


def close(a, b):
    x, y = npy_floats(a), npy_floats(b)
    return len(x) == len(y) and all(abs(p - q) <= 1e-7 + 1e-5 * abs(p) for p, q in zip(x, y))

CASES = [("mnist_cnn", "image", "c --standalone"), ("mnist_cnn", "image", "jit"),
         ("gan_generator", "z", "jit"), ("transformer", "embeddings", "jit")]
THREADS = (1, 3)


def main():
    loom, examples, work = sys.argv[1:4]
    status = 0
    for model, inp, label in CASES:
        folder = os.path.join(examples, model)
        extra = label.split()[1:]
        outs = []
        for t in THREADS:
            out = os.path.join(work, f"{model}-{label.replace(' ', '')}-{t}")
            subprocess.run([loom, "run", os.path.join(folder, "model.json"), "--input",
                            f"{inp}={os.path.join(folder, 'input_' + inp + '.npy')}",
                            "--backend", label.split()[0], "--threads", str(t), "-o", out]
                           + extra, check=True, stdout=subprocess.DEVNULL)
            outs.append(out)
        files = sorted(os.listdir(outs[0]))
        pairs = [(os.path.join(outs[0], f), os.path.join(o, f)) for o in outs[1:] for f in files]
        same = files and all(filecmp.cmp(a, b, shallow=False) for a, b in pairs)
        near = files and label == "jit" and all(close(a, b) for a, b in pairs)
        verdict = "agree" if same else "agree within rounding" if near else "DIFFER"
        print(f"{model} {label}: 1 and 3 threads {verdict}")
        status |= not (same or near)
    return status


if __name__ == "__main__":
    sys.exit(main())
