"""Emitters of linear-memory access: loads, stores, size, grow and the bulk operations.

Every access is bounds-checked explicitly (u32 address + offset + width, as 64-bit, against the
current size in vmctx of the memory the instruction names: memory 0 in its fixed slots, memory N
in its own; see `vmctx.memory_base`) and uses `align 1`. Loads and stores carry a TBAA tag
(`helpers.TBAA_LINEAR_MEMORY`) that tells LLVM they never touch the memory base/size slots, so
the bound of a check stays in a register across guest stores and loops (LICM).

Checks are merged where that cannot change what happens (`merged_checks`): within straight-line
code, a load whose address is `local.get x` checks at once the largest extent of the later
accesses through the same unchanged `x` in the same memory, up to the first side effect or
instruction that could trap otherwise; those later accesses then emit no check. Any trap is
still the same out-of-bounds trap, raised with exactly the same side effects done (none happen
in between), so the result is indistinguishable from checking each access. Checks are not
hoisted out of loops: an exact trap needs the stores before the faulting access done, and a
whole-loop range check needs trip counts that this translator does not compute. The access width, the value type and
whether a narrow load sign- or zero-extends all come from the instruction table (`OpInfo.width`,
`.sig`, `.extend`); this module only says how to spell them in LLVM. `memory.fill` and
`memory.copy` check their whole range before writing and then use `llvm.memset`/`llvm.memmove`;
`memory.grow`, `memory.init` and `data.drop` call the Python runtime helper, which also
refreshes the vmctx of every instance sharing the memory.
"""
from __future__ import annotations

from ...binary.opcodes import BY_NAME, OPS
from ...binary.types import F32, F64
from ...errors import TrapCode
from .. import vmctx
from . import versioning
from ..helpers import LLTYPE, TBAA_LINEAR_MEMORY


def _memory_type(valtype: int, width: int) -> str:
    """LLVM type of the bytes in memory: the value type itself, or a narrower integer."""
    if valtype in (F32, F64):
        return LLTYPE[valtype]
    return f"i{8 * width}"


_SCALAR_CODES: frozenset = frozenset()       # filled below, once the access list is known
_GROUP_WINDOW = 64      # instructions scanned after a group leader (keeps planning linear)
_LOCAL_GET, _LOCAL_SET, _LOCAL_TEE = (BY_NAME[n].code for n in ("local.get", "local.set",
                                                                   "local.tee"))


def _harmless(info) -> bool:
    """An instruction that neither has a side effect nor can trap (nor branches): it may sit
    between a merged check and the accesses it stands for."""
    if info is None or info.feature is not None:
        return False
    if info.family in ("constant", "compare", "parametric"):
        return True
    if info.family == "numeric":
        return not (info.name[:3] in ("i32", "i64") and info.name[4:7] in ("div", "rem"))
    if info.family == "conversion":
        return "trunc_f" not in info.name            # trunc_sat is fine; plain trunc traps
    return info.name in ("local.get", "local.set", "local.tee", "global.get")


def merged_checks(body) -> dict[int, int]:
    """{position of a load or store: extent of its bounds check past the address operand},
    for the accesses whose check differs from their own offset + width (see the module
    docstring): a group leader checks the group's largest extent, its members check nothing
    (extent 0). A store may end a group but not lead one (its side effect would come after a
    trap that belongs to a later access)."""
    plan: dict[int, int] = {}
    for lead in range(1, len(body)):
        instr = body[lead]
        if (instr[0] not in _SCALAR_CODES or lead in plan or body[lead - 1][0] != _LOCAL_GET
                or not OPS[instr[0]].sig[1]):
            continue
        local, memory = body[lead - 1][1], instr[3]
        extent = instr[2] + OPS[instr[0]].width
        members = []
        for pos in range(lead + 1, min(len(body), lead + _GROUP_WINDOW)):
            code = body[pos][0]
            info = OPS.get(code)
            if code in _SCALAR_CODES:
                same = body[pos - 1] == (_LOCAL_GET, local) and body[pos][3] == memory
                if same:
                    members.append(pos)
                    extent = max(extent, body[pos][2] + info.width)
                if not info.sig[1]:                   # a store: its side effect ends the group
                    break
            elif code in (_LOCAL_SET, _LOCAL_TEE) and body[pos][1] == local:
                break
            elif not _harmless(info):
                break
        if members:
            plan[lead] = extent
            for pos in members:
                plan[pos] = 0
    return plan


