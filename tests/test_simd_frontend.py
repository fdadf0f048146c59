"""The SIMD front end: decoding and validating v128 and the 0xFD instructions, v128 values at
the API (globals, host functions, `--invoke`), the wast harness's v128 expectations, and the
aot engine running it. Engine execution of SIMD code is tested elsewhere."""
from __future__ import annotations

import pytest

from pywamr_testlib import require_aot, wat

from pywamr.binary.decoder import decode_module
from pywamr.binary.opcodes import BY_NAME, MEMARG_KINDS, OPS, SIMD_PREFIX, split_key
from pywamr.binary.simd_opcodes import lane_count
from pywamr.binary.types import V128, GlobalType
from pywamr.errors import DecodeError, NotSupported, ValidationError
from pywamr.runtime.numerics import format_v128, from_internal, to_internal
from pywamr.validate import validate_module
from pywamr.validate.module import uses_simd


def _validate(text: str):
    return validate_module(decode_module(wat(text)))


def _invalid(text: str, message: str):
    with pytest.raises(ValidationError, match=message):
        _validate(text)


# ---- decoding ------------------------------------------------------------------------------
def test_immediates_decode_to_the_documented_shapes():
    m = decode_module(wat("""(module (memory 1)
      (func (param v128) (result v128)
        v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
        local.get 0
        i8x16.shuffle 31 0 1 2 3 4 5 6 7 8 9 10 11 12 13 16
        drop
        i32.const 0
        local.get 0
        v128.load16_lane offset=6 align=1 7
        i16x8.extract_lane_u 5
        drop
        i32.const 0
        v128.load offset=3 align=8))"""))
    body = m.codes[0].body
    assert body[0] == (BY_NAME["v128.const"].code, int.from_bytes(bytes(range(16)), "little"))
    assert body[2] == (BY_NAME["i8x16.shuffle"].code, (31, *range(14), 16))
    assert body[6] == (BY_NAME["v128.load16_lane"].code, 0, 6, 0, 7)
    assert body[7] == (BY_NAME["i16x8.extract_lane_u"].code, 5)
    assert body[10] == (BY_NAME["v128.load"].code, 3, 3, 0)
    validate_module(m)
    assert m.codes[0].body[-1] == (0x0B,)


def test_truncated_v128_const_is_malformed():
    # type () -> (), body: v128.const with 3 of its 16 bytes
    body = b"\x00\xfd\x0c\x01\x02\x03"
    module = (b"\0asm\1\0\0\0\x01\x04\x01\x60\x00\x00\x03\x02\x01\x00"
              + b"\x0a" + bytes([len(body) + 2, 1, len(body)]) + body)
    with pytest.raises(DecodeError):
        decode_module(module)


def test_v128_value_type_everywhere():
    v = _validate("""(module
      (import "m" "g" (global $i v128))
      (import "m" "f" (func (param v128) (result v128)))
      (global $g (mut v128) (v128.const f32x4 1 2 3 4))
      (global $h v128 (global.get $i))
      (func (export "f") (param v128 v128 i32) (result v128) (local v128)
        (block (result v128) (local.get 0))
        (select (result v128) (local.get 1) (local.get 2))
        (select (local.get 0) (local.get 2))
        (global.set $g)
        (global.get $g))
      (export "g" (global $g)))""")
    assert uses_simd(v.module)
    assert v.funcs[0].locals == (V128, V128, 0x7F, V128)


def test_no_simd_is_no_simd():
    assert not uses_simd(_validate("(module (func (result i32) i32.const 1))").module)


# ---- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("name,lanes", [
    ("i8x16.extract_lane_s", 16), ("i8x16.replace_lane", 16), ("i16x8.extract_lane_u", 8),
    ("i32x4.extract_lane", 4), ("i64x2.replace_lane", 2), ("f32x4.extract_lane", 4),
    ("f64x2.replace_lane", 2),
])
def test_lane_index_bounds(name, lanes):
    info = BY_NAME[name]
    scalar = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64"}
    params = " ".join("v128" if t == V128 else scalar[t] for t in info.sig[0])
    result = "v128" if info.sig[1][0] == V128 else scalar[info.sig[1][0]]
    gets = " ".join(f"local.get {i}" for i in range(len(info.sig[0])))
    text = f"(module (func (param {params}) (result {result}) {gets} {name} {{}}))"
    _validate(text.format(lanes - 1))
    _invalid(text.format(lanes), "invalid lane index")
    assert lane_count(name) == lanes


