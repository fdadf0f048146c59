"""Run-time helpers the interpreter's generated code calls: the operations that are more than
one Python expression (signed division, float rounding rules, truncation traps, bulk memory,
tables, indirect calls).

Everything here works on the internal value representation (see runtime/objects.py) and raises
`Trap` for guest-reachable failures. The generated code reaches these through the instance
namespace built in `interp/instance.py`.
"""
from __future__ import annotations

import math
import struct

from ..errors import Trap, TrapCode
from ..runtime.instantiate import segment_init
from ..runtime.numerics import f32_from_bits, f32_to_bits, round_f32
from .tailcalls import TailCall

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF
INF = math.inf
NAN = math.nan
_isnan = math.isnan
_isinf = math.isinf
_copysign = math.copysign

_f32s = struct.Struct("<f")
_u32s = struct.Struct("<I")
_f64s = struct.Struct("<d")
_u64s = struct.Struct("<Q")


def trap(code: TrapCode):
    raise Trap(code)


def unreachable():
    raise Trap(TrapCode.UNREACHABLE)


# ---- integer division -------------------------------------------------------------------
def i32_div_s(a, b):
    if b == 0:
        raise Trap(TrapCode.INTEGER_DIVIDE_BY_ZERO)
    a = (a ^ 0x80000000) - 0x80000000
    b = (b ^ 0x80000000) - 0x80000000
    if a == -0x80000000 and b == -1:
        raise Trap(TrapCode.INTEGER_OVERFLOW)
    q = abs(a) // abs(b)
    return (q if (a < 0) == (b < 0) else -q) & M32


def i32_rem_s(a, b):
    if b == 0:
        raise Trap(TrapCode.INTEGER_DIVIDE_BY_ZERO)
    a = (a ^ 0x80000000) - 0x80000000
    b = (b ^ 0x80000000) - 0x80000000
    r = abs(a) % abs(b)
    return (-r if a < 0 else r) & M32


def i64_div_s(a, b):
    if b == 0:
        raise Trap(TrapCode.INTEGER_DIVIDE_BY_ZERO)
    a = (a ^ 0x8000000000000000) - 0x8000000000000000
    b = (b ^ 0x8000000000000000) - 0x8000000000000000
    if a == -0x8000000000000000 and b == -1:
        raise Trap(TrapCode.INTEGER_OVERFLOW)
    q = abs(a) // abs(b)
    return (q if (a < 0) == (b < 0) else -q) & M64


def i64_rem_s(a, b):
    if b == 0:
        raise Trap(TrapCode.INTEGER_DIVIDE_BY_ZERO)
    a = (a ^ 0x8000000000000000) - 0x8000000000000000
    b = (b ^ 0x8000000000000000) - 0x8000000000000000
    r = abs(a) % abs(b)
    return (-r if a < 0 else r) & M64


def i32_ctz(a):
    return (a & -a).bit_length() - 1 if a else 32


def i64_ctz(a):
    return (a & -a).bit_length() - 1 if a else 64


# ---- floats -----------------------------------------------------------------------------
def fdiv(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return NAN
        return _copysign(INF, a) * _copysign(1.0, b)


def f32_div(a, b):
    return round_f32(fdiv(a, b))


def fsqrt(a):
    if a < 0.0:
        return NAN
    if a != a or a == INF:
        return a * 1.0
    return math.sqrt(a)


def fmin(a, b):
    if a != a or b != b:
        return NAN if a == a or b == b else a + b
    if a == b == 0.0:
        return a if _copysign(1.0, a) < 0 else b
    return a if a < b else b


def fmax(a, b):
    if a != a or b != b:
        return NAN if a == a or b == b else a + b
    if a == b == 0.0:
        return b if _copysign(1.0, a) < 0 else a
    return a if a > b else b


def fceil(a):
    if a != a or a in (INF, -INF) or a == 0.0:
        return a * 1.0
    r = float(math.ceil(a))
    return _copysign(r, a) if r == 0.0 else r


def ffloor(a):
    if a != a or a in (INF, -INF) or a == 0.0:
        return a * 1.0
    r = float(math.floor(a))
    return _copysign(r, a) if r == 0.0 else r


def ftrunc(a):
    if a != a or a in (INF, -INF) or a == 0.0:
        return a * 1.0
    r = float(math.trunc(a))
    return _copysign(r, a) if r == 0.0 else r


def fnearest(a):
    if a != a or a in (INF, -INF) or a == 0.0:
        return a * 1.0
    if abs(a) >= 4503599627370496.0:
        return a
    r = float(round(a))
    return _copysign(r, a) if r == 0.0 else r


def f32_sqrt(a):
    return round_f32(fsqrt(a))


def f32_convert_int(n: int) -> float:
    """Round an integer to the nearest f32 with one rounding (ties to even)."""
    if -(1 << 53) <= n <= (1 << 53):
        return round_f32(float(n))
    sign = -1 if n < 0 else 1
    m = abs(n)
    shift = m.bit_length() - 24
    q, r = divmod(m, 1 << shift)
    half = 1 << (shift - 1)
    if r > half or (r == half and q & 1):
        q += 1
    return round_f32(sign * float(q << shift))


def i32_reinterpret_f32(x):
    return f32_to_bits(x)


def f32_reinterpret_i32(x):
    return f32_from_bits(x)


def i64_reinterpret_f64(x):
    return _u64s.unpack(_f64s.pack(x))[0]


def f64_reinterpret_i64(x):
    return _f64s.unpack(_u64s.pack(x))[0]


# ---- truncation -------------------------------------------------------------------------
def _trunc(x, lo, hi, mask):
    """Trapping truncation: valid iff lo < x < hi (exclusive bounds as exact floats)."""
    if x != x:
        raise Trap(TrapCode.BAD_CONVERSION_TO_INTEGER)
    if not (lo < x < hi):
        raise Trap(TrapCode.INTEGER_OVERFLOW)
    return int(x) & mask


def i32_trunc_s(x):
    return _trunc(x, -2147483649.0, 2147483648.0, M32)


def i32_trunc_u(x):
    return _trunc(x, -1.0, 4294967296.0, M32)


def i64_trunc_s(x):
    return _trunc(x, -9223372036854777856.0, 9223372036854775808.0, M64)


def i64_trunc_u(x):
    return _trunc(x, -1.0, 18446744073709551616.0, M64)


def _trunc_sat(x, lo, hi, mask):
    if x != x:
        return 0
    if x <= lo:
        return lo & mask
    if x >= hi:
        return hi & mask
    return int(x) & mask


def i32_trunc_sat_s(x):
    return _trunc_sat(x, -2147483648, 2147483647, M32)


def i32_trunc_sat_u(x):
    return _trunc_sat(x, 0, 4294967295, M32)


def i64_trunc_sat_s(x):
    return _trunc_sat(x, -9223372036854775808, 9223372036854775807, M64)


def i64_trunc_sat_u(x):
    return _trunc_sat(x, 0, 18446744073709551615, M64)


# ---- memory -----------------------------------------------------------------------------
_ld_f32 = _f32s.unpack_from
_ld_u32 = _u32s.unpack_from
_st_f32 = _f32s.pack_into
_st_u32 = _u32s.pack_into


def f32_load(mem, addr):
    x = _ld_f32(mem, addr)[0]
    if x != x:
        return f32_from_bits(_ld_u32(mem, addr)[0])
    return x


def f32_store(mem, addr, x):
    if x != x:
        _st_u32(mem, addr, f32_to_bits(x))
    else:
        _st_f32(mem, addr, x)


def memory_fill(mem, d, v, n):
    if d + n > len(mem):
        raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS)
    if n:
        mem[d:d + n] = bytes((v & 0xFF,)) * n


