"""Every Wasm 2.0 load and store, on both engines, against the width and extension the
instruction table gives: the value read, the bytes written, and the bounds check at the last
byte of memory (an access of `width` bytes fits at 65536 - width and traps one byte later)."""
from __future__ import annotations

import pytest

from aot_testlib import instance
from pywamr.binary.opcodes import OPS
from pywamr.binary.types import VALTYPE_NAMES
from pywamr.errors import Trap, TrapCode

PATTERN = bytes(range(0x80, 0x90))          # every byte has its top bit set
SCALAR = [i for i in OPS.values() if i.imm == "memarg" and i.feature is None]
LOADS = [i for i in SCALAR if i.sig[1]]
STORES = [i for i in SCALAR if not i.sig[1]]
ENGINES = ("aot", "interp")


def _module(info) -> str:
    pattern = "".join(f"\\{b:02x}" for b in PATTERN)
    if info.sig[1]:
        t = VALTYPE_NAMES[info.sig[1][0]]
        func = f'(func (export "f") (param i32) (result {t}) (local.get 0) ({info.name}))'
    else:
        t = VALTYPE_NAMES[info.sig[0][1]]
        func = (f'(func (export "f") (param i32 {t}) (local.get 0) (local.get 1) '
                f'({info.name}))')
    return (f'(module (memory (export "memory") 1 1) (data (i32.const 0) "{pattern}")'
            f'(data (i32.const 65520) "{pattern}") {func})')


def _expected_load(info) -> int:
    raw = PATTERN[:info.width]
    value = int.from_bytes(raw, "little", signed=info.extend == "s")
    return value & ((1 << (8 * (4 if info.sig[1][0] == 0x7F else 8))) - 1)


def _trap_code(fn, *args):
    try:
        fn(*args)
    except Trap as trap:
        return trap.code
    return None


@pytest.mark.parametrize("info", LOADS, ids=lambda i: i.name)
@pytest.mark.parametrize("engine", ENGINES)
def test_load_width_extension_and_bounds(engine, info):
    f = instance(_module(info), engine_kind=engine).exports["f"]
    if info.sig[1][0] in (0x7F, 0x7E):       # integer results: check the value itself
        mask = (1 << 32) - 1 if info.sig[1][0] == 0x7F else (1 << 64) - 1
        assert f(0) & mask == _expected_load(info)
    last = 65536 - info.width
    f(last)
    assert _trap_code(f, last + 1) == TrapCode.MEMORY_OUT_OF_BOUNDS


@pytest.mark.parametrize("info", [i for i in STORES if i.sig[0][1] in (0x7F, 0x7E)],
                         ids=lambda i: i.name)
@pytest.mark.parametrize("engine", ENGINES)
def test_store_width_and_bounds(engine, info):
    inst = instance(_module(info), engine_kind=engine)
    f, memory = inst.exports["f"], inst.exports["memory"]
    value = 0x0102030405060708 if info.sig[0][1] == 0x7E else 0x01020304
    f(32, value)
    written = bytes(memory.data[32:48])
    assert written[:info.width] == value.to_bytes(8, "little")[:info.width]
    assert written[info.width:] == bytes(16 - info.width)      # nothing past the width
    last = 65536 - info.width
    f(last, value)
    assert _trap_code(f, last + 1, value) == TrapCode.MEMORY_OUT_OF_BOUNDS
