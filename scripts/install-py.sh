#!/bin/sh
# Installs the Python packages used by benchmarks and example generation
# (never by the build or the test suite): numpy, onnx, onnxruntime; with
# the argument "torch" also what scripts/export_torch.py needs (make
# test-large): torch, torchvision, onnxscript, transformers (DistilBERT, T5,
# Whisper built from their configs with random weights; no downloads); with
# "keras" what scripts/gen_keras.py needs: keras 3 (run with
# KERAS_BACKEND=torch), h5py, torch.
set -eu
mods="numpy onnx onnxruntime"
pkgs="numpy onnx onnxruntime"
if [ "${1:-}" = torch ]; then
    mods="$mods torch torchvision onnxscript transformers"
    pkgs="$pkgs torch torchvision onnxscript transformers"
fi
if [ "${1:-}" = keras ]; then
    mods="$mods keras h5py torch"
    pkgs="$pkgs keras h5py torch"
fi
# keras 3 refuses to import without a backend it can find: the check uses
# torch, as scripts/gen_keras.py does.
if KERAS_BACKEND=torch python3 -c "import $(echo $mods | tr ' ' ',')" 2>/dev/null; then
    exit 0
fi
# shellcheck disable=SC2086
python3 -m pip install --quiet $pkgs
