#!/bin/sh
# A $CC for tests: usage: sh cc_log.sh LOG ARGS...: appends ARGS to LOG,
# then runs cc with them and -O0 last (the tests check the commands and the
# results, not the code's speed: -O0 builds the runtime in seconds, not 20).
# With CC_SLEEP=SECONDS it first waits that long (a slow compiler).
log=$1
shift
echo "$*" >>"$log"
[ -z "${CC_SLEEP:-}" ] || sleep "$CC_SLEEP"
exec cc "$@" -O0
