#!/bin/sh
# Times each model with `loom bench --backend=c` and `--backend=jit`,
# alternating the two ROUNDS times (same process tree, one thread), and
# prints per backend the lowest min and the lowest median latency over the
# rounds, and the ratios jit / c of both (below 1: the JIT is faster). Both
# backends run the same runtime kernels; the ratio measures the code each
# generates around them. On a loaded machine the medians move with the
# load; the mins show the code's speed.
#
#   [RUNS=N] [ROUNDS=N] sh bench/jit_vs_c.sh [BUILD_DIR] [MODEL_DIR...]
# MODEL_DIR: examples/NAME (model.json) or an exported folder (model.onnx
# with dims.txt); default: the examples and tests/models/*. RUNS: timed
# runs per bench (default 300), ROUNDS: c/jit pairs per model (default 3).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
[ $# -eq 0 ] && set -- "$root"/examples/*/ "$root"/tests/models/*/
runs=${RUNS:-300}
rounds=${ROUNDS:-3}

# bench MODEL BACKEND DIMS...: prints "min median" in ms, or nothing
bench() {
    model=$1 backend=$2
    shift 2
    "$build/loom" bench "$model" --backend="$backend" --runs "$runs" --json "$@" 2>/dev/null |
        sed -n 's/.*"min_ms": \([0-9.]*\), "median_ms": \([0-9.]*\).*/\1 \2/p'
}

printf '%-32s %9s %9s %9s %9s %8s %8s\n' model c_min jit_min c_med jit_med min_j/c med_j/c
for dir in "$@"; do
    dir=${dir%/}
    model=$dir/model.json
    [ -f "$model" ] || model=$dir/model.onnx
    [ -f "$model" ] || continue
    dims=""
    [ -f "$dir/dims.txt" ] && dims=$(sed 's/^/--dim /' "$dir/dims.txt" | tr '\n' ' ')
    times=""
    r=0
    while [ "$r" -lt "$rounds" ]; do
        # shellcheck disable=SC2086
        c=$(bench "$model" c $dims)
        # shellcheck disable=SC2086
        j=$(bench "$model" jit $dims)
        [ -n "$c" ] && [ -n "$j" ] || break
        times="$times$c $j
"
        r=$((r + 1))
    done
    if [ "$r" -lt "$rounds" ]; then
        printf '%-32s %s\n' "$(basename "$dir")" "failed (c: ${c:-fail}, jit: ${j:-fail})"
        continue
    fi
    printf '%s' "$times" | awk -v n="$(basename "$dir")" '
        NR == 1 || $1 < cm { cm = $1 } NR == 1 || $2 < cd { cd = $2 }
        NR == 1 || $3 < jm { jm = $3 } NR == 1 || $4 < jd { jd = $4 }
        END { printf "%-32s %9.4f %9.4f %9.4f %9.4f %8.3f %8.3f\n",
                     n, cm, jm, cd, jd, jm / cm, jd / cd }'
done
