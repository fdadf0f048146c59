"""Extended constant expressions (i32/i64 add, sub, mul and global.get of an imported or
earlier immutable global) in global initialisers, data offsets and element offsets, on both
engines, against wasmtime on the same module.

The core spec's own extended-const cases (data.27-30, elem.110-113, global.0 of
../shared/conformance/core) run strictly in tests/test_conformance.py; this file adds the
wrapping cases (results reduced modulo 2^32 / 2^64) and imported globals in offsets.
"""
from __future__ import annotations

import pytest

from pywamr_testlib import ENGINES, require_wasmtime, wat

MODULE = """
(module
  (import "env" "base" (global $base i32))
  (import "env" "wide" (global $wide i64))
  (memory (export "mem") 1)
  (table 8 funcref)
  (global $a i32 (i32.add (global.get $base) (i32.const 3)))
  (global $b (export "b") i32 (i32.mul (global.get $a) (i32.sub (i32.const 10) (i32.const 6))))
  (global $wrap32 (export "wrap32") i32 (i32.mul (i32.const 0x10000) (i32.const 0x10001)))
  (global $neg (export "neg") i32 (i32.sub (i32.const 0) (global.get $base)))
  (global $w (export "w") i64 (i64.add (i64.mul (global.get $wide) (i64.const 3))
                                         (i64.const -1)))
  (global $wrap64 (export "wrap64") i64
    (i64.mul (i64.const 0x100000000) (i64.const 0x100000001)))
  (global $c (export "c") i64 (i64.sub (i64.const 5) (i64.const 7)))
  (data (i32.add (global.get $base) (i32.mul (i32.const 2) (i32.const 8))) "xyz")
  (func $f1 (result i32) i32.const 11)
  (func $f2 (result i32) i32.const 22)
  (elem (offset (i32.sub (i32.add (global.get $base) (i32.const 4)) (i32.const 1))) $f1 $f2)
  (type $r (func (result i32)))
  (func (export "call") (param i32) (result i32) local.get 0 call_indirect (type $r))
  (func (export "load") (param i32) (result i32) local.get 0 i32.load8_u))
"""
BASE = 2
WIDE = 1 << 40


def _expected() -> dict:
    a = BASE + 3
    return {"b": a * 4, "wrap32": 0x10000, "neg": (-BASE) & 0xFFFFFFFF,
            "w": WIDE * 3 - 1, "wrap64": 0x100000000, "c": -2}


def _pywamr(engine_kind: str):
    from pywamr.engine import Engine, Global, Linker, Module
    from pywamr.binary.types import I32, I64, GlobalType
    engine = Engine(engine_kind, cache=False)
    linker = Linker(engine)
    linker.define("env", "base", Global(GlobalType(I32, False), BASE))
    linker.define("env", "wide", Global(GlobalType(I64, False), WIDE))
    return linker.instantiate(None, Module(engine, wat(MODULE))).exports


@pytest.mark.parametrize("engine_kind", ENGINES)
def test_extended_constants_initialise_globals_data_and_elements(engine_kind):
    exports = _pywamr(engine_kind)
    signed = {name: exports[name].value for name in _expected()}
    signed["c"] = signed["c"] - (1 << 64) if signed["c"] >= 1 << 63 else signed["c"]
    assert signed == _expected()
    offset = BASE + 16
    assert [exports["load"](offset + i) for i in range(4)] == [ord("x"), ord("y"), ord("z"), 0]
    assert exports["load"](offset - 1) == 0
    slot = BASE + 4 - 1
    assert exports["call"](slot) == 11 and exports["call"](slot + 1) == 22


def test_wasmtime_agrees():
    wasmtime = require_wasmtime()
    store = wasmtime.Store()
    module = wasmtime.Module(store.engine, wat(MODULE))
    base = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), False), BASE)
    wide = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i64(), False), WIDE)
    instance = wasmtime.Instance(store, module, [base, wide])
    exports = instance.exports(store)
    got = {name: exports[name].value(store) for name in _expected()}
    got = {k: v & 0xFFFFFFFF if k in ("b", "wrap32", "neg") else v for k, v in got.items()}
    assert got == _expected()
    assert exports["call"](store, BASE + 3) == 11
