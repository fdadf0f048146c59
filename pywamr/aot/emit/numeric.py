"""Emitters of integer and float arithmetic with wasm's exact semantics.

Shift counts are masked, division traps (zero divisor; INT_MIN / -1 for div_s) are explicit,
rem_s of INT_MIN by -1 is 0 (the divisor is replaced by 1 so LLVM sees no undefined srem),
rotations use funnel shifts, float min/max use `llvm.minimum`/`maximum` (wasm's NaN and -0
rules) and nearest uses `roundeven`.
"""
from __future__ import annotations

from ...errors import TrapCode
from ..helpers import BITS

_SUFFIX = {"i32": "i32", "i64": "i64", "float": "f32", "double": "f64"}


def _binary(opcode: str, lltype: str):
    def emit(t, instr) -> None:
        b = t.pop()
        a = t.pop()
        t.push(lltype, t.value(f"{opcode} {lltype} {a}, {b}"))
    return emit


# Float constants with which LLVM folds an operation to its other operand (x - 0, x * 1, ...),
# which would let a signalling NaN through unquietened; wasm requires an arithmetic NaN.
_IDENTITY_CONSTANTS = {"0x0000000000000000", "0x8000000000000000", "0x3FF0000000000000",
                       "0xBFF0000000000000"}


def _opaque(t, lltype: str, operand: str) -> str:
    if operand in _IDENTITY_CONSTANTS:
        constraint = "=x,0"
        return t.value(f'call {lltype} asm "", "{constraint}"({lltype} {operand})')
    return operand


def _float_binary(opcode: str, lltype: str):
    def emit(t, instr) -> None:
        b = _opaque(t, lltype, t.pop())
        a = _opaque(t, lltype, t.pop())
        t.push(lltype, t.value(f"{opcode} {lltype} {a}, {b}"))
    return emit


def _shift(opcode: str, lltype: str):
    mask = BITS[lltype] - 1

    def emit(t, instr) -> None:
        b = t.pop()
        a = t.pop()
        n = t.value(f"and {lltype} {b}, {mask}")
        t.push(lltype, t.value(f"{opcode} {lltype} {a}, {n}"))
    return emit


def _rotate(name: str, lltype: str):
    intrinsic = f"llvm.{name}.{_SUFFIX[lltype]}"

    def emit(t, instr) -> None:
        b = t.pop()
        a = t.pop()
        t.push(lltype, t.call_intrinsic(intrinsic, lltype,
                                        [(lltype, a), (lltype, a), (lltype, b)]))
    return emit


def _division(opcode: str, lltype: str):
    bits = BITS[lltype]
    int_min = str(-(1 << (bits - 1)))

    def emit(t, instr) -> None:
        b = t.pop()
        a = t.pop()
        zero = t.value(f"icmp eq {lltype} {b}, 0")
        t.trap_if(zero, TrapCode.INTEGER_DIVIDE_BY_ZERO)
        if opcode == "sdiv":
            is_min = t.value(f"icmp eq {lltype} {a}, {int_min}")
            is_neg1 = t.value(f"icmp eq {lltype} {b}, -1")
            both = t.value(f"and i1 {is_min}, {is_neg1}")
            t.trap_if(both, TrapCode.INTEGER_OVERFLOW)
        elif opcode == "srem":
            is_neg1 = t.value(f"icmp eq {lltype} {b}, -1")
            b = t.value(f"select i1 {is_neg1}, {lltype} 1, {lltype} {b}")
        t.push(lltype, t.value(f"{opcode} {lltype} {a}, {b}"))
    return emit


def _count(name: str, lltype: str):
    intrinsic = f"llvm.{name}.{_SUFFIX[lltype]}"

    def emit(t, instr) -> None:
        a = t.pop()
        args = [(lltype, a)] if name == "ctpop" else [(lltype, a), ("i1", "false")]
        t.push(lltype, t.call_intrinsic(intrinsic, lltype, args))
    return emit


def _float_unary(name: str, lltype: str):
    intrinsic = f"llvm.{name}.{_SUFFIX[lltype]}"

    def emit(t, instr) -> None:
        a = t.pop()
        t.push(lltype, t.call_intrinsic(intrinsic, lltype, [(lltype, a)]))
    return emit


def _float_intrinsic2(name: str, lltype: str):
    intrinsic = f"llvm.{name}.{_SUFFIX[lltype]}"

    def emit(t, instr) -> None:
        b = t.pop()
        a = t.pop()
        t.push(lltype, t.call_intrinsic(intrinsic, lltype, [(lltype, a), (lltype, b)]))
    return emit


def _min_max(name: str, lltype: str):
    """`llvm.minimum`/`maximum` may return a signalling NaN operand unchanged; wasm wants an
    arithmetic NaN, so a NaN result comes from `a + b` instead (which quietens it)."""
    intrinsic = f"llvm.{name}.{_SUFFIX[lltype]}"

    def emit(t, instr) -> None:
        b = t.pop()
        a = t.pop()
        r = t.call_intrinsic(intrinsic, lltype, [(lltype, a), (lltype, b)])
        nan = t.value(f"fcmp uno {lltype} {a}, {b}")
        s = t.value(f"fadd {lltype} {a}, {b}")
        t.push(lltype, t.value(f"select i1 {nan}, {lltype} {s}, {lltype} {r}"))
    return emit


def _fneg(lltype: str):
    def emit(t, instr) -> None:
        t.push(lltype, t.value(f"fneg {lltype} {t.pop()}"))
    return emit


HANDLERS = {}
for _w in ("i32", "i64"):
    for _name, _op in (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("and", "and"),
                       ("or", "or"), ("xor", "xor")):
        HANDLERS[f"{_w}.{_name}"] = _binary(_op, _w)
    for _name, _op in (("shl", "shl"), ("shr_s", "ashr"), ("shr_u", "lshr")):
        HANDLERS[f"{_w}.{_name}"] = _shift(_op, _w)
    HANDLERS[f"{_w}.rotl"] = _rotate("fshl", _w)
    HANDLERS[f"{_w}.rotr"] = _rotate("fshr", _w)
    for _name, _op in (("div_s", "sdiv"), ("div_u", "udiv"), ("rem_s", "srem"),
                       ("rem_u", "urem")):
        HANDLERS[f"{_w}.{_name}"] = _division(_op, _w)
    for _name, _intrinsic in (("clz", "ctlz"), ("ctz", "cttz"), ("popcnt", "ctpop")):
        HANDLERS[f"{_w}.{_name}"] = _count(_intrinsic, _w)
for _w, _lltype in (("f32", "float"), ("f64", "double")):
    for _name, _op in (("add", "fadd"), ("sub", "fsub"), ("mul", "fmul"), ("div", "fdiv")):
        HANDLERS[f"{_w}.{_name}"] = _float_binary(_op, _lltype)
    for _name, _intrinsic in (("abs", "fabs"), ("ceil", "ceil"), ("floor", "floor"),
                              ("trunc", "trunc"), ("nearest", "roundeven"), ("sqrt", "sqrt")):
        HANDLERS[f"{_w}.{_name}"] = _float_unary(_intrinsic, _lltype)
    HANDLERS[f"{_w}.neg"] = _fneg(_lltype)
    HANDLERS[f"{_w}.min"] = _min_max("minimum", _lltype)
    HANDLERS[f"{_w}.max"] = _min_max("maximum", _lltype)
    HANDLERS[f"{_w}.copysign"] = _float_intrinsic2("copysign", _lltype)
