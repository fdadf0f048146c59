"""Emitters of conversions: wrap/extend, trapping and saturating truncation, int-to-float,
demote/promote, reinterpretation and the sign-extension operators.

Trapping truncation checks NaN first (invalid conversion) and then the exclusive bounds of the
target range (integer overflow) before `fptosi`/`fptoui`; saturating truncation is
`llvm.fpto[su]i.sat`, which already gives 0 for NaN and clamps.
"""
from __future__ import annotations

from ...errors import TrapCode
from ..helpers import f64_const
import struct

_LL = {"i32": "i32", "i64": "i64", "f32": "float", "f64": "double"}
_SUFFIX = {"i32": "i32", "i64": "i64", "f32": "f32", "f64": "f64"}

# (target, signed) -> (lower bound exclusive, upper bound exclusive) as exact doubles
_BOUNDS = {
    ("i32", True): (-2147483649.0, 2147483648.0),
    ("i32", False): (-1.0, 4294967296.0),
    ("i64", True): (-9223372036854777856.0, 9223372036854775808.0),
    ("i64", False): (-1.0, 18446744073709551616.0),
}


def _double_text(value: float) -> str:
    return f64_const(struct.unpack("<Q", struct.pack("<d", value))[0])


def _trunc(target: str, source: str, signed: bool):
    src = _LL[source]
    low, high = _BOUNDS[(target, signed)]

    def emit(t, instr) -> None:
        a = t.pop()
        nan = t.value(f"fcmp uno {src} {a}, {a}")
        t.trap_if(nan, TrapCode.BAD_CONVERSION_TO_INTEGER)
        x = a if src == "double" else t.value(f"fpext float {a} to double")
        if (target, signed) == ("i64", True):
            # -2^63 - 1 is not a double: the lower bound is inclusive at -2^63
            too_low = t.value(f"fcmp olt double {x}, {_double_text(-9223372036854775808.0)}")
        elif (target, signed) == ("i32", True) and src == "float":
            too_low = t.value(f"fcmp olt double {x}, {_double_text(-2147483648.0)}")
        else:
            too_low = t.value(f"fcmp ole double {x}, {_double_text(low)}")
        too_high = t.value(f"fcmp oge double {x}, {_double_text(high)}")
        bad = t.value(f"or i1 {too_low}, {too_high}")
        t.trap_if(bad, TrapCode.INTEGER_OVERFLOW)
        op = "fptosi" if signed else "fptoui"
        t.push(target, t.value(f"{op} {src} {a} to {target}"))
    return emit


def _trunc_sat(target: str, source: str, signed: bool):
    src = _LL[source]
    name = f"llvm.{'fptosi' if signed else 'fptoui'}.sat.{_SUFFIX[target]}.{_SUFFIX[source]}"

    def emit(t, instr) -> None:
        t.push(target, t.call_intrinsic(name, target, [(src, t.pop())]))
    return emit


def _cast(op: str, source: str, target: str):
    def emit(t, instr) -> None:
        t.push(_LL[target], t.value(f"{op} {_LL[source]} {t.pop()} to {_LL[target]}"))
    return emit


def _promote(t, instr) -> None:
    """fpext, behind an empty asm: LLVM would fold demote(promote(x)) to x, letting a
    signalling NaN through unquietened."""
    wide = t.value(f"fpext float {t.pop()} to double")
    t.push("double", t.value(f'call double asm "", "=x,0"(double {wide})'))


def _extend_inner(lltype: str, inner: str):
    def emit(t, instr) -> None:
        small = t.value(f"trunc {lltype} {t.pop()} to {inner}")
        t.push(lltype, t.value(f"sext {inner} {small} to {lltype}"))
    return emit


HANDLERS = {
    "i32.wrap_i64": _cast("trunc", "i64", "i32"),
    "i64.extend_i32_s": _cast("sext", "i32", "i64"),
    "i64.extend_i32_u": _cast("zext", "i32", "i64"),
    "f32.demote_f64": _cast("fptrunc", "f64", "f32"),
    "f64.promote_f32": _promote,
    "i32.reinterpret_f32": _cast("bitcast", "f32", "i32"),
    "i64.reinterpret_f64": _cast("bitcast", "f64", "i64"),
    "f32.reinterpret_i32": _cast("bitcast", "i32", "f32"),
    "f64.reinterpret_i64": _cast("bitcast", "i64", "f64"),
    "i32.extend8_s": _extend_inner("i32", "i8"),
    "i32.extend16_s": _extend_inner("i32", "i16"),
    "i64.extend8_s": _extend_inner("i64", "i8"),
    "i64.extend16_s": _extend_inner("i64", "i16"),
    "i64.extend32_s": _extend_inner("i64", "i32"),
}
for _target in ("i32", "i64"):
    for _source in ("f32", "f64"):
        for _signed, _sx in ((True, "s"), (False, "u")):
            HANDLERS[f"{_target}.trunc_{_source}_{_sx}"] = _trunc(_target, _source, _signed)
            HANDLERS[f"{_target}.trunc_sat_{_source}_{_sx}"] = _trunc_sat(_target, _source,
                                                                          _signed)
        HANDLERS[f"{_source}.convert_{_target}_s"] = _cast("sitofp", _target, _source)
        HANDLERS[f"{_source}.convert_{_target}_u"] = _cast("uitofp", _target, _source)