def memory_copy(mem, d, s, n):
    """`memory.copy` within one memory's bytes."""
    size = len(mem)
    if d + n > size or s + n > size:
        raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS)
    if n:
        mem[d:d + n] = mem[s:s + n]


def memory_copy_between(dst, src, d, s, n):
    """`memory.copy` from one memory's bytes `src` to another's `dst` (multi-memory)."""
    if d + n > len(dst) or s + n > len(src):
        raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS)
    if n:
        dst[d:d + n] = src[s:s + n]


def memory_init(mem, datas, index, d, s, n):
    segment_init(mem, datas, index, d, s, n, TrapCode.MEMORY_OUT_OF_BOUNDS)


def memory_grow(memory, delta):
    return memory.grow(delta) & M32


# ---- tables -----------------------------------------------------------------------------
# `elements` is a table's `ElementStore` (runtime/tables.py): its methods are the one
# implementation of the table instructions (bounds, traps, the native mirror of an AOT table).
def call_target(elements, index, functype):
    """Resolve `call_indirect`: bounds, null and signature checks; returns the callable."""
    items = elements.items
    if index >= len(items):
        raise Trap(TrapCode.UNDEFINED_ELEMENT)
    f = items[index]
    if f is None:
        raise Trap(TrapCode.UNINITIALIZED_ELEMENT)
    if f.type is not functype and f.type != functype:
        raise Trap(TrapCode.INDIRECT_CALL_TYPE_MISMATCH)
    return f.call


def table_get(elements, index):
    return elements.get(index)


def table_set(elements, index, value):
    elements.set(index, value)


def table_fill(elements, index, value, n):
    elements.fill(index, value, n)


def table_copy(dst, src, d, s, n):
    dst.copy(d, src, s, n)


def table_init(elements, elems, index, d, s, n):
    elements.init(d, elems[index], s, n)


def table_grow(table, value, delta):
    return table.elements.grow(delta, value) & M32


def namespace() -> dict:
    """The helpers and struct accessors, by the names the generated code uses."""
    ns = {name: obj for name, obj in globals().items()
          if callable(obj) and not name.startswith("_") and obj.__module__ == __name__}
    ns.update(
        M32=M32, M64=M64, INF=INF, NAN=NAN, Trap=Trap, TrapCode=TrapCode, rf32=round_f32,
        TailCall=TailCall,
        copysign=_copysign, fabs=abs,
        ld_i32=_u32s.unpack_from, st_i32=_u32s.pack_into,
        ld_i64=_u64s.unpack_from, st_i64=_u64s.pack_into,
        ld_f64=_f64s.unpack_from, st_f64=_f64s.pack_into,
        ld_i8=struct.Struct("<b").unpack_from,
        ld_i16=struct.Struct("<h").unpack_from, ld_u16=struct.Struct("<H").unpack_from,
        st_u16=struct.Struct("<H").pack_into,
        ld_s32=struct.Struct("<i").unpack_from,
    )
    from .simd_ops import simd_namespace
    ns.update(simd_namespace())
    return ns
