#!/bin/sh
# A $CC for tests: usage: sh cc_slow.sh SECONDS ARGS...: waits, then cc.
sleep "$1"
shift
exec cc "$@"
