"""The one instruction table: every opcode pywamr knows, with its immediates, typing, memory
access and constant-expression status.

Decoder, validator and both engines derive from this table; nothing else lists opcodes or
per-instruction facts. An opcode key is an int: single-byte opcodes are themselves, prefixed
ones are `prefix << 16 | sub` (`FC 05` is 0xFC0005, see `prefixed`), the
sub-opcode being a u32 LEB128 that the decoder bounds by `MAX_SUB_OPCODE`, so the keys of one
prefix (0xFD0000..0xFD0113 for SIMD) can never reach another's (0xFE0000...).

Fields of `OpInfo`:
  imm       the immediate shape the decoder reads (see IMMEDIATE_KINDS)
  sig       ((param types), (result types)) where the typing is fixed; None when the validator
            types the instruction itself (locals, calls, blocks, references, ...)
  family    groups opcodes for the engines' per-family emitters
  feature   None for the Wasm 2.0 core; otherwise the proposal the instruction belongs to.
            pywamr runs "simd" and "relaxed-simd"; it refuses the proposals listed in
            UNSUPPORTED_FEATURES with "not supported" ("threads" is listed with its full
            typing and memory facts, ready for the issue that adds it)
  width     bytes read or written by a load/store (lane and atomic ones included); None for
            instructions that do not access memory through a memarg
  align     natural alignment of that access, log2: the largest alignment a memarg may declare
  extend    "s"/"u" when a narrow access's result is sign/zero-extended to its value type
            (loads; atomic read-modify-writes), else None
  in_const  which constant expressions admit the instruction: "wasm2.0" (`*.const`,
            `ref.null`, `ref.func`, `global.get`), "extended-const" (i32/i64 add, sub, mul:
            pywamr implements that proposal), None for the rest. `end` closes a constant
            expression and is stripped by the decoder, so it is not marked.

What this module does not do: decode (see `decoder.py`) or type-check (see `validate/`).
"""
from __future__ import annotations

from ..record import record, replace
from .atomic_opcodes import ATOMIC_OPCODES
from .simd_opcodes import SIMD_OPCODES
from .types import I32, I64, F32, F64, V128


@record
class OpInfo:
    code: int
    name: str
    imm: str            # immediate kind, see IMMEDIATE_KINDS
    sig: tuple | None   # ((param types), (result types)) or None when typed by the validator
    family: str
    feature: str | None = None
    width: int | None = None      # bytes accessed through the memarg
    align: int | None = None      # natural alignment, log2
    extend: str | None = None     # "s" | "u" for extending narrow loads
    in_const: str | None = None   # "wasm2.0" | "extended-const" | None


IMMEDIATE_KINDS = (
    "none", "blocktype", "label", "br_table", "func", "call_indirect", "local", "global",
    "table", "memarg", "memory", "i32", "i64", "f32", "f64", "select_t", "reftype",
    "memory_init", "data", "memory_copy", "table_init", "elem", "table_copy", "v128",
    "lane", "memarg_lane", "shuffle", "try_table", "tag", "fence", "unsupported",
)

# Immediate kinds that carry a memarg (alignment exponent, offset, memory index).
MEMARG_KINDS = frozenset({"memarg", "memarg_lane"})

# Constant-expression classes that pywamr's validator admits.
CONST_ADMITTED = frozenset({"wasm2.0", "extended-const"})

MAX_SUB_OPCODE = 0xFFFF
SIMD_PREFIX = 0xFD
THREADS_PREFIX = 0xFE


def prefixed(prefix: int, sub: int) -> int:
    """The key of a prefixed instruction; `sub` must already be within MAX_SUB_OPCODE."""
    assert 0 <= sub <= MAX_SUB_OPCODE
    return prefix << 16 | sub


def split_key(code: int) -> tuple[int | None, int]:
    """(prefix, sub-opcode) of a key; (None, opcode) for a single-byte opcode."""
    if code > 0xFF:
        return code >> 16, code & MAX_SUB_OPCODE
    return None, code


OPS: dict[int, OpInfo] = {}
BY_NAME: dict[str, OpInfo] = {}


def _op(code, name, imm="none", sig=None, family="numeric", feature=None, *, width=None,
        extend=None, in_const=None):
    assert code not in OPS and name not in BY_NAME, name
    align = None if width is None else width.bit_length() - 1
    info = OpInfo(code, name, imm, sig, family, feature, width, align, extend, in_const)
    OPS[code] = info
    BY_NAME[name] = info


