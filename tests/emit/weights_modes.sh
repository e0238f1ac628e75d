#!/bin/sh
# --weights=inline, incbin and file give the same outputs: one example
# model is compiled in each mode under its own name (m_inline, m_incbin,
# m_file), with the runtime files (MODE openblas) or --standalone, built
# warnings-clean the way docs/emitted-c.md says (the .incbin assembly with
# -Wa,-I,DIR), linked into one program with weights_main.c and run; the
# outputs must be bit-identical and match the interpreter (`loom run`).
#
# usage: weights_modes.sh LOOM SOURCE_DIR WORK_DIR CC MODE MODEL [EXTRA_CFLAG...]
# MODEL is an examples/ folder with one input and one output. EXTRA_CFLAGs
# (the sanitizer flags in the sanitizer build) go to every compile but the
# runtime files' (emit_build.sh says why) and to the link.
set -eu
LOOM=$1 ROOT=$2 WORK=$3 CC=$4 MODE=$5 MODEL=$6
shift 6
EX=$ROOT/examples/$MODEL
. "$ROOT/tests/emit/emit_build.sh"

rm -rf "$WORK"
mkdir -p "$WORK/ref" "$WORK/out"
input=$(ls "$EX"/input_*.npy)
"$LOOM" run "$EX/model.json" --input "$input" --output "$WORK/ref" >/dev/null
ref=$(ls "$WORK"/ref/*.npy)

D=$WORK/out
emit_mode "$MODE" weights_modes.sh
for w in inline incbin file; do
    # shellcheck disable=SC2086
    "$LOOM" compile "$EX/model.json" -o "$D/m_$w.c" --weights=$w $FLAGS
done
for f in m_inline.weights.bin m_inline.weights.S m_file.weights.S; do
    if [ -e "$D/$f" ]; then
        echo "weights_modes.sh: $f should not exist" >&2
        exit 1
    fi
done
cmp "$D/m_incbin.weights.bin" "$D/m_file.weights.bin"

emit_objs "$D" "$@"
objs=$OBJS
"$CC" "$@" -c -Wa,-I,"$D" "$D/m_incbin.weights.S" -o "$D/m_incbin.weights.o"
# shellcheck disable=SC2086
"$CC" -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror "$@" -I"$D" -I"$ROOT/tests/emit" \
    -c "$ROOT/tests/emit/weights_main.c" -o "$WORK/main.o"
# shellcheck disable=SC2086
"$CC" "$@" -o "$WORK/weights_modes" "$WORK/main.o" $objs "$D/m_incbin.weights.o" $LIBS
"$WORK/weights_modes" "$input" "$ref" "$D/m_file.weights.bin"
# --weights=inline's arrays are 64-byte aligned as the blob's constants are
# (LOOM_CONST_ALIGN): an AVX-512 kernel's loads then take one line each
n=0
for sym in $(nm "$WORK/weights_modes" | awk '$2 ~ /^[rRdD]$/ && $3 ~ /^w_/ { print $1 ":" $3 }'); do
    n=$((n + 1))
    if [ $((0x${sym%%:*} % 64)) -ne 0 ]; then
        echo "weights_modes.sh: the inline array ${sym#*:} is not 64-byte aligned" >&2
        exit 1
    fi
done
if [ "$n" -eq 0 ]; then
    echo "weights_modes.sh: no inline weight arrays (w_*) found to check" >&2
    exit 1
fi
