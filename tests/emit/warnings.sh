#!/bin/sh
# The emitted C compiles warnings-clean: every tests/emit/*.lir and
# examples/*/model.json is compiled with `loom compile` (with the runtime
# files, and --standalone; the small .lir models also with --weights=incbin
# and --weights=file, with the runtime files, some of them without a single
# weight: the standalone form's runtime is the same whatever the weights
# mode, and it is gcc's longest compile) and every file
# is built with
#   CC -std=c99 -O3 -march=native -mtune=generic -Wall -Wextra -Wpedantic -Werror
# (the flags of docs/emitted-c.md's recipe and of `loom run --backend=c`),
# the runtime-file build also with -DLOOMRT_USE_CBLAS and OpenBLAS's
# include folder, and once more without it (the portable GEMM). A weights
# blob's .S file must assemble the way docs/emitted-c.md says. clang's
# warnings all come from its front end, so with clang the C files are only
# checked (-fsyntax-only, 2-3x faster); gcc warns from its optimizers too
# and compiles them fully, at -O3 (but for the standalone forms of the
# .lir and large models, below): GCC 12 warned there, and not at -O2, of a
# loop in the runtime's im2col inlined into mnist_cnn's standalone file.
#
# usage: warnings.sh LOOM SOURCE_DIR WORK_DIR CC
set -eu
LOOM=$1 ROOT=$2 WORK=$3 CC=$4
OPENBLAS_INC=/usr/include/x86_64-linux-gnu/openblas-pthread
WARN="-std=c99 -O3 -march=native -mtune=generic -Wall -Wextra -Wpedantic -Werror"
if "$CC" --version | grep -q clang; then
    WARN="$WARN -fsyntax-only"
fi

rm -rf "$WORK"
mkdir -p "$WORK"
# A compiler may warn of the CPU itself under -march=native: clang 19 on a
# Xeon whose cpuid reports AVX10.1 says "invalid feature combination" for
# every file, empty or not. Such a warning is the toolchain's, not the
# emitted C's; it is turned off when a one-line file shows it, and the
# test says so.
probe="$WORK/probe.c"
echo 'int loom_probe;' > "$probe"
# shellcheck disable=SC2086
if ! "$CC" $WARN -c "$probe" -o "$probe.o" 2> "$probe.err"; then
    if grep -q 'invalid-feature-combination' "$probe.err" &&
        "$CC" $WARN -Wno-invalid-feature-combination -c "$probe" -o "$probe.o"; then
        echo "note: $CC warns of this CPU's features under -march=native;" \
            "checked with -Wno-invalid-feature-combination"
        WARN="$WARN -Wno-invalid-feature-combination"
    else
        echo "FAIL: $CC $WARN on a one-line file:" >&2
        cat "$probe.err" >&2
        rm -f "$probe" "$probe.o" "$probe.err"
        exit 1
    fi
fi
rm -f "$probe" "$probe.o" "$probe.err"
status=0
n=0
cc_ok() {
    if ! "$CC" "$@"; then
        echo "FAIL: $CC $*" >&2
        status=1
    fi
    n=$((n + 1))
}

# with the large exported models too when LOOM_LARGE_MODELS names their
# folder (make test-large; their one-file forms take 20-40 s each)
# shellcheck disable=SC2086
for model in "$ROOT"/tests/emit/*.lir "$ROOT"/examples/*/model.json \
    ${LOOM_LARGE_MODELS:+$LOOM_LARGE_MODELS/*/model.onnx}; do
    case $model in
    *.lir) name=$(basename "$model" .lir) ;;
    *) name=$(basename "$(dirname "$model")") ;;
    esac
    rt=$WORK/rt.$name sa=$WORK/sa.$name
    mkdir -p "$rt" "$sa"
    "$LOOM" compile "$model" -o "$rt/$name.c"
    "$LOOM" compile "$model" -o "$sa/$name.c" --standalone
    # shellcheck disable=SC2086
    cc_ok $WARN -DLOOMRT_USE_CBLAS -I"$OPENBLAS_INC" -c "$rt/$name.c" -o "$rt/$name.o"
    # the standalone form's optimizer warnings come from the runtime
    # inlined into the model, its calls' constants propagated (GCC 12
    # warned in mnist_cnn's): gcc compiles it fully for every example,
    # 7-8 s each on a 2-core machine; the .lir models' and the large
    # ones' standalone forms are checked with -fsyntax-only, their code
    # compiled fully in their other forms, and the runtime's files at
    # the end
    SA_ONLY=-fsyntax-only
    case $model in "$ROOT"/examples/*/model.json) SA_ONLY="" ;; esac
    # shellcheck disable=SC2086
    cc_ok $WARN $SA_ONLY -c "$sa/$name.c" -o "$sa/$name.o"
    case $model in
    *.lir)
        for mode in incbin file; do
            mkdir -p "$WORK/$mode.$name"
            "$LOOM" compile "$model" -o "$WORK/$mode.$name/$name.c" --weights=$mode
            # shellcheck disable=SC2086
            cc_ok $WARN -c "$WORK/$mode.$name/$name.c" -o "$WORK/$mode.$name/$name.o"
        done ;;
    esac
    for s in "$rt"/*.weights.S "$sa"/*.weights.S "$WORK/incbin.$name"/*.weights.S; do
        [ -f "$s" ] || continue
        cc_ok -c -Wa,-I,"$(dirname "$s")" "$s" -o "${s%.S}.o"
    done
done
# the runtime files (the same for every model)
for f in "$rt"/loomrt_*.c; do
    # shellcheck disable=SC2086
    cc_ok $WARN -DLOOMRT_USE_CBLAS -I"$OPENBLAS_INC" -c "$f" -o "${f%.c}.cblas.o"
    # shellcheck disable=SC2086
    cc_ok $WARN -c "$f" -o "${f%.c}.portable.o"
done
[ $status = 0 ] && echo "warnings: $n compiles with $CC clean"
exit $status
