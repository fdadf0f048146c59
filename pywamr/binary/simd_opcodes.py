"""The 0xFD (SIMD and relaxed SIMD) rows of the instruction table, as plain data.

Part of the one instruction table: `opcodes.py` turns every row here into an `OpInfo` keyed
`0xFD << 16 | sub`. A row is `(sub-opcode, name, immediate kind, "params:results",
access width in bytes or None, "s"/"u" extension or None, feature)`. Sub-opcodes run from
0x00 to 0x113 with gaps (the gaps are illegal opcodes). The table is complete and checked
(tests compare it with wasm-tools and wasmtime); the decoder, validator and engines derive
everything they know about SIMD instructions from it. The shape of an instruction's lanes is
the prefix of its name (`i8x16.` ... `f64x2.`; `lane_count`). This module holds no logic beyond
spelling the regular families compactly.
"""
from __future__ import annotations

SIMD = "simd"
RELAXED = "relaxed-simd"

SIMD_OPCODES: list[tuple] = []

LANES = {"i8x16": 16, "i16x8": 8, "i32x4": 4, "i64x2": 2, "f32x4": 4, "f64x2": 2}


def lane_count(name: str, width: int | None = None) -> int:
    """How many lanes a lane index immediate of instruction `name` may address: from the
    shape prefix (`i16x8.extract_lane_s` -> 8), or for a lane load/store from its access
    width in bytes (`v128.load32_lane` -> 4)."""
    if width is not None and name.startswith("v128."):
        return 16 // width
    return LANES[name.split(".", 1)[0]]


def _row(sub, name, imm="none", sig="v128:v128", width=None, extend=None, feature=SIMD):
    SIMD_OPCODES.append((sub, name, imm, sig, width, extend, feature))


def _rows(start, shape, names, sig, feature=SIMD):
    for i, name in enumerate(names.split()):
        _row(start + i, f"{shape}.{name}", sig=sig, feature=feature)


def _at(subs_and_names, sig, feature=SIMD):
    for sub, name in subs_and_names:
        _row(sub, name, sig=sig, feature=feature)


# ---- memory (memarg; lane accesses also take a lane index) ----------------------------------
_row(0x00, "v128.load", "memarg", "i32:v128", 16)
for _i, (_shape, _ext) in enumerate([("8x8", "s"), ("8x8", "u"), ("16x4", "s"), ("16x4", "u"),
                                      ("32x2", "s"), ("32x2", "u")]):
    _row(0x01 + _i, f"v128.load{_shape}_{_ext}", "memarg", "i32:v128", 8, _ext)
