"""Component-to-component calls of scalars take a fused adapter (abi/lift.py `_fused_call`;
on aot also a native one, see test_native_adapters.py): raw flat values out of a type's range,
NaNs and invalid chars must come out exactly as the general path and wasmtime make them."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pywamr import Engine  # noqa: E402
from pywamr.component import Component, Linker  # noqa: E402
from pywamr.errors import Trap  # noqa: E402
from pywamr_testlib import ENGINES, require_wasmtime, wat  # noqa: E402

TYPES = {"u8": "i32", "s8": "i32", "u16": "i32", "s16": "i32", "bool": "i32", "char": "i32",
         "u32": "i32", "s64": "i64", "f32": "f32", "f64": "f64"}


def component_text() -> str:
    """Component A exports an identity function per type; sibling B imports them and exports
    `call-T` taking and returning the raw flat value, so a caller can pass what it likes."""
    callee = "\n".join(f'(func (export "{n}") (param {c}) (result {c}) local.get 0)'
                       for n, c in TYPES.items())
    lifts = "\n".join(f'(func (export "{n}") (param "v" {n}) (result {n}) '
                      f'(canon lift (core func $ce "{n}")))' for n in TYPES)
    imports = "\n".join(f'(import "{n}" (func ${n} (param "v" {n}) (result {n})))'
                        for n in TYPES)
    lowers = "\n".join(f"(core func $l{n} (canon lower (func ${n})))" for n in TYPES)
    core_imports = "\n".join(f'(import "" "{n}" (func ${n} (param {c}) (result {c})))'
                             for n, c in TYPES.items())
    calls = "\n".join(f'(func (export "{n}") (param {c}) (result {c}) local.get 0 call ${n})'
                      for n, c in TYPES.items())
    args = " ".join(f'(export "{n}" (func $l{n}))' for n in TYPES)
    raw = {"i32": "u32", "i64": "u64", "f32": "f32", "f64": "f64"}
    exports = "\n".join(f'(func (export "call-{n}") (param "v" {raw[c]}) (result {raw[c]}) '
                        f'(canon lift (core func $cr "{n}")))' for n, c in TYPES.items())
    withs = " ".join(f'(with "{n}" (func $a "{n}"))' for n in TYPES)
    reexports = "\n".join(f'(export "call-{n}" (func $b "call-{n}"))' for n in TYPES)
    return f"""(component
      (component $A
        (core module $callee {callee})
        (core instance $ce (instantiate $callee))
        {lifts})
      (component $B
        {imports}
        {lowers}
        (core module $caller {core_imports} {calls})
        (core instance $cr (instantiate $caller (with "" (instance {args}))))
        {exports})
      (instance $a (instantiate $A))
      (instance $b (instantiate $B {withs}))
      {reexports})"""


CASES = [("u8", [0, 255, 256, 0x1FF, 0xFFFFFFFF]), ("s8", [0, 0x7F, 0x80, 0xFF, 0xFFFFFF80]),
         ("u16", [0xFFFF, 0x10000, 0xFFFFFFFF]), ("s16", [0x8000, 0x7FFF, 0x18000]),
         ("bool", [0, 1, 2, 0xFFFFFFFF]), ("char", [0x41, 0x10FFFF, 0xD800, 0x110000]),
         ("u32", [0, 0xFFFFFFFF]), ("s64", [0, 2**64 - 1]),
         ("f32", [1.5, -0.0, float("inf"), float("nan")]), ("f64", [2.5, float("nan")])]


def outcome(call):
    try:
        v = call()
    except Trap:
        return "trap"
    except Exception as exc:       # wasmtime's trap
        if type(exc).__name__ in ("Trap", "WasmtimeError"):
            return "trap"
        raise
    return "nan" if isinstance(v, float) and math.isnan(v) else v


@pytest.mark.parametrize("engine_kind", ENGINES)
def test_fused_scalar_calls_match_wasmtime(engine_kind):
    wasmtime = require_wasmtime()
    from wasmtime import component as wc
    data = wat(component_text())
    wt_engine = wasmtime.Engine()
    engine = Engine(engine_kind)
    ours = Linker(engine).instantiate(Component(engine, data))
    for name, values in CASES:
        for v in values:
            store = wasmtime.Store(wt_engine)   # a trap poisons the instance: one per call
            inst = wc.Linker(wt_engine).instantiate(store, wc.Component(wt_engine, data))
            f = inst.get_func(store, inst.get_export_index(store, f"call-{name}"))

            def reference():
                out = f(store, v)
                f.post_return(store)
                return out
            mine = Linker(engine).instantiate(Component(engine, data)) if name == "char" \
                else ours
            assert outcome(lambda: mine.exports[f"call-{name}"](v)) == outcome(reference), \
                (name, v)
