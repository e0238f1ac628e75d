#!/bin/sh
# A $CC for tests that fails the way a compiler does: a message, status 3.
echo "cc_fail.sh: error: pretend compile error" >&2
exit 3
