#!/bin/sh
# The emitted header as users meet it: for every tests/emit/*.lir, NAME.h
# compiles as C99 under -pedantic -Werror in a file that expands every
# *_SHAPE macro (a scalar's included) and as C++ (-std=c++11 -pedantic);
# then checks.lir is built as C and linked into a C++ program
# (checks_main.cc) through the header's extern "C" guard, which checks the
# data-error contract of checks_run and checks_last_error.
#
# usage: header.sh LOOM SOURCE_DIR WORK_DIR CC CXX
set -eu
LOOM=$1 ROOT=$2 WORK=$3 CC=$4 CXX=$5
SRC=$ROOT/tests/emit
rm -rf "$WORK"
mkdir -p "$WORK"
status=0
for model in "$SRC"/*.lir; do
    name=$(basename "$model" .lir)
    "$LOOM" compile "$model" -o "$WORK/$name.c" --standalone >/dev/null
    use=$WORK/use_$name.c
    {
        echo "#include \"$name.h\""
        grep -o '^#define [A-Z0-9_]*_SHAPE' "$WORK/$name.h" | sed 's/^#define //' |
            awk -v n="$name" '{ printf "extern const int64_t %s_s%d[];\nconst int64_t %s_s%d[] = %s;\n", n, NR, n, NR, $1 }'
    } >"$use"
    if ! "$CC" -std=c99 -pedantic -Wall -Wextra -Werror -I"$WORK" -c "$use" -o "$use.o"; then
        echo "FAIL: $name.h as C99 -pedantic" >&2
        status=1
    fi
    if ! "$CXX" -x c++ -std=c++11 -pedantic -Wall -Wextra -Werror -fsyntax-only "$WORK/$name.h"; then
        echo "FAIL: $name.h as C++" >&2
        status=1
    fi
done
"$CC" -std=c99 -O1 -c "$WORK/checks.c" -o "$WORK/checks.o"
"$CXX" -std=c++11 -O1 -Wall -Wextra -Werror -I"$WORK" -c "$SRC/checks_main.cc" -o "$WORK/main.o"
"$CXX" -o "$WORK/checks_main" "$WORK/main.o" "$WORK/checks.o" -lm
"$WORK/checks_main" || status=1
[ $status = 0 ] && echo "header: every header compiles as C99 and C++; checks contract holds"
exit $status
