#!/bin/sh
# Installs the Debian 12 packages loom needs to build and test, if missing.
# Uses sudo when not root. Safe to run repeatedly: does nothing when all are
# present. Python packages are not needed to build or test (see README).
set -eu

PACKAGES="cmake make gcc g++ pkg-config
libcjson-dev libopenblas-dev libcriterion-dev
libprotobuf-c-dev protobuf-c-compiler libonnx-dev libonnx-testdata
libzip-dev libhdf5-dev
llvm-19-dev llvm-19-tools clang-19 libclang-rt-19-dev python3"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: need root or sudo to install:$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
