#!/bin/sh
# The README's demo: compile an example model to C, build it with the
# system compiler against loom's runtime, run it on a sample input and print
# the result and the time; then check it against the interpreter.
set -eu
BUILD="${1:-build}"
MODEL=examples/mnist_cnn/model.json
OUT="$BUILD/demo"
CC="${CC:-cc}"

echo "== loom inspect --summary-only $MODEL"
"$BUILD/loom" inspect --summary-only "$MODEL"
echo
echo "== loom compile $MODEL -o $OUT/mnist_cnn.c"
mkdir -p "$OUT"
"$BUILD/loom" compile "$MODEL" -o "$OUT/mnist_cnn.c"
ls -l "$OUT"
echo
echo "== $CC -O3 -march=native -mtune=generic: examples/demo/main.c + mnist_cnn.c + runtime (OpenBLAS)"
"$CC" -std=c99 -O3 -march=native -mtune=generic -I"$OUT" -DMODEL_HEADER='"mnist_cnn.h"' \
    -DMODEL=mnist_cnn -DMODEL_UP=MNIST_CNN -DLOOMRT_USE_CBLAS \
    -I/usr/include/x86_64-linux-gnu/openblas-pthread \
    -o "$OUT/mnist_demo" examples/demo/main.c "$OUT/mnist_cnn.c" "$OUT"/loomrt_*.c \
    -lopenblas -lm
echo
echo "== $OUT/mnist_demo examples/mnist_cnn/input_image.npy"
OPENBLAS_NUM_THREADS=1 "$OUT/mnist_demo" examples/mnist_cnn/input_image.npy
echo
echo "== the same input in the reference interpreter"
"$BUILD/loom" run "$MODEL" --input image=examples/mnist_cnn/input_image.npy