_T = {"i32": I32, "i64": I64, "f32": F32, "f64": F64, "v128": V128}


def _s(params: str, results: str):
    return (tuple(_T[p] for p in params.split()), tuple(_T[r] for r in results.split()))


_SIGNATURES: dict[str, tuple] = {}


def _sig(spec: str):
    """"i32 i32:i64" -> ((I32, I32), (I64,)) (one tuple per spelling: the table has ~500
    rows and a few dozen signatures)."""
    sig = _SIGNATURES.get(spec)
    if sig is None:
        p, r = spec.split(":")
        sig = _SIGNATURES[spec] = _s(p, r)
    return sig


# ---- control -------------------------------------------------------------------------------
_op(0x00, "unreachable", family="control")
_op(0x01, "nop", family="control")
_op(0x02, "block", "blocktype", family="control")
_op(0x03, "loop", "blocktype", family="control")
_op(0x04, "if", "blocktype", family="control")
_op(0x05, "else", family="control")
_op(0x06, "try", "blocktype", family="control", feature="legacy-exceptions")
_op(0x07, "catch", "tag", family="control", feature="legacy-exceptions")
_op(0x08, "throw", "tag", family="control", feature="exceptions")
_op(0x09, "rethrow", "label", family="control", feature="legacy-exceptions")
_op(0x0A, "throw_ref", family="control", feature="exceptions")
_op(0x0B, "end", family="control")
_op(0x0C, "br", "label", family="control")
_op(0x0D, "br_if", "label", family="control")
_op(0x0E, "br_table", "br_table", family="control")
_op(0x0F, "return", family="control")
_op(0x10, "call", "func", family="call")
_op(0x11, "call_indirect", "call_indirect", family="call")
_op(0x12, "return_call", "func", family="call")                    # tail calls: run
_op(0x13, "return_call_indirect", "call_indirect", family="call")
_op(0x14, "call_ref", "unsupported", family="call", feature="function-references")
_op(0x15, "return_call_ref", "unsupported", family="call", feature="function-references")
_op(0x18, "delegate", "label", family="control", feature="legacy-exceptions")
_op(0x19, "catch_all", family="control", feature="legacy-exceptions")
_op(0x1A, "drop", family="parametric")
_op(0x1B, "select", family="parametric")
_op(0x1C, "select_t", "select_t", family="parametric")
_op(0x1F, "try_table", "try_table", family="control", feature="exceptions")

# ---- variables -----------------------------------------------------------------------------
_op(0x20, "local.get", "local", family="variable")
_op(0x21, "local.set", "local", family="variable")
_op(0x22, "local.tee", "local", family="variable")
_op(0x23, "global.get", "global", family="variable", in_const="wasm2.0")
_op(0x24, "global.set", "global", family="variable")
_op(0x25, "table.get", "table", family="table")
_op(0x26, "table.set", "table", family="table")

# ---- memory --------------------------------------------------------------------------------
# (code, name, signature, width in bytes, extension of a narrow load)
for _code, _name, _sig_text, _width, _extend in [
    (0x28, "i32.load", "i32:i32", 4, None), (0x29, "i64.load", "i32:i64", 8, None),
    (0x2A, "f32.load", "i32:f32", 4, None), (0x2B, "f64.load", "i32:f64", 8, None),
    (0x2C, "i32.load8_s", "i32:i32", 1, "s"), (0x2D, "i32.load8_u", "i32:i32", 1, "u"),
    (0x2E, "i32.load16_s", "i32:i32", 2, "s"), (0x2F, "i32.load16_u", "i32:i32", 2, "u"),
    (0x30, "i64.load8_s", "i32:i64", 1, "s"), (0x31, "i64.load8_u", "i32:i64", 1, "u"),
    (0x32, "i64.load16_s", "i32:i64", 2, "s"), (0x33, "i64.load16_u", "i32:i64", 2, "u"),
    (0x34, "i64.load32_s", "i32:i64", 4, "s"), (0x35, "i64.load32_u", "i32:i64", 4, "u"),
    (0x36, "i32.store", "i32 i32:", 4, None), (0x37, "i64.store", "i32 i64:", 8, None),
    (0x38, "f32.store", "i32 f32:", 4, None), (0x39, "f64.store", "i32 f64:", 8, None),
    (0x3A, "i32.store8", "i32 i32:", 1, None), (0x3B, "i32.store16", "i32 i32:", 2, None),
    (0x3C, "i64.store8", "i32 i64:", 1, None), (0x3D, "i64.store16", "i32 i64:", 2, None),
    (0x3E, "i64.store32", "i32 i64:", 4, None),
]:
    _op(_code, _name, "memarg", _sig(_sig_text), family="memory", width=_width, extend=_extend)
