#!/bin/sh
# A $CC for tests that fails on one runtime file only (status 3, with a
# message), as a compiler does on code it cannot build, and builds the
# rest as cc_log.sh does (-O0).
for a in "$@"; do
    case "$a" in
    */loomrt_gemm.c)
        echo "cc_fail_one.sh: error: pretend error in $a" >&2
        exit 3
        ;;
    esac
done
exec cc "$@" -O0
