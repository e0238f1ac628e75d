#!/bin/sh
# Builds the raw seed corpora for the fuzz targets into OUT/TARGET from the
# project's own files: the examples, tests/models, tests/lit, tests/diag and
# the small ONNX node-test models (libonnx-testdata), converted to JSON
# (inline weights) and .lir by LOOM (a built `loom`). `make fuzz-seed` runs
# it and minimizes the result into tests/fuzz/corpus (-merge=1).
# usage: make_seeds.sh LOOM OUT
set -eu
LOOM=$1
OUT=$2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
NODE=/usr/share/libonnx-testdata/data/node
for t in onnx json lir safetensors npy pipeline keras h5; do
    rm -rf "$OUT/$t"
    mkdir -p "$OUT/$t"
done

# Small files only (the committed corpus stays well under 5 MB).
small() { find "$@" -type f -size -64k 2>/dev/null | sort; }

for f in $(small "$SRC/tests/models" "$SRC/examples" -name '*.onnx'); do
    n=$(echo "${f#"$SRC"/}" | tr / _)
    cp "$f" "$OUT/onnx/$n"
    cp "$f" "$OUT/pipeline/$n"
done
for f in $(small "$SRC/examples" "$SRC/tests/diag" -name '*.json'); do
    cp "$f" "$OUT/json/$(echo "${f#"$SRC"/}" | tr / _)"
done
for f in $(small "$SRC/tests/keras" "$SRC/tests/diag" -name '*.keras'); do
    cp "$f" "$OUT/keras/$(echo "${f#"$SRC"/}" | tr / _)"
done
for f in $(small "$SRC/tests/keras" "$SRC/tests/diag" -name '*.h5' ! -name '*.weights.h5'); do
    cp "$f" "$OUT/h5/$(echo "${f#"$SRC"/}" | tr / _)"
done
for f in $(small "$SRC/tests/lit" -name '*.lir'); do
    cp "$f" "$OUT/lir/$(echo "${f#"$SRC"/}" | tr / _)"
done
for f in $(small "$SRC/tests/diag" "$SRC/examples" -name '*.safetensors'); do
    cp "$f" "$OUT/safetensors/$(echo "${f#"$SRC"/}" | tr / _)"
done
for f in $(small "$SRC/tests/models" "$SRC/examples" -name '*.npy' -size -8k); do
    cp "$f" "$OUT/npy/$(echo "${f#"$SRC"/}" | tr / _)"
done

# ONNX node tests: every model loom loads, as ONNX, JSON and .lir; the
# others as ONNX only (they reach the reader's error paths).
if [ -d "$NODE" ]; then
    for dir in "$NODE"/test_*; do
        m=$dir/model.onnx
        [ -f "$m" ] && [ "$(stat -c %s "$m")" -lt 16384 ] || continue
        n=$(basename "$dir")
        cp "$m" "$OUT/onnx/$n.onnx"
        if "$LOOM" convert "$m" -o "$OUT/json/$n.json" --inline-weights 2>/dev/null; then
            "$LOOM" convert "$m" -o "$OUT/lir/$n.lir" 2>/dev/null || true
            cp "$m" "$OUT/pipeline/$n.onnx"
            cp "$OUT/json/$n.json" "$OUT/lir/$n.lir" "$OUT/pipeline/" 2>/dev/null || true
        fi
    done
fi
for t in onnx json lir safetensors npy pipeline keras h5; do
    echo "$t: $(ls "$OUT/$t" | wc -l) seeds, $(du -sh "$OUT/$t" | cut -f1)"
done
