#!/bin/sh
# The README's demo: load an example model, print its summary, run it in
# the reference interpreter on a sample input and print the result.
set -eu
BUILD="${1:-build}"
MODEL=examples/mnist_cnn/model.json

echo "== loom inspect --summary-only $MODEL"
"$BUILD/loom" inspect --summary-only "$MODEL"
echo
echo "== loom run $MODEL --input image=examples/mnist_cnn/input_image.npy"
"$BUILD/loom" run "$MODEL" --input image=examples/mnist_cnn/input_image.npy
