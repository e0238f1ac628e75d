#!/bin/sh
# A $CC for tests: usage: sh cc_log.sh LOG ARGS...: appends ARGS to LOG,
# then runs cc with them.
log=$1
shift
echo "$*" >>"$log"
exec cc "$@"
