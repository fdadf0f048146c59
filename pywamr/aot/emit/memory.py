"""Emitters of linear-memory access: loads, stores, size, grow and the bulk operations.

Every access is bounds-checked explicitly (u32 address + offset + width, as 64-bit, against the
current size in vmctx of the memory the instruction names: memory 0 in its fixed slots, memory N
in its own; see `vmctx.memory_base`) and uses `align 1`. The access width, the value type and
whether a narrow load sign- or zero-extends all come from the instruction table (`OpInfo.width`,
`.sig`, `.extend`); this module only says how to spell them in LLVM. `memory.fill` and
`memory.copy` check their whole range before writing and then use `llvm.memset`/`llvm.memmove`;
`memory.grow`, `memory.init` and `data.drop` call the Python runtime helper, which also
refreshes the vmctx of every instance sharing the memory.
"""
from __future__ import annotations

from ...binary.opcodes import OPS
from ...binary.types import F32, F64
from ...errors import TrapCode
from .. import vmctx
from ..helpers import LLTYPE


def _memory_type(valtype: int, width: int) -> str:
    """LLVM type of the bytes in memory: the value type itself, or a narrower integer."""
    if valtype in (F32, F64):
        return LLTYPE[valtype]
    return f"i{8 * width}"


def _load(info):
    valtype = LLTYPE[info.sig[1][0]]
    width = info.width
    memtype = _memory_type(info.sig[1][0], width)
    ext = {"s": "sext", "u": "zext", None: None}[info.extend]

    def emit(t, instr) -> None:
        offset = instr[2]
        ptr = t.memory_address(t.pop(), offset, width, instr[3])
        v = t.value(f"load {memtype}, ptr {ptr}, align 1")
        if ext:
            v = t.value(f"{ext} {memtype} {v} to {valtype}")
        t.push(valtype, v)
    return emit


def _store(info):
    valtype = LLTYPE[info.sig[0][1]]
    width = info.width
    memtype = _memory_type(info.sig[0][1], width)

    def emit(t, instr) -> None:
        offset = instr[2]
        value = t.pop()
        ptr = t.memory_address(t.pop(), offset, width, instr[3])
        if memtype != valtype:
            value = t.value(f"trunc {valtype} {value} to {memtype}")
        t.emit(f"store {memtype} {value}, ptr {ptr}, align 1")
    return emit


def emit_memory_size(t, instr) -> None:
    size = t.vmctx_field(vmctx.memory_size(instr[1]), "i64")
    pages = t.value(f"lshr i64 {size}, 16")
    t.push("i32", t.value(f"trunc i64 {pages} to i32"))


def emit_memory_grow(t, instr) -> None:
    delta = t.value(f"zext i32 {t.pop()} to i64")
    old = t.runtime_call(vmctx.RT_MEMORY_GROW, delta, str(instr[1]))
    t.push("i32", t.value(f"trunc i64 {old} to i32"))


def _byte_pointer(t, base: str, address: str) -> str:
    """Pointer to linear-memory byte `address` (an i32 already bounds-checked)."""
    offset = t.value(f"zext i32 {address} to i64")
    return t.value(f"getelementptr i8, ptr {base}, i64 {offset}")


def emit_memory_fill(t, instr) -> None:
    n = t.pop()
    value = t.pop()
    dst = t.pop()
    memory = instr[1]
    size = t.vmctx_field(vmctx.memory_size(memory), "i64")
    t.check_range(dst, n, size, TrapCode.MEMORY_OUT_OF_BOUNDS)
    ptr = _byte_pointer(t, t.vmctx_field(vmctx.memory_base(memory)), dst)
    byte = t.value(f"trunc i32 {value} to i8")
    n64 = t.value(f"zext i32 {n} to i64")
    t.declare("declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)")
    t.emit(f"call void @llvm.memset.p0.i64(ptr {ptr}, i8 {byte}, i64 {n64}, i1 false)")


def emit_memory_copy(t, instr) -> None:
    n = t.pop()
    src = t.pop()
    dst = t.pop()
    dst_memory, src_memory = instr[1], instr[2]
    src_size = t.vmctx_field(vmctx.memory_size(src_memory), "i64")
    t.check_range(src, n, src_size, TrapCode.MEMORY_OUT_OF_BOUNDS)
    dst_size = (src_size if dst_memory == src_memory
                else t.vmctx_field(vmctx.memory_size(dst_memory), "i64"))
    t.check_range(dst, n, dst_size, TrapCode.MEMORY_OUT_OF_BOUNDS)
    src_base = t.vmctx_field(vmctx.memory_base(src_memory))
    dst_base = (src_base if dst_memory == src_memory
                else t.vmctx_field(vmctx.memory_base(dst_memory)))
    dp = _byte_pointer(t, dst_base, dst)
    sp = _byte_pointer(t, src_base, src)
    n64 = t.value(f"zext i32 {n} to i64")
    t.declare("declare void @llvm.memmove.p0.p0.i64(ptr, ptr, i64, i1)")
    t.emit(f"call void @llvm.memmove.p0.p0.i64(ptr {dp}, ptr {sp}, i64 {n64}, i1 false)")


def emit_memory_init(t, instr) -> None:
    data_index = instr[1] | instr[2] << 32
    n = t.value(f"zext i32 {t.pop()} to i64")
    src = t.value(f"zext i32 {t.pop()} to i64")
    dst = t.value(f"zext i32 {t.pop()} to i64")
    t.runtime_call(vmctx.RT_MEMORY_INIT, str(data_index), dst, src, n)


def emit_data_drop(t, instr) -> None:
    t.runtime_call(vmctx.RT_DATA_DROP, str(instr[1]))


# Plain scalar loads and stores: memarg instructions of Wasm 2.0 (lane and atomic accesses,
# when they come, have emitters of their own families).
_SCALAR = [info for info in OPS.values()
           if info.imm == "memarg" and info.family == "memory" and info.feature is None]
HANDLERS = {info.name: (_load(info) if info.sig[1] else _store(info)) for info in _SCALAR}
HANDLERS.update({"memory.size": emit_memory_size, "memory.grow": emit_memory_grow,
                 "memory.fill": emit_memory_fill, "memory.copy": emit_memory_copy,
                 "memory.init": emit_memory_init, "data.drop": emit_data_drop})
