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
