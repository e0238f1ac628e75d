#!/bin/sh
# Golden-file tests of the C emitter (cproc style): each tests/emit/NAME.lir
# is compiled with `loom compile NAME.lir -o OUT/NAME.c` (with the runtime
# beside it, so the golden files are only the model's own NAME.c and
# NAME.h) and the result must equal the committed NAME.c and NAME.h byte
# for byte. With LOOM_UPDATE_GOLDEN=1 the committed files are rewritten
# instead (review the diff before committing it).
#
# usage: golden.sh LOOM SOURCE_DIR WORK_DIR [NAME...]   (default: every .lir)
set -eu
LOOM=$1 ROOT=$2 WORK=$3
shift 3
case $LOOM in /*) ;; */*) LOOM=$PWD/$LOOM ;; esac # the compiles run in $SRC
SRC=$ROOT/tests/emit
if [ $# -eq 0 ]; then
    for f in "$SRC"/*.lir; do
        set -- "$@" "$(basename "$f" .lir)"
    done
fi

rm -rf "$WORK"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
status=0
for name in "$@"; do
    # from the source folder, so the header comment names NAME.lir alone
    if ! (cd "$SRC" && "$LOOM" compile "$name.lir" -o "$WORK/$name.c"); then
        echo "FAIL $name: loom compile failed" >&2
        status=1
        continue
    fi
    for ext in c h; do
        if [ "${LOOM_UPDATE_GOLDEN:-0}" = 1 ]; then
            if ! cmp -s "$WORK/$name.$ext" "$SRC/$name.$ext"; then
                cp "$WORK/$name.$ext" "$SRC/$name.$ext"
                echo "updated tests/emit/$name.$ext"
            fi
        elif [ ! -f "$SRC/$name.$ext" ]; then
            echo "FAIL $name: no golden tests/emit/$name.$ext (run with LOOM_UPDATE_GOLDEN=1)" >&2
            status=1
        elif ! diff -u "$SRC/$name.$ext" "$WORK/$name.$ext"; then
            echo "FAIL $name.$ext differs from the golden file (LOOM_UPDATE_GOLDEN=1 rewrites it)" >&2
            status=1
        fi
    done
done
[ $status = 0 ] && echo "golden: $# models match"
exit $status