_op(0x3F, "memory.size", "memory", _s("", "i32"), family="memory")
_op(0x40, "memory.grow", "memory", _s("i32", "i32"), family="memory")

# ---- constants -----------------------------------------------------------------------------
_op(0x41, "i32.const", "i32", _s("", "i32"), family="constant", in_const="wasm2.0")
_op(0x42, "i64.const", "i64", _s("", "i64"), family="constant", in_const="wasm2.0")
_op(0x43, "f32.const", "f32", _s("", "f32"), family="constant", in_const="wasm2.0")
_op(0x44, "f64.const", "f64", _s("", "f64"), family="constant", in_const="wasm2.0")


def _family_ops(start: int, prefix: str, names: str, sig: str, family: str):
    p, r = sig.split(":")
    for i, n in enumerate(names.split()):
        _op(start + i, f"{prefix}.{n}", "none", _s(p, r), family=family)


# ---- comparisons ---------------------------------------------------------------------------
_family_ops(0x45, "i32", "eqz", "i32:i32", "compare")
_family_ops(0x46, "i32", "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", "i32 i32:i32", "compare")
_family_ops(0x50, "i64", "eqz", "i64:i32", "compare")
_family_ops(0x51, "i64", "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", "i64 i64:i32", "compare")
_family_ops(0x5B, "f32", "eq ne lt gt le ge", "f32 f32:i32", "compare")
_family_ops(0x61, "f64", "eq ne lt gt le ge", "f64 f64:i32", "compare")

# ---- arithmetic ----------------------------------------------------------------------------
_family_ops(0x67, "i32", "clz ctz popcnt", "i32:i32", "numeric")
_family_ops(0x6A, "i32", "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr",
            "i32 i32:i32", "numeric")
_family_ops(0x79, "i64", "clz ctz popcnt", "i64:i64", "numeric")
_family_ops(0x7C, "i64", "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr",
            "i64 i64:i64", "numeric")
# extended-const admits integer add, sub and mul in constant expressions
for _name in ("i32.add", "i32.sub", "i32.mul", "i64.add", "i64.sub", "i64.mul"):
    OPS[BY_NAME[_name].code] = BY_NAME[_name] = replace(BY_NAME[_name], in_const="extended-const")
_family_ops(0x8B, "f32", "abs neg ceil floor trunc nearest sqrt", "f32:f32", "numeric")
_family_ops(0x92, "f32", "add sub mul div min max copysign", "f32 f32:f32", "numeric")
_family_ops(0x99, "f64", "abs neg ceil floor trunc nearest sqrt", "f64:f64", "numeric")
_family_ops(0xA0, "f64", "add sub mul div min max copysign", "f64 f64:f64", "numeric")

# ---- conversions ---------------------------------------------------------------------------
for _code, _name, _text in [
    (0xA7, "i32.wrap_i64", "i64:i32"),
    (0xA8, "i32.trunc_f32_s", "f32:i32"), (0xA9, "i32.trunc_f32_u", "f32:i32"),
    (0xAA, "i32.trunc_f64_s", "f64:i32"), (0xAB, "i32.trunc_f64_u", "f64:i32"),
    (0xAC, "i64.extend_i32_s", "i32:i64"), (0xAD, "i64.extend_i32_u", "i32:i64"),
    (0xAE, "i64.trunc_f32_s", "f32:i64"), (0xAF, "i64.trunc_f32_u", "f32:i64"),
    (0xB0, "i64.trunc_f64_s", "f64:i64"), (0xB1, "i64.trunc_f64_u", "f64:i64"),
    (0xB2, "f32.convert_i32_s", "i32:f32"), (0xB3, "f32.convert_i32_u", "i32:f32"),
    (0xB4, "f32.convert_i64_s", "i64:f32"), (0xB5, "f32.convert_i64_u", "i64:f32"),
    (0xB6, "f32.demote_f64", "f64:f32"),
    (0xB7, "f64.convert_i32_s", "i32:f64"), (0xB8, "f64.convert_i32_u", "i32:f64"),
    (0xB9, "f64.convert_i64_s", "i64:f64"), (0xBA, "f64.convert_i64_u", "i64:f64"),
    (0xBB, "f64.promote_f32", "f32:f64"),
    (0xBC, "i32.reinterpret_f32", "f32:i32"), (0xBD, "i64.reinterpret_f64", "f64:i64"),
    (0xBE, "f32.reinterpret_i32", "i32:f32"), (0xBF, "f64.reinterpret_i64", "i64:f64"),
    (0xC0, "i32.extend8_s", "i32:i32"), (0xC1, "i32.extend16_s", "i32:i32"),
    (0xC2, "i64.extend8_s", "i64:i64"), (0xC3, "i64.extend16_s", "i64:i64"),
    (0xC4, "i64.extend32_s", "i64:i64"),
]:
    _op(_code, _name, "none", _sig(_text), family="conversion")