def _extent(t, instr) -> int | None:
    """The extent to check for the access being emitted (None: its own offset + width)."""
    plan = getattr(t, "merged_checks", None)
    if plan is None:
        plan = t.merged_checks = merged_checks(t.code.body)
    return plan.get(t.pos)


def _address(t, address: str, instr) -> str:
    """Native address of the access being emitted: checked (alone or merged), or, in the
    unchecked copy of a versioned loop, proven in bounds (`versioning.address`)."""
    if t.pos in getattr(t, "unchecked", ()):
        return versioning.address(t, instr[2], instr[3])
    return t.memory_address(address, instr[2], OPS[instr[0]].width, instr[3],
                            extent=_extent(t, instr))


def _load(info):
    valtype = LLTYPE[info.sig[1][0]]
    width = info.width
    memtype = _memory_type(info.sig[1][0], width)
    ext = {"s": "sext", "u": "zext", None: None}[info.extend]

    def emit(t, instr) -> None:
        ptr = _address(t, t.pop(), instr)
        v = t.value(f"load {memtype}, ptr {ptr}, align 1, {TBAA_LINEAR_MEMORY}")
        if ext:
            v = t.value(f"{ext} {memtype} {v} to {valtype}")
        t.push(valtype, v)
    return emit


def _store(info):
    valtype = LLTYPE[info.sig[0][1]]
    width = info.width
    memtype = _memory_type(info.sig[0][1], width)

    def emit(t, instr) -> None:
        value = t.pop()
        ptr = _address(t, t.pop(), instr)
        if memtype != valtype:
            value = t.value(f"trunc {valtype} {value} to {memtype}")
        t.emit(f"store {memtype} {value}, ptr {ptr}, align 1, {TBAA_LINEAR_MEMORY}")
    return emit


def emit_memory_size(t, instr) -> None:
    size = t.memory_field(vmctx.memory_size(instr[1]), "i64")
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
    size = t.memory_field(vmctx.memory_size(memory), "i64")
    t.check_range(dst, n, size, TrapCode.MEMORY_OUT_OF_BOUNDS)
    ptr = _byte_pointer(t, t.memory_field(vmctx.memory_base(memory)), dst)
    byte = t.value(f"trunc i32 {value} to i8")
    n64 = t.value(f"zext i32 {n} to i64")
    t.declare("declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)")
    t.emit(f"call void @llvm.memset.p0.i64(ptr {ptr}, i8 {byte}, i64 {n64}, i1 false)")


def emit_memory_copy(t, instr) -> None:
    n = t.pop()
    src = t.pop()
    dst = t.pop()
    dst_memory, src_memory = instr[1], instr[2]
    src_size = t.memory_field(vmctx.memory_size(src_memory), "i64")
    t.check_range(src, n, src_size, TrapCode.MEMORY_OUT_OF_BOUNDS)
    dst_size = (src_size if dst_memory == src_memory
                else t.memory_field(vmctx.memory_size(dst_memory), "i64"))
    t.check_range(dst, n, dst_size, TrapCode.MEMORY_OUT_OF_BOUNDS)
    src_base = t.memory_field(vmctx.memory_base(src_memory))
    dst_base = (src_base if dst_memory == src_memory
                else t.memory_field(vmctx.memory_base(dst_memory)))
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
_SCALAR_CODES = frozenset(info.code for info in _SCALAR)
HANDLERS = {info.name: (_load(info) if info.sig[1] else _store(info)) for info in _SCALAR}
HANDLERS.update({"memory.size": emit_memory_size, "memory.grow": emit_memory_grow,
                 "memory.fill": emit_memory_fill, "memory.copy": emit_memory_copy,
                 "memory.init": emit_memory_init, "data.drop": emit_data_drop})
