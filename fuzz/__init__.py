"""Differential fuzzing of pywamr against wasmtime.

Sits outside the `pywamr` package on purpose: it imports the `wasmtime` PyPI package as the
behavioural oracle, and the runtime must never import that. It generates modules with
`wasm-tools smith` (Wasm 2.0 without SIMD by default; multi-memory, SIMD and relaxed SIMD in
their modes), runs each on pywamr's engines and on wasmtime, and compares what a host can
observe: call results, traps, exported globals, memories and table sizes. `python -m fuzz` runs campaigns; `tests/test_fuzz.py` runs a fixed-seed one and the
committed regression fixtures. It does not fuzz WASI, components or the decoder's error paths
(the byte-mutation test in `tests/test_binary.py` covers the last).
"""
from .compare import Verdict, compare
from .generate import generate_module
from .outcome import Outcome

__all__ = ["Outcome", "Verdict", "compare", "generate_module"]
