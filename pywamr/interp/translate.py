"""Translate one validated wasm function into a Python code object that CPython runs directly.

Operand-stack slots become Python locals named by their height (`s0`, `s1`, ...), wasm locals
become `l0`, `l1`, ...; the symbolic operand stack (`stack.py`) decides which values are folded
into their consumers and which are assigned to slots, and its height is checked against the
validator's at every instruction. Control flow is emitted in structured form (`structured.py`)
or, for functions nested beyond CPython's limits, in flat form (`flat.py`); straight-line
instructions by `emit.py`. If CPython refuses the source for one of its nesting limits (and only
then) the function is translated again in flat form without folding. Any other failure is a
translator bug and raises `TranslatorBug` naming the function. Does not run anything:
`interp/instance.py` binds the code to an instance.
"""
from __future__ import annotations

import types as pytypes

from ..errors import NotSupported
from ..runtime.trapping import WASM_FILENAME
from ..validate.function import FuncInfo
from .flat import FlatTranslator
from .stack import TranslatorBug
from .structured import StructuredTranslator, scan

MAX_LOOP_DEPTH = 17         # CPython: at most 20 statically nested loops
MAX_INDENT = 72             # frame indentation; CPython allows 100 levels, branches add some

# (flat, fold) per attempt: structured form with folding (flat when the scan says it is too
# deep), then the flat form without folding if CPython refuses the first for a nesting limit.
ATTEMPTS = ((False, True), (True, False))

# The messages of CPython's nesting limits: the only compile errors a retry may absorb.
_NESTING_LIMITS = ("too many statically nested blocks", "too many nested parentheses",
                   "too many levels of indentation")


def translate_function(types: list, func_types: list, info: FuncInfo, code, name: str, *,
                       flat: bool = False, fold: bool = True,
                       osr: str | None = None) -> tuple[str, dict]:
    """The source of `def <name>(l0, ...)` and the constants it refers to; `osr` names the
    namespace global of the function's OSR entry (structured form only, see structured.py)."""
    targeted, max_loops, max_indent = scan(code.body)
    if flat or max_loops > MAX_LOOP_DEPTH or max_indent > MAX_INDENT:
        translator = FlatTranslator(types, func_types, info, code, name, fold=fold)
    else:
        translator = StructuredTranslator(types, func_types, info, code, name, fold=fold,
                                          targeted=targeted, osr=osr)
    translator.header()
    translator.translate()
    return "\n".join(translator.lines) + "\n", translator.consts


def compile_function(types: list, func_types: list, info: FuncInfo, code, name: str,
                     display: str, osr: str | None = None) -> tuple[pytypes.CodeType, dict]:
    """Translate and compile one function; the code object is named `display`. With `osr`,
    loop headers check that global for an OSR entry (the code then names it in `co_names`)."""
    for flat, fold in ATTEMPTS:
        try:
            source, consts = translate_function(types, func_types, info, code, name,
                                                flat=flat, fold=fold, osr=osr)
        except TranslatorBug as exc:
            raise TranslatorBug(f"translating function {display}: {exc}") from exc
        except Exception as exc:
            raise TranslatorBug(f"translating function {display}: "
                                f"{type(exc).__name__}: {exc}") from exc
        try:
            module_code = compile(source, WASM_FILENAME, "exec")
        except RecursionError:
            continue            # expression or nesting depth beyond the compiler's recursion
        except SyntaxError as exc:
            if exc.msg in _NESTING_LIMITS:
                continue
            raise TranslatorBug(f"function {display}: CPython rejected the translation: "
                                f"{exc.msg} (line {exc.lineno}: {exc.text!r})") from exc
        function_code = next(c for c in module_code.co_consts
                             if isinstance(c, pytypes.CodeType))
        return function_code.replace(co_name=display, co_qualname=display), consts
    raise NotSupported(f"function {display} is nested too deeply for the interpreter "
                       f"(CPython refused its translation)")
