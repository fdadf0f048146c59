#!/usr/bin/env bash
# Rebuild big.wasm (about 1 MB of code) for the compile-time measurement.
set -euo pipefail
cd "$(dirname "$0")"
python3 gen_big.py 2500 > big.c
clang --target=wasm32-wasi -O2 -g0 big.c -o big.wasm
rm big.c
ls -l big.wasm
