#!/bin/sh
# Installs libloom to a temporary prefix, builds examples/host against it
# with find_package(loom) (shared, static and C++) and with pkg-config, and
# classifies examples/mnist_cnn's input: onnxruntime's answer is class 0.
#   run_host.sh SOURCE_DIR BUILD_DIR [SANITIZED]
# With SANITIZED 1 (the ASan+UBSan build) the host is built with the same
# sanitizers, which the installed static library needs.
set -eu
src=$1 build=$2 san=""
if [ "${3:-0}" = 1 ]; then san="-fsanitize=address,undefined"; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/loom-host-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
test -f "$tmp/prefix/include/loom.h"
cmake -S "$src/examples/host" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" \
      -DCMAKE_EXE_LINKER_FLAGS="$san" >/dev/null
cmake --build "$tmp/build" >/dev/null
model=$src/examples/mnist_cnn/model.json
input=$src/examples/mnist_cnn/input_image.npy
for b in interp c; do
  "$tmp/build/host" "$model" "$input" $b | tee "$tmp/out"
  grep -q "class 0 (probs 0.62" "$tmp/out"
done
"$tmp/build/host_static" "$model" "$input" interp | grep -q "class 0 (probs 0.62"
"$tmp/build/host_cpp" "$model" | grep -q "input image: rank 4, 3136 bytes"
# pkg-config: the same program, built by hand
pc=$(find "$tmp/prefix" -name loom.pc)
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs loom)
cc $san -o "$tmp/host_pc" "$src/examples/host/host.c" $flags
LD_LIBRARY_PATH=$(dirname "$(dirname "$pc")") "$tmp/host_pc" "$model" "$input" interp |
  grep -q "class 0 (probs 0.62"
# a missing model is an error with a message, not a crash
if "$tmp/build/host" /nonexistent.json "$input" 2>"$tmp/err"; then exit 1; fi
grep -q "nonexistent.json" "$tmp/err"
echo "host: all checks passed"
