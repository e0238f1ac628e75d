#!/bin/sh
# A $CC for tests: usage: sh cc_slow.sh SECONDS ARGS...: waits, then runs cc
# with ARGS and -O0 last (as cc_log.sh).
sleep "$1"
shift
exec cc "$@" -O0
