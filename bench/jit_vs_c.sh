#!/bin/sh
# Times each model with `loom bench --backend=c` and `--backend=jit` back to
# back (same process tree, one thread) and prints the median latencies and
# the ratio jit / c (below 1: the JIT is faster). Both backends run the
# same runtime kernels; the ratio measures the code each generates around
# them. Timings on a shared machine are noisy: compare ratios of one run.
#
#   sh bench/jit_vs_c.sh [BUILD_DIR] [MODEL_DIR...]
# MODEL_DIR: examples/NAME (model.json) or an exported folder (model.onnx
# with dims.txt); default: the examples and tests/models/*.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
[ $# -eq 0 ] && set -- "$root"/examples/*/ "$root"/tests/models/*/
printf '%-44s %12s %12s %7s\n' model c_ms jit_ms jit/c
for dir in "$@"; do
    dir=${dir%/}
    model=$dir/model.json
    [ -f "$model" ] || model=$dir/model.onnx
    [ -f "$model" ] || continue
    dims=""
    [ -f "$dir/dims.txt" ] && dims=$(sed 's/^/--dim /' "$dir/dims.txt" | tr '\n' ' ')
    # shellcheck disable=SC2086
    c=$("$build/loom" bench "$model" --backend=c --runs 30 --json $dims 2>/dev/null |
        sed -n 's/.*"median_ms": \([0-9.]*\).*/\1/p')
    # shellcheck disable=SC2086
    j=$("$build/loom" bench "$model" --backend=jit --runs 30 --json $dims 2>/dev/null |
        sed -n 's/.*"median_ms": \([0-9.]*\).*/\1/p')
    if [ -z "$c" ] || [ -z "$j" ]; then
        printf '%-44s %12s %12s %7s\n' "$(basename "$dir")" "${c:-fail}" "${j:-fail}" -
        continue
    fi
    awk -v n="$(basename "$dir")" -v c="$c" -v j="$j" \
        'BEGIN { printf "%-44s %12.4f %12.4f %7.3f\n", n, c, j, j / c }'
done
