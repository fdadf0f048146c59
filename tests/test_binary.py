"""Decoder: LEB128 rules, headers, sections, clean refusals of later proposals."""
import pytest

from pywamr.binary.decoder import decode_module
from pywamr.binary.reader import Reader
from pywamr.errors import DecodeError, NotSupported
from pywamr_testlib import wat


def test_leb128_bounds():
    assert Reader(bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])).u32() == 0xFFFFFFFF
    assert Reader(bytes([0x7F])).s32() == -1
    assert Reader(bytes([0x80, 0x80, 0x80, 0x80, 0x78])).s32() == -2**31
    with pytest.raises(DecodeError, match="too large"):
        Reader(bytes([0x80, 0x80, 0x80, 0x80, 0x1F])).u32()
    with pytest.raises(DecodeError, match="too long"):
        Reader(bytes([0x80, 0x80, 0x80, 0x80, 0x80, 0x00])).u32()
    with pytest.raises(DecodeError, match="too large"):
        Reader(bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x4F])).s32()


def test_bad_header_reports_offset():
    with pytest.raises(DecodeError) as info:
        decode_module(b"\0asn\1\0\0\0")
    assert info.value.offset == 0
    with pytest.raises(DecodeError, match="unknown binary version"):
        decode_module(b"\0asm\2\0\0\0")


def test_truncated_section():
    with pytest.raises(DecodeError):
        decode_module(b"\0asm\1\0\0\0\1\5\1\x60")


def test_name_section_and_exports():
    m = decode_module(wat('(module $m (func $add (export "add") (param i32 i32) (result i32) '
                          'local.get 0 local.get 1 i32.add))'))
    assert m.names.module == "m"
    assert m.names.functions[0] == "add"
    assert m.exports[0].name == "add"
    assert m.codes[0].body[-1] == (0x0B,)


def test_simd_refused_clearly():
    with pytest.raises(NotSupported, match="SIMD"):
        decode_module(wat("(module (func (result v128) v128.const i64x2 0 0))"))


def test_component_refused_clearly():
    with pytest.raises(NotSupported, match="component"):
        decode_module(b"\0asm\x0d\0\x01\0")


def test_name_section_with_lying_sizes_is_ignored():
    # a name subsection claiming more bytes than the section holds must not crash decoding
    payload = b"\x04name" + b"\x01\x7f\x01"
    module = b"\0asm\1\0\0\0" + b"\x00" + bytes([len(payload)]) + payload
    assert decode_module(module).names.functions == {}


def test_mutated_modules_fail_cleanly(engine_kind):
    """Random byte mutations of a valid module: every failure is pywamr's own error, on both
    engines (aot compiles every mutant that validates, without the code cache).
    (The module has no loop, so a mutation cannot make a call run forever.)"""
    import random
    from pywamr import Engine, Module, WasmError
    from pywamr.engine import Instance
    source = wat("""(module $m (memory 1) (table 2 funcref) (global (mut i32) (i32.const 1))
      (func $f (export "f") (result i32) (local i32)
        (local.set 0 (i32.add (global.get 0) (i32.const 7)))
        (if (i32.gt_u (local.get 0) (i32.const 3)) (then (global.set 0 (i32.const 2))))
        (i32.load (local.get 0)))
      (elem (i32.const 0) $f) (data (i32.const 0) "abc"))""")
    engine = Engine(engine_kind, cache=False)
    rng = random.Random(7)
    for _ in range(400):
        data = bytearray(source)
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(8, len(data))] = rng.randrange(256)
        try:
            exports = Instance(None, Module(engine, bytes(data)), []).exports
            for value in exports.values():
                if hasattr(value, "function") and not value.type.params:
                    value()
        except WasmError:
            pass