# ---- reference types -----------------------------------------------------------------------
_op(0xD0, "ref.null", "reftype", family="reference", in_const="wasm2.0")
_op(0xD1, "ref.is_null", family="reference")
_op(0xD2, "ref.func", "func", family="reference", in_const="wasm2.0")
_op(0xD3, "ref.eq", "unsupported", family="reference", feature="gc")
_op(0xD4, "ref.as_non_null", "unsupported", family="reference", feature="function-references")
_op(0xD5, "br_on_null", "unsupported", family="control", feature="function-references")
_op(0xD6, "br_on_non_null", "unsupported", family="control", feature="function-references")
_op(0xFB, "gc", "unsupported", family="reference", feature="gc")

# ---- 0xFC prefix: saturating truncation, bulk memory, tables --------------------------------
for _sub, _name, _text in [
    (0, "i32.trunc_sat_f32_s", "f32:i32"), (1, "i32.trunc_sat_f32_u", "f32:i32"),
    (2, "i32.trunc_sat_f64_s", "f64:i32"), (3, "i32.trunc_sat_f64_u", "f64:i32"),
    (4, "i64.trunc_sat_f32_s", "f32:i64"), (5, "i64.trunc_sat_f32_u", "f32:i64"),
    (6, "i64.trunc_sat_f64_s", "f64:i64"), (7, "i64.trunc_sat_f64_u", "f64:i64"),
]:
    _op(0xFC0000 | _sub, _name, "none", _sig(_text), family="conversion")
_op(0xFC0008, "memory.init", "memory_init", _s("i32 i32 i32", ""), family="memory")
_op(0xFC0009, "data.drop", "data", _s("", ""), family="memory")
_op(0xFC000A, "memory.copy", "memory_copy", _s("i32 i32 i32", ""), family="memory")
_op(0xFC000B, "memory.fill", "memory", _s("i32 i32 i32", ""), family="memory")
_op(0xFC000C, "table.init", "table_init", _s("i32 i32 i32", ""), family="table")
_op(0xFC000D, "elem.drop", "elem", _s("", ""), family="table")
_op(0xFC000E, "table.copy", "table_copy", _s("i32 i32 i32", ""), family="table")
_op(0xFC000F, "table.grow", "table", family="table")
_op(0xFC0010, "table.size", "table", _s("", "i32"), family="table")
_op(0xFC0011, "table.fill", "table", family="table")

# ---- 0xFD prefix: SIMD and relaxed SIMD -------------------------------------------------------
for _sub, _name, _imm, _text, _width, _extend, _feature in SIMD_OPCODES:
    _op(prefixed(SIMD_PREFIX, _sub), _name, _imm, _sig(_text), family="simd", feature=_feature,
        width=_width, extend=_extend, in_const="wasm2.0" if _name == "v128.const" else None)

# ---- 0xFE prefix: atomic memory access (threads; listed, not run) -----------------------------
for _sub, _name, _imm, _text, _width, _extend in ATOMIC_OPCODES:
    _op(prefixed(THREADS_PREFIX, _sub), _name, _imm, _sig(_text), family="atomic",
        feature="threads", width=_width, extend=_extend)

# Opcodes whose immediates are known but whose feature pywamr does not run yet.
UNSUPPORTED_FEATURES = frozenset(
    {"legacy-exceptions", "exceptions", "function-references", "gc", "threads"})

# Proposals whose instructions pywamr runs (beyond the Wasm 2.0 core that has feature None).
SUPPORTED_FEATURES = frozenset({"simd", "relaxed-simd"})


def lookup(code: int) -> OpInfo | None:
    return OPS.get(code)
