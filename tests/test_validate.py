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
