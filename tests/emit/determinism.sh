#!/bin/sh
# Same model, same flags: byte-identical files. Compiles every
# tests/emit/*.lir and examples/*/model.json twice, into two folders, in
# each weights mode and --standalone, and compares every file written
# (model, header, runtime, weights blob, .incbin assembly).
#
# usage: determinism.sh LOOM SOURCE_DIR WORK_DIR
set -eu
LOOM=$1 ROOT=$2 WORK=$3

rm -rf "$WORK"
mkdir -p "$WORK"
status=0
n=0
for model in "$ROOT"/tests/emit/*.lir "$ROOT"/examples/*/model.json; do
    case $model in
    *.lir) name=$(basename "$model" .lir) ;;
    *) name=$(basename "$(dirname "$model")") ;;
    esac
    for mode in auto standalone incbin file; do
        case $mode in
        standalone) flags="--standalone" ;;
        *) flags="--weights=$mode" ;;
        esac
        for run in 1 2; do
            mkdir -p "$WORK/$name.$mode.$run"
            "$LOOM" compile "$model" -o "$WORK/$name.$mode.$run/$name.c" $flags
        done
        if ! diff -r "$WORK/$name.$mode.1" "$WORK/$name.$mode.2" >/dev/null; then
            echo "FAIL $name ($flags): two compiles differ:" >&2
            diff -r "$WORK/$name.$mode.1" "$WORK/$name.$mode.2" | head -20 >&2 || true
            status=1
        fi
        n=$((n + 1))
    done
done
[ $status = 0 ] && echo "determinism: $n model/mode pairs byte-identical"
exit $status