@pytest.mark.parametrize("bits", [8, 16, 32, 64])
def test_lane_memory_access_bounds_and_alignment(bits):
    lanes = 128 // bits
    for op in (f"v128.load{bits}_lane", f"v128.store{bits}_lane"):
        result = "(result v128)" if "load" in op else ""
        text = (f"(module (memory 1) (func (param i32 v128) {result} local.get 0 local.get 1 "
                f"{op} align={{}} {{}}))")
        _validate(text.format(bits // 8, lanes - 1))
        _invalid(text.format(bits // 8, lanes), "invalid lane index")
        _invalid(text.format(bits // 4, 0), "alignment must not be larger than natural")


def test_shuffle_lanes_below_32():
    text = "(module (func (param v128) (result v128) local.get 0 local.get 0 " \
           "i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 {}))"
    _validate(text.format(31))
    _invalid(text.format(32), "invalid lane index")


@pytest.mark.parametrize("op,natural", [
    ("v128.load", 4), ("v128.load8x8_s", 3), ("v128.load32_splat", 2), ("v128.load8_splat", 0),
    ("v128.load64_zero", 3), ("v128.load16x4_u", 3),
])
def test_memarg_alignment(op, natural):
    text = f"(module (memory 1) (func (param i32) (result v128) local.get 0 {op} align={{}}))"
    _validate(text.format(1 << natural))
    _invalid(text.format(2 << natural), "alignment must not be larger than natural")


def test_store_alignment_and_unknown_memory():
    _invalid("(module (memory 1) (func (param i32 v128) local.get 0 local.get 1 "
             "v128.store align=32))", "alignment")
    _invalid("(module (memory 1) (func (param i32) (result v128) local.get 0 "
             "v128.load 1))", "unknown memory")


def test_typing_is_checked():
    _invalid("(module (func (result v128) i32.const 0 i32x4.neg))", "type mismatch")
    _invalid("(module (func (result i32) v128.const i64x2 0 0 i32x4.neg))", "type mismatch")
    _invalid("(module (func (param v128) (result i64) local.get 0 i32x4.extract_lane 0))",
             "type mismatch")
    _invalid("(module (global v128 (i32.const 0)))", "type mismatch")
    _invalid("(module (global v128 (v128.const i32x4 0 0 0 0) (v128.const i32x4 0 0 0 0)))",
             "type mismatch")


def test_only_v128_const_is_constant():
    _invalid("(module (global v128 (v128.not (v128.const i32x4 0 0 0 0))))",
             "constant expression required")
    _validate("(module (global v128 (v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)))")


def _typed_simd_module() -> bytes:
    """One function per fixed-typed SIMD instruction (immediate 0, natural alignment)."""
    from test_opcodes import _module_per_instruction
    codes = [c for c, i in sorted(OPS.items()) if split_key(c)[0] == SIMD_PREFIX
             and i.imm in ("none", "v128", "lane", "shuffle") + tuple(MEMARG_KINDS)]
    assert len(codes) == 256
    return _module_per_instruction(codes)


def test_every_simd_instruction_validates_with_its_table_typing():
    validated = validate_module(decode_module(_typed_simd_module()))
    assert len(validated.funcs) == 256


def test_every_simd_instruction_agrees_with_wasmtime():
    wasmtime = pytest.importorskip("wasmtime", reason="the wasmtime oracle is not installed")
    config = wasmtime.Config()
    config.wasm_simd = True
    config.wasm_relaxed_simd = True
    wasmtime.Module.validate(wasmtime.Engine(config), _typed_simd_module())


# ---- values at the API -----------------------------------------------------------------------
def test_api_conversions():
    assert to_internal(V128, 5) == 5
    assert to_internal(V128, -1) == (1 << 128) - 1
    assert to_internal(V128, bytes(range(16))) == int.from_bytes(bytes(range(16)), "little")
    assert from_internal(V128, 1 << 127) == 1 << 127
    for bad in (1 << 128, -(1 << 127) - 1, b"short"):
        with pytest.raises(ValueError):
            to_internal(V128, bad)
    with pytest.raises(TypeError):
        to_internal(V128, 1.5)
    assert format_v128(1) == "0x" + "0" * 31 + "1"


def test_v128_global_cell():
    import ctypes
    from pywamr.runtime.objects import Global
    g = Global(GlobalType(V128, True), (7 << 64) | 9)
    assert g.value == (7 << 64) | 9
    assert ctypes.string_at(g.address(), 16) == ((7 << 64) | 9).to_bytes(16, "little")
    g.value = (1 << 128) - 1
    assert g.value == (1 << 128) - 1


def test_v128_globals_import_and_export(engine_kind):
    """v128 globals cross the module boundary (no JS-style restriction), with v128.const and
    global.get initialisers."""
    if engine_kind != "interp":
        require_aot()
    from pywamr.engine import Engine, Linker, Module
    from pywamr.runtime.objects import Global
    engine = Engine(engine_kind, cache=False)
    linker = Linker(engine)
    value = int.from_bytes(bytes(range(16)), "little")
    linker.define("m", "g", Global(GlobalType(V128, False), value))
    text = """(module (import "m" "g" (global $i v128))
      (global $c (export "c") v128 (v128.const i32x4 1 2 3 0xffffffff))
      (global $d (export "d") (mut v128) (global.get $i)))"""
    try:
        instance = linker.instantiate(None, Module(engine, wat(text)))
    except NotSupported as exc:
        assert engine_kind != "interp", exc
        assert str(exc) == "SIMD is not supported on aot yet"
        return
    assert instance.exports["c"].value == 1 | 2 << 32 | 3 << 64 | 0xFFFFFFFF << 96
    assert instance.exports["d"].value == value


def test_aot_runs_simd():
    """The aot engine compiles SIMD (its own tests: tests/aot/test_simd*.py)."""
    require_aot()
    from pywamr.engine import Engine, Linker, Module
    engine = Engine("aot", cache=False)
    module = Module(engine, wat('(module (func (export "f") (result v128) '
                                'v128.const i64x2 1 -1))'))
    assert Linker(engine).instantiate(None, module).exports["f"]() == 1 | ((1 << 64) - 1) << 64


# ---- the wast harness --------------------------------------------------------------------------
def test_harness_v128_values_and_patterns():
    from pywamr.wast.harness import matches, parse_value
    v = {"type": "v128", "lane_type": "i16", "value": ["1", "65535", "0", "0", "0", "0", "0", "2"]}
    assert parse_value(v) == 1 | 0xFFFF << 16 | 2 << 112
    assert matches(v, parse_value(v))
    assert not matches(v, parse_value(v) ^ 1)
    signed = {"type": "v128", "lane_type": "i8", "value": ["-1"] + ["0"] * 15}
    assert parse_value(signed) == 0xFF
    nans = {"type": "v128", "lane_type": "f32",
            "value": ["nan:canonical", "nan:arithmetic", "0", "2143289344"]}
    assert matches(nans, 0x7FC00000 | 0x7FC00001 << 32 | 0x7FC00000 << 96)
    assert matches(nans, 0xFFC00000 | 0xFFE00000 << 32 | 0x7FC00000 << 96)
    assert not matches(nans, 0x7FC00001 | 0x7FC00000 << 32 | 0x7FC00000 << 96)
    assert not matches(nans, 0x7FC00000 | 0x7F800001 << 32 | 0x7FC00000 << 96)
    f64 = {"type": "v128", "lane_type": "f64", "value": ["nan:canonical", "4607182418800017408"]}
    assert matches(f64, 0x7FF8000000000000 | 0x3FF0000000000000 << 64)
    either = {"type": "either", "values": [
        {"type": "v128", "lane_type": "i32", "value": ["1", "1", "1", "1"]},
        {"type": "v128", "lane_type": "i64", "value": ["0", "0"]}]}
    ones = 1 | 1 << 32 | 1 << 64 | 1 << 96
    assert matches(either, ones) and matches(either, 0) and not matches(either, 2)
    assert not matches(v, 1.0)


# ---- the CLI -------------------------------------------------------------------------------
def test_cli_argument_parsing():
    from pywamr.cli.run import parse_arg
    from pywamr.errors import WasmError
    assert parse_arg(V128, "0x" + "ff" * 16) == (1 << 128) - 1
    assert parse_arg(V128, "-1") == (1 << 128) - 1
    assert parse_arg(V128, "258") == 258
    with pytest.raises(WasmError):
        parse_arg(V128, "0x1" + "0" * 32)        # 2**128 does not fit
    with pytest.raises(WasmError):
        parse_arg(V128, "1.5")


def test_auto_engine_keeps_simd_modules_on_the_interpreter():
    from pywamr.engine import Engine, Linker, Module
    engine = Engine("auto", cache=False)
    module = Module(engine, wat('(module (func (export "f") (result v128) '
                                '(i32x4.add (v128.const i32x4 1 2 3 4) (v128.const i32x4 1 1 1 1))))'))
    f = Linker(engine).instantiate(None, module).exports["f"]
    assert f() == 2 | 3 << 32 | 4 << 64 | 5 << 96


def test_relaxed_table_names_every_relaxed_instruction():
    from pywamr.runtime import relaxed
    names = {i.name for i in OPS.values() if i.feature == "relaxed-simd"}
    assert set(relaxed.RELAXED) == names and len(names) == 20
    for name in names:          # the docstring table is what the aot engine implements
        shape, op = name.split(".")
        assert op in relaxed.__doc__, name
