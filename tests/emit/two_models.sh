#!/bin/sh
# Two compiled models in one program (two_models_main.c): mnist_cnn as
# "mnist" and gan_discriminator as "discriminator", built with the runtime
# files and OpenBLAS (MODE openblas) or both --standalone (MODE standalone),
# compiled warnings-clean, linked together, checked to export only their own
# prefixed symbols, run, and compared with the interpreter (`loom run`).
#
# usage: two_models.sh LOOM SOURCE_DIR WORK_DIR CC MODE [EXTRA_CFLAG...]
# EXTRA_CFLAGs (the sanitizer flags in the sanitizer build) go to every
# compile but the runtime files' (emit_build.sh says why) and to the link.
set -eu
LOOM=$1 ROOT=$2 WORK=$3 CC=$4 MODE=$5
shift 5
EX=$ROOT/examples
. "$ROOT/tests/emit/emit_build.sh"

rm -rf "$WORK"
mkdir -p "$WORK/ref_mnist" "$WORK/ref_disc" "$WORK/out"
"$LOOM" run "$EX/mnist_cnn/model.json" --input "$EX/mnist_cnn/input_image.npy" \
    --output "$WORK/ref_mnist" >/dev/null
"$LOOM" run "$EX/gan_discriminator/model.json" --input "$EX/gan_discriminator/input_image.npy" \
    --output "$WORK/ref_disc" >/dev/null

D=$WORK/out
emit_mode "$MODE" two_models.sh
# shellcheck disable=SC2086
"$LOOM" compile "$EX/mnist_cnn/model.json" -o "$D/mnist.c" $FLAGS
# shellcheck disable=SC2086
"$LOOM" compile "$EX/gan_discriminator/model.json" -o "$D/discriminator.c" $FLAGS

emit_objs "$D" "$@"
objs=$OBJS
# shellcheck disable=SC2086
"$CC" -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror "$@" -I"$D" -I"$ROOT/tests/emit" \
    -c "$ROOT/tests/emit/two_models_main.c" -o "$WORK/main.o"
# shellcheck disable=SC2086
"$CC" "$@" -o "$WORK/two_models" "$WORK/main.o" $objs $LIBS

# Every global symbol an object defines carries its model's (or the
# runtime's) prefix; standalone model objects export only the run functions.
# Names starting with __ are the implementation's (the sanitizers' own).
status=0
for obj in $objs; do
    base=$(basename "$obj" .o)
    case $base in
    loomrt_*) allowed='^loomrt_' ;;
    *) allowed="^${base}_(run|run_v|run_threads|last_error)\$" ;;
    esac
    bad=$(nm -g --defined-only "$obj" | awk '{print $NF}' | grep -Ev "$allowed|^__" || true)
    if [ -n "$bad" ]; then
        echo "two_models.sh: $obj exports symbols outside $allowed:" >&2
        echo "$bad" >&2
        status=1
    fi
done

"$WORK/two_models" "$EX/mnist_cnn/input_image.npy" "$WORK/ref_mnist/probs.npy" \
    "$EX/gan_discriminator/input_image.npy" "$WORK/ref_disc/score.npy" || status=1
exit $status