for _i, _bits in enumerate((8, 16, 32, 64)):
    _row(0x07 + _i, f"v128.load{_bits}_splat", "memarg", "i32:v128", _bits // 8)
_row(0x0B, "v128.store", "memarg", "i32 v128:", 16)
for _i, _bits in enumerate((8, 16, 32, 64)):
    _row(0x54 + _i, f"v128.load{_bits}_lane", "memarg_lane", "i32 v128:v128", _bits // 8)
    _row(0x58 + _i, f"v128.store{_bits}_lane", "memarg_lane", "i32 v128:", _bits // 8)
_row(0x5C, "v128.load32_zero", "memarg", "i32:v128", 4)
_row(0x5D, "v128.load64_zero", "memarg", "i32:v128", 8)

# ---- constants, shuffles, splats, lanes ------------------------------------------------------
_row(0x0C, "v128.const", "v128", ":v128")
_row(0x0D, "i8x16.shuffle", "shuffle", "v128 v128:v128")
_row(0x0E, "i8x16.swizzle", sig="v128 v128:v128")
for _i, (_shape, _scalar) in enumerate([("i8x16", "i32"), ("i16x8", "i32"), ("i32x4", "i32"),
                                        ("i64x2", "i64"), ("f32x4", "f32"), ("f64x2", "f64")]):
    _row(0x0F + _i, f"{_shape}.splat", sig=f"{_scalar}:v128")
_sub = 0x15
for _shape, _scalar, _signed in [("i8x16", "i32", True), ("i16x8", "i32", True),
                                 ("i32x4", "i32", False), ("i64x2", "i64", False),
                                 ("f32x4", "f32", False), ("f64x2", "f64", False)]:
    for _suffix in (("_s", "_u") if _signed else ("",)):
        _row(_sub, f"{_shape}.extract_lane{_suffix}", "lane", f"v128:{_scalar}")
        _sub += 1
    _row(_sub, f"{_shape}.replace_lane", "lane", f"v128 {_scalar}:v128")
    _sub += 1

# ---- comparisons ----------------------------------------------------------------------------
_INT_COMPARE = "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u"
_rows(0x23, "i8x16", _INT_COMPARE, "v128 v128:v128")
_rows(0x2D, "i16x8", _INT_COMPARE, "v128 v128:v128")
_rows(0x37, "i32x4", _INT_COMPARE, "v128 v128:v128")
_rows(0x41, "f32x4", "eq ne lt gt le ge", "v128 v128:v128")
_rows(0x47, "f64x2", "eq ne lt gt le ge", "v128 v128:v128")
_rows(0xD6, "i64x2", "eq ne lt_s gt_s le_s ge_s", "v128 v128:v128")

# ---- bitwise ------------------------------------------------------------------------------
_row(0x4D, "v128.not")
_rows(0x4E, "v128", "and andnot or xor", "v128 v128:v128")
_row(0x52, "v128.bitselect", sig="v128 v128 v128:v128")
_row(0x53, "v128.any_true", sig="v128:i32")

# ---- float rounding and conversions ----------------------------------------------------------
_row(0x5E, "f32x4.demote_f64x2_zero")
_row(0x5F, "f64x2.promote_low_f32x4")
_rows(0x67, "f32x4", "ceil floor trunc nearest", "v128:v128")
_at([(0x74, "f64x2.ceil"), (0x75, "f64x2.floor"), (0x7A, "f64x2.trunc"),
     (0x94, "f64x2.nearest")], "v128:v128")
_rows(0xF8, "i32x4", "trunc_sat_f32x4_s trunc_sat_f32x4_u", "v128:v128")
_rows(0xFA, "f32x4", "convert_i32x4_s convert_i32x4_u", "v128:v128")
_rows(0xFC, "i32x4", "trunc_sat_f64x2_s_zero trunc_sat_f64x2_u_zero", "v128:v128")
_rows(0xFE, "f64x2", "convert_low_i32x4_s convert_low_i32x4_u", "v128:v128")

# ---- integer lanes: i8x16 ----------------------------------------------------------------------
_rows(0x60, "i8x16", "abs neg popcnt", "v128:v128")
_row(0x63, "i8x16.all_true", sig="v128:i32")
_row(0x64, "i8x16.bitmask", sig="v128:i32")
_rows(0x65, "i8x16", "narrow_i16x8_s narrow_i16x8_u", "v128 v128:v128")
_rows(0x6B, "i8x16", "shl shr_s shr_u", "v128 i32:v128")
_rows(0x6E, "i8x16", "add add_sat_s add_sat_u sub sub_sat_s sub_sat_u", "v128 v128:v128")
_rows(0x76, "i8x16", "min_s min_u max_s max_u", "v128 v128:v128")
_row(0x7B, "i8x16.avgr_u", sig="v128 v128:v128")
_rows(0x7C, "i16x8", "extadd_pairwise_i8x16_s extadd_pairwise_i8x16_u", "v128:v128")
_rows(0x7E, "i32x4", "extadd_pairwise_i16x8_s extadd_pairwise_i16x8_u", "v128:v128")

# ---- i16x8 ----------------------------------------------------------------------------------
_rows(0x80, "i16x8", "abs neg", "v128:v128")
_row(0x82, "i16x8.q15mulr_sat_s", sig="v128 v128:v128")
_row(0x83, "i16x8.all_true", sig="v128:i32")
_row(0x84, "i16x8.bitmask", sig="v128:i32")
_rows(0x85, "i16x8", "narrow_i32x4_s narrow_i32x4_u", "v128 v128:v128")
_rows(0x87, "i16x8", "extend_low_i8x16_s extend_high_i8x16_s extend_low_i8x16_u "
                     "extend_high_i8x16_u", "v128:v128")
_rows(0x8B, "i16x8", "shl shr_s shr_u", "v128 i32:v128")
_rows(0x8E, "i16x8", "add add_sat_s add_sat_u sub sub_sat_s sub_sat_u", "v128 v128:v128")
_rows(0x95, "i16x8", "mul min_s min_u max_s max_u", "v128 v128:v128")
_rows(0x9B, "i16x8", "avgr_u extmul_low_i8x16_s extmul_high_i8x16_s extmul_low_i8x16_u "
                     "extmul_high_i8x16_u", "v128 v128:v128")

# ---- i32x4 ----------------------------------------------------------------------------------
_rows(0xA0, "i32x4", "abs neg", "v128:v128")
_row(0xA3, "i32x4.all_true", sig="v128:i32")
_row(0xA4, "i32x4.bitmask", sig="v128:i32")
_rows(0xA7, "i32x4", "extend_low_i16x8_s extend_high_i16x8_s extend_low_i16x8_u "
                     "extend_high_i16x8_u", "v128:v128")
_rows(0xAB, "i32x4", "shl shr_s shr_u", "v128 i32:v128")
_at([(0xAE, "i32x4.add"), (0xB1, "i32x4.sub")], "v128 v128:v128")
_rows(0xB5, "i32x4", "mul min_s min_u max_s max_u dot_i16x8_s", "v128 v128:v128")
_rows(0xBC, "i32x4", "extmul_low_i16x8_s extmul_high_i16x8_s extmul_low_i16x8_u "
                     "extmul_high_i16x8_u", "v128 v128:v128")

# ---- i64x2 ----------------------------------------------------------------------------------
_rows(0xC0, "i64x2", "abs neg", "v128:v128")
_row(0xC3, "i64x2.all_true", sig="v128:i32")
_row(0xC4, "i64x2.bitmask", sig="v128:i32")
_rows(0xC7, "i64x2", "extend_low_i32x4_s extend_high_i32x4_s extend_low_i32x4_u "
                     "extend_high_i32x4_u", "v128:v128")
_rows(0xCB, "i64x2", "shl shr_s shr_u", "v128 i32:v128")
_at([(0xCE, "i64x2.add"), (0xD1, "i64x2.sub"), (0xD5, "i64x2.mul")], "v128 v128:v128")
_rows(0xDC, "i64x2", "extmul_low_i32x4_s extmul_high_i32x4_s extmul_low_i32x4_u "
                     "extmul_high_i32x4_u", "v128 v128:v128")

# ---- float lanes ------------------------------------------------------------------------------
_at([(0xE0, "f32x4.abs"), (0xE1, "f32x4.neg"), (0xE3, "f32x4.sqrt")], "v128:v128")
_rows(0xE4, "f32x4", "add sub mul div min max pmin pmax", "v128 v128:v128")
_at([(0xEC, "f64x2.abs"), (0xED, "f64x2.neg"), (0xEF, "f64x2.sqrt")], "v128:v128")
_rows(0xF0, "f64x2", "add sub mul div min max pmin pmax", "v128 v128:v128")

# ---- relaxed SIMD (0x100..0x113) -------------------------------------------------------------
_row(0x100, "i8x16.relaxed_swizzle", sig="v128 v128:v128", feature=RELAXED)
_rows(0x101, "i32x4", "relaxed_trunc_f32x4_s relaxed_trunc_f32x4_u relaxed_trunc_f64x2_s_zero "
                      "relaxed_trunc_f64x2_u_zero", "v128:v128", RELAXED)
_rows(0x105, "f32x4", "relaxed_madd relaxed_nmadd", "v128 v128 v128:v128", RELAXED)
_rows(0x107, "f64x2", "relaxed_madd relaxed_nmadd", "v128 v128 v128:v128", RELAXED)
_at([(0x109, "i8x16.relaxed_laneselect"), (0x10A, "i16x8.relaxed_laneselect"),
     (0x10B, "i32x4.relaxed_laneselect"), (0x10C, "i64x2.relaxed_laneselect")],
    "v128 v128 v128:v128", RELAXED)
_rows(0x10D, "f32x4", "relaxed_min relaxed_max", "v128 v128:v128", RELAXED)
_rows(0x10F, "f64x2", "relaxed_min relaxed_max", "v128 v128:v128", RELAXED)
_row(0x111, "i16x8.relaxed_q15mulr_s", sig="v128 v128:v128", feature=RELAXED)
_row(0x112, "i16x8.relaxed_dot_i8x16_i7x16_s", sig="v128 v128:v128", feature=RELAXED)
_row(0x113, "i32x4.relaxed_dot_i8x16_i7x16_add_s", sig="v128 v128 v128:v128", feature=RELAXED)

SIMD_OPCODES.sort()
