#!/bin/sh
# Minimizes each target's committed corpus together with what fuzzing added
# (BUILD/corpus/TARGET) into tests/fuzz/corpus/TARGET with libFuzzer's
# -merge=1: the smallest set of inputs with the same coverage. Named cases
# (regression inputs for a fixed bug; libFuzzer names its own by SHA-1) are
# kept whatever their coverage.
# usage: merge_corpus.sh BUILD TARGET...
set -eu
BUILD=$1
shift
SRC=$(cd "$(dirname "$0")/../.." && pwd)
for t in "$@"; do
    dir=$SRC/tests/fuzz/corpus/$t
    old=$BUILD/corpus-old/$t
    rm -rf "$old"
    mkdir -p "$old" "$BUILD/corpus/$t" "$dir"
    for f in "$dir"/*; do
        [ -e "$f" ] || continue
        case $(basename "$f") in
        *[!0-9a-f]*) ;;               # a named case: stays
        *) mv "$f" "$old/" ;;
        esac
    done
    "$BUILD/tests/fuzz/fuzz_$t" -merge=1 -rss_limit_mb=4096 -timeout=10 \
        "$dir" "$old" "$BUILD/corpus/$t" >"$BUILD/merge_$t.log" 2>&1 || {
        cp "$old/"* "$dir/"
        echo "$t: merge failed (see $BUILD/merge_$t.log); corpus left as it was" >&2
        exit 1
    }
    echo "$t: $(ls "$dir" | wc -l) inputs, $(du -sb "$dir" | cut -f1) bytes"
done
