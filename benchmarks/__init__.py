"""pywamr benchmark suite: `python -m benchmarks --help` (run from the repository root).

Kernels (C compiled to wasm32-wasi) live in benchmarks/kernels; the runner measures pywamr's two
engines next to peer runtimes (wasmtime's Python package, pywasm, the native wamr) and can write
BENCHMARKS.md.
"""
