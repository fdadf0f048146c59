"""The two native calling conventions of wasm functions, and the glue that gives every function
an entry in both: how `return_call` and `return_call_indirect` run in constant stack space.

Sits under `translate.py` and `emit/call.py` (which define and call functions) and beside
`vmctx.py` (whose function records hold both entries). LLVM guarantees a `tail call` only
between functions of the `tailcc` convention (then whatever their prototypes), but on x86-64
`tailcc` costs every call a little (the callee pops an 8-byte argument area, the caller
re-adjusts the stack pointer): fib ran about 30% slower with every function `tailcc`. So:

- A function whose body contains a tail call ("tail function") is defined `tailcc`: its tail
  calls then replace its frame. Its symbol `w<i>` is also `w<i>_t`; `w<i>_c` is a C thunk.
- Every other function is defined in the C convention exactly as before (ordinary calls cost
  what they did): `w<i>` is also `w<i>_c`; `w<i>_t` is a `tailcc` thunk that calls it. A tail
  call to such a function jumps to the thunk, whose frame replaces the caller's; the function
  itself makes no tail call, so the chain ends in it and the stack is one frame deeper only
  for that call.
- A function record's CODE is the `_c` entry (entry trampolines, `callrec`, component
  adapters), its TAIL_CODE the `_t` entry (tail calls through records: imports, tables).
- Thunks are never inlined and lie outside every function's code range, so a backtrace never
  shows them: a trap reports the callee where the tail-calling function was, as wasmtime does.
- In the `tailcc` convention, results that do not fit the x86-64 return registers (more than
  3 integers or 4 floats, measured with LLVM 22) go through a buffer parameter after vmctx:
  LLVM's own hidden result pointer would rule out its guaranteed tail calls, while a tail
  call simply hands the caller's buffer on.

Deliberately not here: the calls themselves (`translate.py`, `emit/call.py`).
"""
from __future__ import annotations

from ..binary.types import FuncType
from .helpers import LLTYPE, func_symbol, ret_type
from .vmctx import buffer_words

TAIL_CALL_OPCODES = frozenset((0x12, 0x13))     # return_call, return_call_indirect


def c_symbol(index: int) -> str:
    """Defined function `index`'s entry in the C convention (a record's CODE)."""
    return f"w{index}_c"


def tail_symbol(index: int) -> str:
    """Defined function `index`'s entry in the `tailcc` convention (a record's TAIL_CODE)."""
    return f"w{index}_t"


def makes_tail_calls(code) -> bool:
    """Whether a function body (`ast.Code`) contains a tail call."""
    return any(instr[0] in TAIL_CALL_OPCODES for instr in code.body)


def results_in_memory(results) -> bool:
    """Whether `tailcc` functions with these results return them through a buffer (a value
    buffer: 8 bytes per result, 16 for a v128, `vmctx.buffer_words`) passed after vmctx,
    returning `void` (module docstring)."""
    ints = sum(1 for t in results if LLTYPE[t] in ("i32", "i64"))
    return ints > 3 or len(results) - ints > 4


def tailcc_ret(results) -> str:
    """The LLVM return type of a function in the `tailcc` convention."""
    return "void" if results_in_memory(results) else ret_type(results)


def tailcc_prototype(ft: FuncType) -> str:
    """`(ptr[, ptr], params...)`: the parameter types of a `tailcc` function."""
    buffer = ", ptr" if results_in_memory(ft.results) else ""
    return "(ptr" + buffer + "".join(f", {LLTYPE[t]}" for t in ft.params) + ")"


def c_prototype(ft: FuncType) -> str:
    return "(ptr" + "".join(f", {LLTYPE[t]}" for t in ft.params) + ")"


def load_buffer(results, buffer: str, prefix: str) -> list[str]:
    """Lines loading `results` from `buffer`; the values are `<prefix>0`, `<prefix>1`, ..."""
    out = []
    words, _ = buffer_words(results)
    for i, t in enumerate(results):
        out.append(f"  {prefix}p{i} = getelementptr inbounds i64, ptr {buffer}, i64 {words[i]}")
        out.append(f"  {prefix}{i} = load {LLTYPE[t]}, ptr {prefix}p{i}, align 8")
    return out


def _return_aggregate(results, prefix: str) -> list[str]:
    """Lines returning the values `<prefix>0...` as the C convention does."""
    if not results:
        return ["  ret void"]
    if len(results) == 1:
        return [f"  ret {LLTYPE[results[0]]} {prefix}0"]
    rt = ret_type(results)
    out, agg = [], "undef"
    for i, t in enumerate(results):
        out.append(f"  {prefix}agg{i} = insertvalue {rt} {agg}, {LLTYPE[t]} {prefix}{i}, {i}")
        agg = f"{prefix}agg{i}"
    return out + [f"  ret {rt} {agg}"]


def function_glue(index: int, ft: FuncType, tail: bool) -> str:
    """The second entry of defined function `index` (a thunk in the other convention) and the
    alias that names its own code as the entry in its convention (module docstring)."""
    rt = ret_type(ft.results)
    params = "".join(f", {LLTYPE[t]} %p{i}" for i, t in enumerate(ft.params))
    body = f"@{func_symbol(index)}"
    in_memory = results_in_memory(ft.results)
    if tail:
        out = [f"@{tail_symbol(index)} = alias {tailcc_ret(ft.results)} {tailcc_prototype(ft)}, "
               f"ptr {body}",
               f"define {rt} @{c_symbol(index)}(ptr %vmctx{params}) #0 {{", "entry:"]
        if in_memory:
            out += [f"  %buf = alloca [{buffer_words(ft.results)[1]} x i64], align 16",
                    f"  notail call tailcc void {body}(ptr %vmctx, ptr %buf{params}) #1"]
            out += load_buffer(ft.results, "%buf", "%r") + _return_aggregate(ft.results, "%r")
        elif ft.results:
            out += [f"  %r = notail call tailcc {rt} {body}(ptr %vmctx{params}) #1",
                    f"  ret {rt} %r"]
        else:
            out += [f"  notail call tailcc void {body}(ptr %vmctx{params}) #1", "  ret void"]
    else:
        buffer = ", ptr %results" if in_memory else ""
        out = [f"@{c_symbol(index)} = alias {rt} {c_prototype(ft)}, ptr {body}",
               f"define tailcc {tailcc_ret(ft.results)} @{tail_symbol(index)}"
               f"(ptr %vmctx{buffer}{params}) #0 {{", "entry:"]
        call = f"notail call {rt} {body}(ptr %vmctx{params}) #1"
        if in_memory:
            out.append(f"  %r = {call}")
            words, _ = buffer_words(ft.results)
            for i, t in enumerate(ft.results):
                out += [f"  %v{i} = extractvalue {rt} %r, {i}",
                        f"  %p{i}r = getelementptr inbounds i64, ptr %results, i64 {words[i]}",
                        f"  store {LLTYPE[t]} %v{i}, ptr %p{i}r, align 8"]
            out.append("  ret void")
        elif ft.results:
            out += [f"  %r = {call}", f"  ret {rt} %r"]
        else:
            out += [f"  {call}", "  ret void"]
    return "\n".join(out + ["}", ""])
