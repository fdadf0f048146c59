"""Validator: typing rules and side tables."""
import pytest

from pywamr.binary.decoder import decode_module
from pywamr.errors import ValidationError
from pywamr.validate import validate_module
from pywamr_testlib import wat


def check(text):
    return validate_module(decode_module(wat(text)))


def test_side_tables():
    v = check("(module (func (param i32) (result i32) local.get 0 i32.const 1 i32.add))")
    info = v.funcs[0]
    assert info.heights[:4] == (0, 1, 2, 1)
    assert info.max_height == 2


def test_unreachable_code_marked_dead():
    v = check("(module (func (result i32) i32.const 1 return i32.const 2 drop unreachable))")
    assert v.funcs[0].heights[2] is None


@pytest.mark.parametrize("text", [
    "(module (func (result i32) i64.const 1))",
    "(module (func local.get 0))",
    "(module (func (result i32) (block (result i32) i32.const 1 br 1)))".replace("br 1", "br 2"),
    "(module (memory 1) (func (drop (i32.load align=8 (i32.const 0)))))",
    "(module (global i32 (i32.const 0)) (func i32.const 1 global.set 0))",
    "(module (func (drop (ref.func 0))))",
    "(module (memory 65537))",
    "(module (func (export \"a\")) (func (export \"a\")))",
])
def test_invalid_modules_rejected(text):
    with pytest.raises(ValidationError):
        check(text)


# ---- side tables: the contract in pywamr/validate/function.py ---------------------------------

def test_block_types_resolved_once_for_every_block():
    from pywamr.binary.types import FuncType, I32, I64
    v = check("""(module (type $t (func (param i32 i64) (result i64)))
      (func (result i64)
        (block (nop))
        (loop (result i32) (i32.const 1)) drop
        (if (result i32) (i32.const 1) (then (i32.const 2)) (else (i32.const 3))) drop
        (i32.const 4) (i64.const 5)
        (block (type $t) (param i32 i64) (result i64) drop drop (i64.const 6))
        drop (i32.const 4) (i64.const 5)
        (block (type $t) (param i32 i64) (result i64) drop drop (i64.const 6))))""")
    info = v.funcs[0]
    body = v.module.codes[0].body
    starts = [k for k, instr in enumerate(body) if instr[0] in (0x02, 0x03, 0x04)]
    assert sorted(info.block_types) == starts
    sigs = [info.block_types[k] for k in starts]
    assert sigs[:3] == [FuncType((), ()), FuncType((), (I32,)), FuncType((), (I32,))]
    assert sigs[3] == sigs[4] == FuncType((I32, I64), (I64,))
    assert sigs[3] is v.module.types[0]          # the module's type, not a copy
    for k in starts:
        assert body[info.matches[k]] == (0x0B,)
    if_pos = starts[2]
    assert body[info.elses[if_pos]] == (0x05,)
    assert set(info.elses) == {if_pos}


def test_heights_under_block_params():
    v = check("""(module (type $t (func (param i32) (result i32)))
      (func (result i32) (i32.const 9) (i32.const 7) (i32.const 1)
        (if (type $t) (param i32) (result i32) (then) (else)) drop))""")
    info = v.funcs[0]
    body = v.module.codes[0].body
    k = next(k for k, instr in enumerate(body) if instr[0] == 0x04)
    assert info.heights[k] == 3         # 7, the param, the condition
    assert info.heights[k] - 1 - len(info.block_types[k].params) == 1


def test_end_of_unreachable_part_has_no_height():
    v = check("(module (func (block br 0 i32.const 1 drop) nop))")
    info = v.funcs[0]
    body = v.module.codes[0].body
    end = info.matches[0]
    assert info.heights[1] == 0                  # br itself is reachable
    assert info.heights[2:end + 1] == (None,) * (end - 1)
    assert info.heights[end + 1] == 0            # nop after the block is reachable again
    assert body[end] == (0x0B,)


# ---- alignment from the instruction table -------------------------------------------------------

def _memory_access_module(info, align_exponent):
    """A module whose only function does one `info` access with the given alignment."""
    from pywamr.binary.types import F32, F64, I32, I64
    const = {I32: b"\x41\x00", I64: b"\x42\x00", F32: b"\x43" + bytes(4), F64: b"\x44" + bytes(8)}
    params, results = info.sig
    body = b"\x00" + b"".join(const[t] for t in params)
    body += bytes([info.code, align_exponent, 0]) + (b"\x1a" if results else b"") + b"\x0b"
    code = bytes([len(body)]) + body
    return (b"\0asm\1\0\0\0" + b"\x01\x04\x01\x60\x00\x00" + b"\x03\x02\x01\x00"
            + b"\x05\x03\x01\x00\x01" + b"\x0a" + bytes([len(code) + 1]) + b"\x01" + code)


def _scalar_memory_ops():
    from pywamr.binary.opcodes import OPS
    return [i for i in OPS.values() if i.imm == "memarg" and i.feature is None]


@pytest.mark.parametrize("info", _scalar_memory_ops(), ids=lambda i: i.name)
def test_alignment_bound_is_the_natural_alignment(info):
    for exponent in range(info.align + 1):
        validate_module(decode_module(_memory_access_module(info, exponent)))
    with pytest.raises(ValidationError, match="alignment must not be larger than natural"):
        validate_module(decode_module(_memory_access_module(info, info.align + 1)))


# ---- constant expressions from the instruction table ------------------------------------------

@pytest.mark.parametrize("init", [
    "(i32.const 1)", "(global.get 0)", "(i32.add (i32.const 1) (global.get 0))",
    "(i32.mul (i32.sub (i32.const 9) (i32.const 1)) (i32.const 3))",
])
def test_constant_expressions_admitted(init):
    check(f"(module (global i32 (i32.const 5)) (global i32 {init}))")


@pytest.mark.parametrize("init,message", [
    ("(i32.div_s (i32.const 1) (i32.const 1))", "constant expression required"),
    ("(i32.eqz (i32.const 1))", "constant expression required"),
    ("(nop) (i32.const 1)", "constant expression required"),
    ("(i32.add (i32.const 1) (i64.const 1))", "type mismatch"),
    ("(i32.add (i32.const 1))", "type mismatch"),
    ("(i64.const 1)", "type mismatch"),
    ("(i32.const 1) (i32.const 2)", "type mismatch"),
])
def test_constant_expressions_rejected(init, message):
    with pytest.raises(ValidationError, match=message):
        check(f"(module (global i32 (i32.const 5)) (global i32 {init}))")


def test_f32_arithmetic_is_not_constant():
    with pytest.raises(ValidationError, match="constant expression required"):
        check("(module (global f32 (f32.add (f32.const 1) (f32.const 2))))")
