"""Runs examples with `loom run --threads N` (N = 1 and 3) on the JIT and
(one model, the builds are slow) the standalone C build, and checks that
every output file is byte-identical to the 1-thread one (the C build with
OpenBLAS is checked by unit_api's pool_c). Usage: threads_agree.py LOOM
EXAMPLES_DIR WORK_DIR"""

import filecmp
import os
import subprocess
import sys

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
        same = files and all(filecmp.cmp(os.path.join(outs[0], f), os.path.join(o, f),
                                         shallow=False) for o in outs[1:] for f in files)
        print(f"{model} {label}: 1 and 3 threads {'agree' if same else 'DIFFER'}")
        status |= not same
    return status


if __name__ == "__main__":
    sys.exit(main())
