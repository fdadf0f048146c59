"""The marks on the first lines of a chunk's IR text that tell `codegen.compile_ir` how to
compile it: its opt level (`opt_mark`) and fast machine-code generation for one huge function
(`FAST_CODEGEN_MARK`).

Sits between `compiler` (which writes the marks, in the guest's process) and `codegen` (which
reads them, in an LLVM worker process). Kept apart from both so that neither side imports the
other's weight: the guest's process writes marks without importing `llvmlite.binding` (tens
of MiB and tens of ms), the worker reads them without importing the translator. Deliberately
nothing else here.
"""
from __future__ import annotations

FAST_CODEGEN_MARK = "; pywamr: fast machine-code generation\n"
OPT_MARK = "; pywamr: opt="


def opt_mark(opt_level: int) -> str:
    """The first line of a chunk's IR that makes `compile_ir` use `opt_level` (0-3)."""
    if opt_level not in (0, 1, 2, 3):
        raise ValueError(f"opt level must be 0, 1, 2 or 3, not {opt_level!r}")
    return f"{OPT_MARK}{opt_level}\n"


def chunk_options(ir_text: str, default_level: int) -> tuple[int, bool]:
    """(opt level, fast machine-code generation) that the marks at the top of a chunk ask for
    (`default_level` when it has no opt mark)."""
    level, fast = default_level, False
    while ir_text.startswith("; pywamr: "):
        line, _, ir_text = ir_text.partition("\n")
        if line.startswith(OPT_MARK):
            level = int(line[len(OPT_MARK):])
        elif line + "\n" == FAST_CODEGEN_MARK:
            fast = True
    return min(max(level, 0), 3), fast
