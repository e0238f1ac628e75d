#!/bin/sh
# Runs the libFuzzer targets one after another (`make fuzz`), each for
# SECONDS, on a working copy of its committed corpus in BUILD/corpus/TARGET;
# findings go to BUILD/artifacts/TARGET/. Prints each target's executions,
# time and coverage; exits 1 when a target found something.
# usage: run_fuzz.sh BUILD SECONDS TARGET...
set -u
BUILD=$1
SECONDS_EACH=$2
shift 2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
# Models may be large: libFuzzer's default 2 GB RSS limit is too tight for a
# few legitimate inputs, and a single input taking 10 s is a hang.
FLAGS="-rss_limit_mb=4096 -timeout=10 -print_final_stats=1 ${FUZZ_FLAGS:-}"
# A dictionary for the text formats: op and attribute names from the op
# table, dtypes, JSON keys and .lir syntax.
DICT=$BUILD/loom.dict
{
    grep -o 'X([A-Z_0-9]*, "[A-Za-z]*"' "$SRC/ir/ir_ops.h" | sed 's/.*"\(.*\)"/\1/'
    grep -o '[a-z_]*:\(i\|f\|s\|is\|fs\|ss\|t\)\b' "$SRC/ir/ir_ops.h" | sed 's/:.*//'
    echo f32 f64 i64 i32 i8 u8 bool F32 F64 I64 I32 I8 U8 BOOL F16 BF16 | tr ' ' '\n'
    echo attrs data dtype format initializers inputs name nodes op outputs shape version \
        weights value loom-graph data_offsets __metadata__ graph const return elided | tr ' ' '\n'
    # numbers at the edges of the integer types, for overflow in shape arithmetic
    echo -1 0 -9223372036854775808 9223372036854775807 4611686018427387904 2147483647 \
        -2147483648 4294967296 1048576 1e38 1e-45 inf nan | tr ' ' '\n'
} | grep . | sort -u | sed 's/.*/"&"/' >"$DICT"
status=0
summary=""
for t in "$@"; do
    corpus=$BUILD/corpus/$t
    art=$BUILD/artifacts/$t
    mkdir -p "$corpus" "$art"
    cp -n "$SRC/tests/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null
    log=$BUILD/fuzz_$t.log
    dict=""
    case $t in json | lir | pipeline | safetensors) dict=-dict=$DICT ;; esac
    echo "fuzz_$t: $SECONDS_EACH s, log in $log"
    # shellcheck disable=SC2086
    "$BUILD/tests/fuzz/fuzz_$t" $FLAGS $dict -max_total_time="$SECONDS_EACH" \
        -artifact_prefix="$art/" "$corpus" >"$log" 2>&1
    rc=$?
    # the final stats, or in -fork mode the last "#N: cov: ..." line
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\):\{0,1\} .*cov:.*/\1/p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    line="fuzz_$t: ${execs:-?} executions in $SECONDS_EACH s, ${cov:-cov: ?}, exit $rc"
    if [ "$rc" -ne 0 ]; then
        status=1
        found=$(ls "$art" | tr '\n' ' ')
        line="$line: ${found:+FOUND $found}(see $log)"
    fi
    echo "$line"
    summary="$summary$line
"
done
printf '\n%s' "$summary"
exit $status
