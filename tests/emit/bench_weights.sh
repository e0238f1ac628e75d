#!/bin/sh
# Compile time and compiler peak memory of the emitted C against weight
# size, per weights mode (docs/weights.md has the results). For each
# LAYERS, gen_gemm_chain.py writes a chain of LAYERS 512x512 dense layers
# (about 1 MiB of weights each); `loom compile --weights=MODE` emits it, and
# each C compiler builds the files the way docs/emitted-c.md says, under
# /usr/bin/time -v (elapsed wall time, user + system CPU time, maximum
# resident set size). Prints one markdown table row per model, mode and
# compiler. Not part of the test suite (the 45-layer inline build takes
# minutes); needs python3 with numpy.
#
# usage: bench_weights.sh LOOM WORK_DIR [LAYERS...]   (default: 1 4 10 45)
#        CCS="gcc clang-19" selects the compilers.
set -eu
LOOM=$1 WORK=$2
shift 2
[ $# -gt 0 ] || set -- 1 4 10 45
HERE=$(cd "$(dirname "$0")" && pwd)
CCS=${CCS:-"gcc clang-19"}
CFLAGS="-std=c99 -O3 -march=native -mtune=generic -DLOOMRT_USE_CBLAS -I/usr/include/x86_64-linux-gnu/openblas-pthread"

# timed OUT CMD...: runs CMD under /usr/bin/time -v, prints "wall cpu maxrss_MB"
timed() {
    out=$1
    shift
    /usr/bin/time -v -o "$out" "$@"
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0
                                   for (i = 1; i <= n; i++) w = w * 60 + p[i] }
        /User time/ { u = $2 } /System time/ { s = $2 }
        /Maximum resident set size/ { m = $2 }
        END { printf "%.2f %.2f %.0f\n", w, u + s, m / 1024 }' "$out"
}

# size in MiB (1 decimal), or KiB under 1 MiB
mb() { awk -v b="$1" 'BEGIN { if (b < 1048576) printf "%.0f KiB", b / 1024
                               else printf "%.1f MiB", b / 1048576 }'; }

echo "| weights | mode | files emitted | loom compile: CPU s (peak MB) | compiler | C compile: wall s | CPU s | peak MB | .S assemble: CPU s (peak MB) |"
echo "|---|---|---|---|---|---|---|---|---|"
for layers in "$@"; do
    m=$WORK/chain$layers
    python3 "$HERE/gen_gemm_chain.py" "$m" "$layers"
    wbytes=$(($(stat -c %s "$m/model.safetensors")))
    for mode in inline incbin file; do
        d=$m/$mode
        rm -rf "$d"
        mkdir -p "$d"
        # shellcheck disable=SC2046 # three words: wall, CPU, peak MB
        set -- $(timed "$d/loom.time" "$LOOM" compile "$m/model.json" -o "$d/model.c" --weights=$mode)
        loom_t="$2 ($3)"
        size=$(stat -c %s "$d/model.c")
        files="model.c $(mb "$size")"
        [ -f "$d/model.weights.bin" ] && files="$files + .bin $(mb "$(stat -c %s "$d/model.weights.bin")")"
        for cc in $CCS; do
            # shellcheck disable=SC2046,SC2086
            set -- $(timed "$d/$cc.time" "$cc" $CFLAGS -c "$d/model.c" -o "$d/model.$cc.o")
            c_wall=$1 c_cpu=$2 c_mem=$3
            asm="-"
            if [ -f "$d/model.weights.S" ]; then
                # shellcheck disable=SC2046
                set -- $(timed "$d/$cc.S.time" "$cc" -c -Wa,-I,"$d" "$d/model.weights.S" -o "$d/w.$cc.o")
                asm="$2 ($3)"
            fi
            echo "| $(mb "$wbytes") | $mode | $files | $loom_t | $cc | $c_wall | $c_cpu | $c_mem | $asm |"
        done
    done
done
