#!/bin/sh
# Times each model's C and JIT builds in one process, alternating blocks
# of RUNS runs ROUNDS times (bench/jit_vs_c_pair.c, one thread), and prints
# per backend the fastest run and the median of the blocks' medians, and
# the ratios jit / c of both (below 1: the JIT is faster). Both backends
# run the same runtime kernels; the ratio measures the code each generates
# around them. Running both in one process, block after block, lets them
# share the machine's load; separate processes on a loaded machine see
# different loads and their ratios wander by tens of percent.
#
#   [RUNS=N] [ROUNDS=N] sh bench/jit_vs_c.sh [BUILD_DIR] [MODEL_DIR...]
# MODEL_DIR: examples/NAME (model.json) or an exported folder (model.onnx
# with dims.txt); default: the examples and tests/models/*. RUNS: runs per
# block (default 50), ROUNDS: blocks per backend (default 40).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
[ $# -eq 0 ] && set -- "$root"/examples/*/ "$root"/tests/models/*/
runs=${RUNS:-50}
rounds=${ROUNDS:-40}
pair=$(mktemp -d)/jit_vs_c_pair
trap 'rm -rf "$(dirname "$pair")"' EXIT
${CC:-cc} -O2 -I"$root/include" "$root/bench/jit_vs_c_pair.c" -o "$pair" \
    -L"$build" -lloom -Wl,-rpath,"$build"

printf '%-32s %9s %9s %9s %9s %8s %8s\n' model c_min jit_min c_med jit_med min_j/c med_j/c
for dir in "$@"; do
    dir=${dir%/}
    model=$dir/model.json
    [ -f "$model" ] || model=$dir/model.onnx
    [ -f "$model" ] || continue
    pins=""
    [ -f "$dir/dims.txt" ] && pins=$(tr '\n' ' ' < "$dir/dims.txt")
    # shellcheck disable=SC2086
    if ! t=$("$pair" "$model" "$rounds" "$runs" $pins 2>&1); then
        printf '%-32s failed: %s\n' "$(basename "$dir")" "$t"
        continue
    fi
    echo "$t" | awk -v n="$(basename "$dir")" '
        { printf "%-32s %9.4f %9.4f %9.4f %9.4f %8.3f %8.3f\n",
                 n, $1, $2, $3, $4, $2 / $1, $4 / $3 }'
done
