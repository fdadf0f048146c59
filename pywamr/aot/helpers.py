"""Builder idioms shared by every emitter: LLVM type names, constants, traps, bounds checks.

Sits under `translate.py` and the `emit/` families (numba's `cgutils`). IR is produced as text:
an emitter appends lines and pushes operand strings onto the translator's value stack. This
module knows nothing about control frames or the module; `FunctionBuilder` is the base class of
the per-function translator and holds only the text, fresh names and the trap blocks.
"""
from __future__ import annotations

import math
import struct

from ..binary.types import EXTERNREF, F32, F64, FUNCREF, I32, I64, V128, FuncType
from ..errors import TrapCode
from . import vmctx

# A v128 is one canonical vector type everywhere a value travels (stack, locals, calls, memory);
# the SIMD emitters bitcast it to the lane shape they work on (see emit/vector.py).
LLTYPE = {I32: "i32", I64: "i64", F32: "float", F64: "double", FUNCREF: "i64", EXTERNREF: "i64",
          V128: "<2 x i64>"}
# The letter of each value type in signature keys and symbol names.
TYPE_LETTER = {I32: "i", I64: "l", F32: "f", F64: "d", FUNCREF: "r", EXTERNREF: "x", V128: "v"}
# The zero of each LLVM type (a fresh local's value).
ZERO = {"i32": "0", "i64": "0", "float": "0.0", "double": "0.0", "<2 x i64>": "zeroinitializer"}
BITS = {"i32": 32, "i64": 64}

# Type-based alias analysis tags. Linear memory (a buffer of its own) never overlaps the
# memory base/size slots of a vmctx, and saying so lets LLVM keep those slots in registers
# across guest stores: the bound of a bounds check becomes loop-invariant (LICM), so a loop's
# checks have computable exit counts and the vectoriser can run the loop up to the first
# failing check and leave the rest, trap included, to the scalar loop. Untagged accesses
# (globals, tables, the process context, memset/memmove) still alias everything, and calls
# still clobber both. The nodes live in `TBAA_METADATA`, appended to every chunk.
TBAA_MEMORY_SLOT = "!tbaa !21"
TBAA_LINEAR_MEMORY = "!tbaa !23"
TBAA_METADATA = """\
!20 = !{!"pywamr tbaa"}
!21 = !{!22, !22, i64 0}
!22 = !{!"vmctx memory slot", !20, i64 0}
!23 = !{!24, !24, i64 0}
!24 = !{!"linear memory", !20, i64 0}
"""


def ret_type(results) -> str:
    if not results:
        return "void"
    if len(results) == 1:
        return LLTYPE[results[0]]
    return "{" + ", ".join(LLTYPE[t] for t in results) + "}"


def signature_key(ft: FuncType) -> str:
    return "".join(TYPE_LETTER[t] for t in ft.params) + "_" + "".join(
        TYPE_LETTER[t] for t in ft.results)


def native_functions(num_imported: int, num_funcs: int, compiled=None) -> list[int]:
    """The function indices that get native code, ascending: every defined function, or the
    `compiled` ones of a partial module."""
    if compiled is not None:
        return sorted(compiled)
    return list(range(num_imported, num_funcs))


def func_symbol(index: int) -> str:
    """The symbol of defined function `index`'s code (in the convention `conventions.py`
    chooses for it)."""
    return f"w{index}"


def int_const(value: int, bits: int) -> str:
    """An integer constant in the signed form LLVM's parser accepts for every width."""
    value &= (1 << bits) - 1
    if value >> (bits - 1):
        value -= 1 << bits
    return str(value)


def f64_const(bits: int) -> str:
    return f"0x{bits:016X}"


def f32_const_or_none(bits: int) -> str | None:
    """A float constant as LLVM's double-hex text, or None for NaNs (emit a bitcast instead:
    converting a NaN through double could quieten a signalling payload)."""
    if bits & 0x7F800000 == 0x7F800000 and bits & 0x007FFFFF:
        return None
    value = struct.unpack("<f", struct.pack("<I", bits))[0]
    if math.isinf(value) or value == value:
        return f64_const(struct.unpack("<Q", struct.pack("<d", value))[0])
    return None


def intrinsic_decl(name: str, ret: str, *params: str) -> str:
    return f"declare {ret} @{name}({', '.join(params)})"


