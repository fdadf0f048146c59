"""Worker-process side of parallel compilation: IR text in, object bytes out.

Runs in processes of a `spawn` pool (see `compiler.py`) so that an LLVM abort kills only the
worker. Also runnable as `python -m pywamr.aot.worker IN.ll OUT.o` for debugging one chunk.
Imports nothing of pywamr but `codegen`.
"""
from __future__ import annotations

import sys


def compile_chunk(ir_text: str) -> bytes:
    from .codegen import compile_ir
    return compile_ir(ir_text)


def warm_up() -> bool:
    from .codegen import target_machine
    target_machine()
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m pywamr.aot.worker IN.ll OUT.o", file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        obj = compile_chunk(f.read())
    with open(argv[1], "wb") as f:
        f.write(obj)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
