"""On-stack-replacement entries: native code that takes over a function's activation in the
middle, at one of its loop headers, and finishes it.

Sits beside `translate.py` (it is a variant of its `FunctionTranslator`) and is used by the
tiered engine (`engine/tier_osr.py`) through partial modules (`aot.compile_functions(...,
osr=...)`). The OSR entry of function F, symbol `osr<F>`, is an ordinary C-convention function
with F's results whose parameters are F's parameters, then F's declared locals, then an i32
loop id; its entry block stores them all into the locals' allocas and switches on the id to
the header of that loop. The rest is F's body translated exactly as usual, so after the loop
the whole activation ends natively. Loop ids are the loops' positions in the body; a loop can
be entered this way when it has no parameters and the operand stack below it is empty (the
interpreter's structured form checks exactly those loops, `interp/structured.py`), so no wasm
operand is live at its header; every other value the translator keeps across blocks lives in
allocas. The code before the switch target is left in place, unreachable from the entry (LLVM
deletes it); an id that names no such loop traps (unreachable), which the interpreter never
asks for.

The entry has no code range of its own in backtraces (`AotModule` leaves it out): the
interpreter frame it replaced is still on the Python stack below it and names the function.

Deliberately not here: functions that make tail calls (`tailcc`; the interpreter gives them
no OSR checks either), choosing when to enter, and converting the interpreter's values (the
entry trampoline of the OSR type does that, as for every call from Python).
"""
from __future__ import annotations

from ..binary.types import I32, FuncType
from ..errors import TrapCode
from .helpers import LLTYPE, ret_type
from .translate import FunctionTranslator


def osr_symbol(index: int) -> str:
    """The symbol of defined function `index`'s OSR entry."""
    return f"osr{index}"


def osr_type(ft: FuncType, declared_locals) -> FuncType:
    """The signature of an OSR entry: every local (parameters first), the loop id; F's results."""
    return FuncType(tuple(ft.params) + tuple(declared_locals) + (I32,), tuple(ft.results))


def entry_types(info) -> set:
    """The signatures that get an entry trampoline in a chunk of `info` (a
    `translate.ModuleInfo`): every compiled function's and every OSR entry's."""
    first = info.num_imported_funcs
    return {info.func_types[i] for i in info.defined_indices()} | {
        osr_type(info.func_types[i], info.module.codes[i - first].locals) for i in info.osr}


class OsrTranslator(FunctionTranslator):
    """Translate function `func_index` as its OSR entry (module docstring)."""

    def __init__(self, *args):
        super().__init__(*args)
        if self.tailcc:
            raise ValueError(f"aot: function {self.func_index} makes tail calls: no OSR entry")
        self.osr_headers = []
        self.switch_at = 0

    def emit_prologue(self) -> None:
        for i, t in enumerate(self.local_types):
            slot = self.alloca(LLTYPE[t])
            self.locals.append(slot)
            self.emit(f"store {LLTYPE[t]} %p{i}, ptr {slot}, align 8")
        self.emit_stack_check()
        self.switch_at = len(self.lines)

    def translate(self) -> str:
        self.emit_prologue()
        self.translate_body()
        loop_id = f"%p{len(self.local_types)}"
        cases = " ".join(f"i32 {pos}, label %{label}" for pos, label in self.osr_headers)
        default = self.trap_label(TrapCode.UNREACHABLE)
        self.lines[self.switch_at:self.switch_at] = [
            f"  switch i32 {loop_id}, label %{default} [{cases}]", "osr_start:"]
        return self.definition()

    def head(self) -> str:
        params = "".join(f", {LLTYPE[t]} %p{i}" for i, t in enumerate(self.local_types))
        return (f"define {ret_type(self.type.results)} @{osr_symbol(self.func_index)}"
                f"(ptr noalias nonnull align 8 dereferenceable({self.info.vmctx_size}) %vmctx"
                f"{params}, i32 %p{len(self.local_types)}) #0 {{")