class FunctionBuilder:
    """Text of one LLVM function under construction: lines, fresh names, shared trap blocks."""

    def __init__(self, func_index: int, declarations: set):
        self.func_index = func_index
        self.lines: list[str] = []
        self.allocas: list[str] = []
        self.declarations = declarations      # shared by the whole chunk
        self._counter = 0
        self._traps: dict[int, str] = {}

    # -- names -----------------------------------------------------------------------------
    def tmp(self) -> str:
        self._counter += 1
        return f"%t{self._counter}"

    def new_label(self, hint: str = "b") -> str:
        self._counter += 1
        return f"{hint}{self._counter}"

    def emit(self, line: str) -> None:
        self.lines.append("  " + line)

    def start_block(self, label: str) -> None:
        self.lines.append(f"{label}:")

    def value(self, text: str) -> str:
        """Emit `%tN = text` and return `%tN`."""
        name = self.tmp()
        self.lines.append(f"  {name} = {text}")
        return name

    def alloca(self, lltype: str) -> str:
        name = self.tmp()
        self.allocas.append(f"  {name} = alloca {lltype}, align 8")
        return name

    def declare(self, line: str) -> None:
        self.declarations.add(line)

    def call_intrinsic(self, name: str, ret: str, args: list[tuple[str, str]]) -> str:
        self.declare(intrinsic_decl(name, ret, *(t for t, _ in args)))
        return self.value(f"call {ret} @{name}({', '.join(f'{t} {v}' for t, v in args)})")

    # -- traps -----------------------------------------------------------------------------
    def trap_label(self, code: TrapCode) -> str:
        number = vmctx.TRAP_NUMBER[code]
        label = self._traps.get(number)
        if label is None:
            label = self._traps[number] = f"trap{number}"
        return label

    def trap_if(self, cond: str, code: TrapCode) -> None:
        cont = self.new_label("ok")
        self.emit(f"br i1 {cond}, label %{self.trap_label(code)}, label %{cont}, !prof !1")
        self.start_block(cont)

    def trap_now(self, code: TrapCode) -> None:
        self.emit(f"br label %{self.trap_label(code)}")

    def trap_blocks(self) -> list[str]:
        out = []
        for number, label in sorted(self._traps.items()):
            out.append(f"{label}:")
            out.append(f"  call void @pywamr_trap(i32 {number}, i32 {self.func_index}, ptr %vmctx)")
            out.append("  unreachable")
        return out

    # -- vmctx access ------------------------------------------------------------------------
    def vmctx_field(self, offset: int, lltype: str = "ptr") -> str:
        ptr = self.value(f"getelementptr inbounds i8, ptr %vmctx, i64 {offset}")
        return self.value(f"load {lltype}, ptr {ptr}, align 8")

    def array_slot(self, array_offset: int, index, lltype: str = "ptr") -> str:
        """Load element `index` (constant or i64 value) of an array whose address is in vmctx."""
        base = self.vmctx_field(array_offset)
        ptr = self.value(f"getelementptr inbounds i64, ptr {base}, i64 {index}")
        return self.value(f"load {lltype}, ptr {ptr}, align 8")

    def memory_field(self, offset: int, lltype: str = "ptr") -> str:
        """Load a memory base or size slot of vmctx (tagged: guest stores never change it)."""
        ptr = self.value(f"getelementptr inbounds i8, ptr %vmctx, i64 {offset}")
        return self.value(f"load {lltype}, ptr {ptr}, align 8, {TBAA_MEMORY_SLOT}")

    def memory_address(self, addr: str, offset: int, size: int, memory: int = 0, *,
                       extent: int | None = None) -> str:
        """Bounds-checked native address of `size` bytes at wasm address `addr` (i32) + offset
        in memory `memory` (memory 0's base and size sit in fixed vmctx slots).

        `extent` is how many bytes past `addr` the check covers: by default offset + size; more
        when this check also stands for later accesses of the same address (a merged check,
        see `emit/memory.py`); 0 when such a dominating merged check already covered this one,
        so none is emitted."""
        index = self.value(f"zext i32 {addr} to i64")
        if extent is None:
            extent = offset + size
        if extent:
            end = self.value(f"add nuw i64 {index}, {extent}")
            msize = self.memory_field(vmctx.memory_size(memory), "i64")
            oob = self.value(f"icmp ugt i64 {end}, {msize}")
            self.trap_if(oob, TrapCode.MEMORY_OUT_OF_BOUNDS)
        ea = self.value(f"add nuw i64 {index}, {offset}") if offset else index
        base = self.memory_field(vmctx.memory_base(memory))
        return self.value(f"getelementptr i8, ptr {base}, i64 {ea}")

    def check_range(self, start: str, length: str, limit: str, code: TrapCode) -> None:
        """Trap unless start + length <= limit (start, length i32 zero-extended; limit i64)."""
        s = self.value(f"zext i32 {start} to i64")
        n = self.value(f"zext i32 {length} to i64")
        end = self.value(f"add i64 {s}, {n}")
        bad = self.value(f"icmp ugt i64 {end}, {limit}")
        self.trap_if(bad, code)

    def runtime_call(self, op: int, *args: str) -> str:
        """Call the Python runtime helper; trap if it reported one. Returns the i64 result."""
        padded = list(args) + ["0"] * (4 - len(args))
        result = self.value(f"call i64 @{vmctx.RUNTIME_SYMBOL}(ptr %vmctx, i32 {op}, "
                            + ", ".join(f"i64 {a}" for a in padded) + ")")
        status_ptr = self.value(f"getelementptr inbounds i8, ptr @{vmctx.CTX_SYMBOL}, "
                                f"i64 {vmctx.CTX_RT_STATUS}")
        status = self.value(f"load volatile i32, ptr {status_ptr}, align 8")
        bad = self.value(f"icmp ne i32 {status}, 0")
        cont = self.new_label("ok")
        fail = self.new_label("rtfail")
        self.emit(f"br i1 {bad}, label %{fail}, label %{cont}, !prof !1")
        self.start_block(fail)
        self.emit(f"call void @pywamr_trap(i32 {status}, i32 {self.func_index}, ptr %vmctx)")
        self.emit("unreachable")
        self.start_block(cont)
        return result
