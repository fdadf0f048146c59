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


def test_simd_decodes():
    m = decode_module(wat("(module (func (result v128) v128.const i64x2 1 2))"))
    assert m.codes[0].body[0][1] == 1 | 2 << 64          # lane 0 in the low bits


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


# ---- prefixed opcodes: (prefix, u32 sub-opcode) keys ------------------------------------------

def _func_module(body: bytes) -> bytes:
    """A module with one `[] -> []` function whose code is `body` (locals and end included)."""
    code = bytes([len(body)]) + body
    return (b"\0asm\1\0\0\0" + b"\x01\x04\x01\x60\x00\x00" + b"\x03\x02\x01\x00"
            + b"\x0a" + bytes([len(code) + 1]) + b"\x01" + code)


def _one_instruction(encoded: bytes) -> bytes:
    """unreachable; <encoded>; drop; end -- valid whatever the instruction's operands."""
    return _func_module(b"\x00\x00" + encoded + b"\x1a\x0b")


@pytest.mark.parametrize("encoded", [
    b"\xfc\x00", b"\xfc\x80\x00", b"\xfc\x80\x80\x00", b"\xfc\x80\x80\x80\x00",
    b"\xfc\x80\x80\x80\x80\x00",
])
def test_padded_sub_opcode_is_trunc_sat(encoded):
    from pywamr.validate import validate_module
    module = decode_module(_one_instruction(encoded))
    assert module.codes[0].body[1] == (0xFC0000,)       # i32.trunc_sat_f32_s
    validate_module(module)


def test_sub_opcode_never_wraps_into_another_instruction():
    # 80 18 = 0xC00: not an 0xFC instruction (a 16-bit truncation of the key once made it one)
    module = _one_instruction(b"\xfc\x80\x18")
    with pytest.raises(DecodeError, match="illegal opcode") as info:
        decode_module(module)
    assert info.value.offset == module.index(b"\xfc\x80\x18")
    # past MAX_SUB_OPCODE, e.g. 0x10000 and 0xFFFFFFFF
    for encoded in (b"\xfc\x80\x80\x04", b"\xfc\xff\xff\xff\xff\x0f"):
        with pytest.raises(DecodeError, match="illegal opcode"):
            decode_module(_one_instruction(encoded))
    with pytest.raises(DecodeError, match="illegal opcode"):
        decode_module(_one_instruction(b"\xfc\x12"))        # first free 0xFC sub-opcode


def test_over_long_sub_opcode_is_malformed():
    with pytest.raises(DecodeError, match="integer representation too long"):
        decode_module(_one_instruction(b"\xfc\x87\x80\x80\x80\x80\x00"))   # six bytes
    with pytest.raises(DecodeError, match="integer too large"):
        decode_module(_one_instruction(b"\xfc\x80\x80\x80\x80\x10"))       # bit 32 set


def test_simd_instructions_decode_and_illegal_ones_rejected():
    assert decode_module(_one_instruction(b"\xfd\xae\x01")).codes[0].body[1] == (0xFD00AE,)
    assert decode_module(_one_instruction(b"\xfd\x93\x02")).codes[0].body[1] == (0xFD0113,)
    for encoded in (b"\xfd\x94\x02", b"\xfd\x9a\x01", b"\xfd\xff\xff\x03"):  # 0x114, 0x9A, big
        with pytest.raises(DecodeError, match="illegal opcode") as info:
            decode_module(_one_instruction(encoded))
        assert not isinstance(info.value, NotSupported)


def test_custom_page_sizes_refused_and_truncated_ones_malformed():
    with pytest.raises(NotSupported, match="custom page sizes"):
        decode_module(b"\0asm\1\0\0\0\x05\x04\x01\x08\x01\x00")    # min 1, 2^0 bytes
    with pytest.raises(NotSupported, match="custom page sizes"):
        decode_module(b"\0asm\1\0\0\0\x05\x05\x01\x09\x01\x02\x10")
    # binary.wast: a flag byte 0x08 and nothing after it is malformed, not unsupported
    with pytest.raises(DecodeError) as info:
        decode_module(b"\0asm\1\0\0\0\x05\x02\x01\x08")
    assert not isinstance(info.value, NotSupported)
    with pytest.raises(DecodeError, match="malformed limits flags") as info:
        decode_module(b"\0asm\1\0\0\0\x05\x03\x01\x10\x00")
    assert not isinstance(info.value, NotSupported)


def test_atomic_instructions_refused_by_name_and_illegal_ones_rejected():
    with pytest.raises(NotSupported, match="atomic instruction i32.atomic.rmw.add"):
        decode_module(_one_instruction(b"\xfe\x1e\x02\x00"))
    with pytest.raises(NotSupported, match="atomic.fence"):
        decode_module(_one_instruction(b"\xfe\x03\x00"))
    for encoded in (b"\xfe\x04", b"\xfe\x4f", b"\xfe\x80\x80\x04"):
        with pytest.raises(DecodeError, match="illegal opcode") as info:
            decode_module(_one_instruction(encoded))
        assert not isinstance(info.value, NotSupported)
