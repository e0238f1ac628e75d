# shellcheck shell=sh
# Sourced by two_models.sh and weights_modes.sh: the flags of a MODE and
# the compile of the emitted C files, the runtime's without the extra flags.
OPENBLAS_INC=/usr/include/x86_64-linux-gnu/openblas-pthread
WARN="-std=c99 -O2 -Wall -Wextra -Wpedantic -Werror"

# Sets FLAGS (loom compile's), CFLAGS and LIBS for MODE $1, openblas or
# standalone; any other exits 2 with a message naming the script $2.
# shellcheck disable=SC2034 # FLAGS, LIBS: the sourcing script's
emit_mode() {
    case $1 in
    openblas) FLAGS="" CFLAGS="-DLOOMRT_USE_CBLAS -I$OPENBLAS_INC" LIBS="-lopenblas -lm" ;;
    standalone) FLAGS="--standalone" CFLAGS="" LIBS="-lm" ;;
    *) echo "$2: MODE is openblas or standalone, not $1" >&2; exit 2 ;;
    esac
}

# Compiles every .c file of folder $1 with $CC into a .o beside it, OBJS
# the list: the flags after the folder (the sanitizers' in the sanitizer
# build) go to every file but the runtime's (loomrt_*: e2e_examples_c
# and the unit tests run the kernels on a runtime built with the
# sanitizers). A --standalone model's file has the runtime inlined and
# gets them.
emit_objs() {
    dir=$1
    shift
    OBJS=""
    for src in "$dir"/*.c; do
        case $(basename "$src") in
        loomrt_*) # shellcheck disable=SC2086
            "$CC" $WARN $CFLAGS -c "$src" -o "${src%.c}.o" ;;
        *) # shellcheck disable=SC2086
            "$CC" $WARN $CFLAGS "$@" -c "$src" -o "${src%.c}.o" ;;
        esac
        OBJS="$OBJS ${src%.c}.o"
    done
}
