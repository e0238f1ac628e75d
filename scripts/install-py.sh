#!/bin/sh
# Installs the Python packages used by benchmarks and example generation
# (never by the build or the test suite): numpy, onnx, onnxruntime.
set -eu
if python3 -c "import numpy, onnx, onnxruntime" 2>/dev/null; then
    exit 0
fi
python3 -m pip install --quiet numpy onnx onnxruntime
