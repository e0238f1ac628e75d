#!/bin/sh
# The reference docs list everything the code has:
#   docs/ops.md      every op of the table in ir/ir_ops.h (its ONNX name in
#                    the first column of a table row);
#   docs/loop-ir.md  every loop IR intrinsic (unary and binary operators,
#                    runtime kernels, data errors) from backend/loop/loop_ir.h,
#                    each as `name` in backquotes.
# Prints each missing name and exits 1 when any is missing.
#
# usage: check_docs.sh SOURCE_DIR
set -eu
ROOT=$1
status=0
ops=$(sed -n 's/^ *X([A-Z_0-9]*, "\([A-Za-z]*\)".*/\1/p' "$ROOT/ir/ir_ops.h")
[ -n "$ops" ] || { echo "check_docs: no ops found in ir/ir_ops.h" >&2; exit 1; }
n=0
for op in $ops; do
    n=$((n + 1))
    # the op as a whole word in the first column of a table row
    if ! grep -Eq "^\| ([A-Za-z]+, )*$op(,|[ ]+\|)" "$ROOT/docs/ops.md"; then
        echo "docs/ops.md: op $op (ir/ir_ops.h) is not listed" >&2
        status=1
    fi
done
H=$ROOT/backend/loop/loop_ir.h
names=$(
    sed -n '/^#define LOOP_UNOPS/,/^$/p; /^#define LOOP_BINOPS/,/^$/p' "$H" |
        grep -o 'X([A-Z0-9_]*, "[a-z0-9_]*")' | sed 's/.*"\(.*\)")/\1/'
    sed -n '/^#define LOOP_KERNELS/,/^$/p' "$H" | grep -o 'X([A-Z0-9_]*, "[a-z0-9_]*"' |
        sed 's/.*"\(.*\)"/\1/'
    sed -n '/^#define LOOP_ERRORS/,/^$/p' "$H" | grep -o 'X([A-Z0-9_]*, [0-9]*, "[a-z0-9_]*"' |
        sed 's/.*"\(.*\)"/\1/'
)
m=0
for name in $names; do
    m=$((m + 1))
    if ! grep -q "\`$name\`" "$ROOT/docs/loop-ir.md"; then
        echo "docs/loop-ir.md: intrinsic \`$name\` (backend/loop/loop_ir.h) is not listed" >&2
        status=1
    fi
done
[ $status = 0 ] && echo "check_docs: $n ops in docs/ops.md, $m intrinsics in docs/loop-ir.md"
exit $status
