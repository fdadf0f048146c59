#!/usr/bin/env bash
# Rebuilds the benchmark kernels (wasm32-wasi, clang -O2).  Needs clang, lld and wasi-libc:
#   apt-get install -y clang lld wasi-libc libclang-rt-dev-wasm32
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-clang}
CFLAGS=(--target=wasm32-wasi -O2)
for k in fib nbody sieve matmul sha256 hello; do
  "$CC" "${CFLAGS[@]}" -o "$k.wasm" "$k.c" -lm
done
# Plain byte loops: keep clang from recognising them as memset/memcpy, and no bulk memory.
"$CC" "${CFLAGS[@]}" -fno-builtin -mno-bulk-memory -o memloop.wasm memloop.c
# memset/memcpy/memmove lowered to memory.fill / memory.copy.
"$CC" "${CFLAGS[@]}" -mbulk-memory -o bulkmem.wasm bulkmem.c
# SIMD kernels: the same source built twice, with v128 (`K.wasm`, -msimd128: wasm_simd128.h
# intrinsics under #ifdef __wasm_simd128__) and without (`K.scalar.wasm`, the scalar twin).
# Both print the same checksum.
for k in simd_hash simd_gemm simd_dot; do
  "$CC" "${CFLAGS[@]}" -msimd128 -o "$k.wasm" "$k.c"
  "$CC" "${CFLAGS[@]}" -o "$k.scalar.wasm" "$k.c"
done
# A core module without WASI for the host-call measurement.
"$CC" --target=wasm32 -O2 -nostdlib -Wl,--no-entry -o hostcall.wasm hostcall.c
ls -l ./*.wasm
