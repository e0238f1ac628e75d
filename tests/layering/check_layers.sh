#!/bin/sh
# Fails when a source folder includes a header of a layer above it (or of a
# sibling it must not see). The layers, lowest first:
#   runtime < ir (ir/interp too) < frontend, passes < backend < tools
# Usage: check_layers.sh SOURCE_DIR
set -eu
root="$1"
status=0

# layer_of DIR: the layer number of a folder, or nothing for folders outside
# the compiler (include/ is the public API, usable from every layer).
layer_of() {
    case "$1" in
    runtime*) echo 0 ;;
    ir*) echo 1 ;;
    frontend*) echo 2 ;;
    passes*) echo 2 ;;
    backend*) echo 3 ;;
    tools*) echo 4 ;;
    esac
}

# home_of HEADER: the folder (relative to root) that holds HEADER.
home_of() {
    (cd "$root" && find runtime ir frontend passes backend tools include \
        -name "$1" -type f 2>/dev/null | head -n 1 | xargs -r dirname)
}

for dir in runtime ir frontend passes backend tools; do
    mine=$(layer_of "$dir")
    for f in $(cd "$root" && find "$dir" -name '*.[ch]' | sort); do
        for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$root/$f"); do
            home=$(home_of "$h")
            [ -z "$home" ] && continue
            theirs=$(layer_of "$home")
            [ -z "$theirs" ] && continue
            bad=0
            [ "$theirs" -gt "$mine" ] && bad=1
            # frontend and passes sit side by side and see only the ir.
            [ "$theirs" -eq "$mine" ] && [ "${home%%/*}" != "${f%%/*}" ] && bad=1
            if [ "$bad" -eq 1 ]; then
                echo "$f: includes \"$h\" from $home, a layer it must not see" >&2
                status=1
            fi
        done
    done
done
[ "$status" -eq 0 ] && echo "layering: every #include points down"
exit "$status"
