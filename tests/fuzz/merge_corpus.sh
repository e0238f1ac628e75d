#!/bin/sh
# Minimizes each target's committed corpus together with what fuzzing added
# (BUILD/corpus/TARGET) into tests/fuzz/corpus/TARGET with libFuzzer's
# -merge=1: the smallest set of inputs with the same coverage.
# usage: merge_corpus.sh BUILD TARGET...
set -eu
BUILD=$1
shift
SRC=$(cd "$(dirname "$0")/../.." && pwd)
for t in "$@"; do
    old=$BUILD/corpus-old/$t
    rm -rf "$old"
    mkdir -p "$old" "$BUILD/corpus/$t"
    mv "$SRC/tests/fuzz/corpus/$t/"* "$old/" 2>/dev/null || true
    "$BUILD/tests/fuzz/fuzz_$t" -merge=1 -rss_limit_mb=4096 -timeout=10 \
        "$SRC/tests/fuzz/corpus/$t" "$old" "$BUILD/corpus/$t" >"$BUILD/merge_$t.log" 2>&1 || {
        cp "$old/"* "$SRC/tests/fuzz/corpus/$t/"
        echo "$t: merge failed (see $BUILD/merge_$t.log); corpus left as it was" >&2
        exit 1
    }
    echo "$t: $(ls "$SRC/tests/fuzz/corpus/$t" | wc -l) inputs, $(du -sh "$SRC/tests/fuzz/corpus/$t" | cut -f1)"
done
