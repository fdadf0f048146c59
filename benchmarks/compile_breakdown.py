"""Compile time of the aot engine on a large module, with its breakdown.

    python -m benchmarks.compile_breakdown [MODULE.wasm]    (default: benchmarks/big/big.wasm)

Phases: decode + validate; IR generation (text IR for every chunk, in this process); and, per
chunk in this process, LLVM parse + verify, the optimisation passes and code generation. The
last line is the real parallel compile (`compile_module`, cache off, 2 worker processes), whose
wall time is what a user waits for.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parent / "big" / "big.wasm"


def main(argv: list[str]) -> int:
    from pywamr.aot import codegen, compile_module
    from pywamr.aot.compiler import split_chunks
    from pywamr.aot.translate import ModuleInfo, chunk_ir
    from pywamr.binary.decoder import decode_module
    from pywamr.validate import validate_module

    path = Path(argv[0]) if argv else DEFAULT
    data = path.read_bytes()
    t0 = time.perf_counter()
    validated = validate_module(decode_module(data), data)
    t1 = time.perf_counter()
    code_bytes = sum(c.size for c in validated.module.codes)
    info = ModuleInfo(validated.module, validated.func_types, validated.funcs)
    chunks = split_chunks(info, 2)
    irs = [chunk_ir(info, funcs, with_entries=(n == 0)) for n, funcs in enumerate(chunks)]
    t2 = time.perf_counter()
    phases = {"parse+verify": 0.0, "passes": 0.0, "codegen": 0.0}
    for ir in irs:
        codegen.compile_ir(ir, timings=phases)
    t3 = time.perf_counter()
    compile_module(validated, cache=None, jobs=2)
    t4 = time.perf_counter()
    mb = code_bytes / 1e6
    print(f"module: {path.name}, {len(data) / 1e6:.2f} MB file, {mb:.2f} MB of code, "
          f"{len(validated.module.codes)} functions, {len(chunks)} chunks")
    print(f"decode + validate:      {t1 - t0:7.2f} s")
    print(f"IR generation:          {t2 - t1:7.2f} s")
    for name, seconds in phases.items():
        print(f"LLVM {name + ':':18s}{seconds:7.2f} s")
    print(f"sequential total:       {t3 - t0:7.2f} s  ({mb / (t3 - t0):.2f} MB/s)")
    print(f"parallel compile_module (2 workers, wall): {t4 - t3:.2f} s "
          f"({mb / (t4 - t3):.2f} MB of code per s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
