"""Function bodies decoded only when needed (`decode_module(..., bodies=False)`): a run from
verified compiled code never decodes them, and every other path still reports a malformed body
as a DecodeError, before any structural validation error (the eager order)."""
from __future__ import annotations

import pytest

from pywamr_testlib import require_wasm_tools, wat
from pywamr.binary.decoder import decode_module
from pywamr.errors import DecodeError
from pywamr.validate import validate_module
from pywamr.validate.module import validate_bodies

require_wasm_tools()

SOURCE = '(module (func (export "f") (result i32) i32.const 7) {extra})'
BODY = b"\x41\x07\x0b"          # i32.const 7; end


def _malformed(data: bytes) -> bytes:
    """`data` with its one body's first instruction made an illegal opcode."""
    assert data.count(BODY) == 1
    return data.replace(BODY, b"\xff\x07\x0b")


def test_structure_only_decode_and_bodies_on_demand():
    data = wat(SOURCE.format(extra=""))
    syntax = decode_module(data, bodies=False)
    assert syntax.codes[0].body is None and syntax.codes[0].size == len(BODY) + 1
    checked = validate_bodies(validate_module(syntax, data, bodies=False))
    assert checked.module.codes[0].body == decode_module(data).codes[0].body
    assert checked.funcs is not None


def test_malformed_body_is_still_a_decode_error():
    from pywamr.engine import Engine, Module
    bad = _malformed(wat(SOURCE.format(extra="")))
    decode_module(bad, bodies=False)        # the structure alone is well formed
    with pytest.raises(DecodeError):
        Module(Engine("interp"), bad)
    # a structural validation error as well: the malformed body is reported first
    both = _malformed(wat(SOURCE.format(extra='(export "f" (func 0))')))
    with pytest.raises(DecodeError):
        Module(Engine("interp"), both)


def test_cached_module_runs_without_its_bodies_decoded(tmp_path):
    from pywamr_testlib import aot_status
    if not aot_status()[0]:
        pytest.skip(f"the aot engine is unavailable: {aot_status()[1]}")
    from pywamr.engine import Engine, Linker, Module
    data = wat(SOURCE.format(extra=""))
    engine = Engine("aot", cache_dir=tmp_path)
    first = Module(engine, data)
    assert first.validated.funcs is not None            # compiled: bodies decoded, checked
    cached = Module(engine, data)
    assert cached.syntax.codes[0].body is None          # a verified cache hit
    assert Linker(engine).instantiate(None, cached).exports["f"]() == 7


def test_component_core_bodies_are_decoded_only_when_compiled():
    from pywamr.component import Component
    from pywamr.component.binary import decode_component
    from pywamr.engine import Engine
    text = ('(component (core module $m (func (export "f") (result i32) i32.const 7))'
            ' (core instance (instantiate $m)))')
    data = wat(text)
    lazy = decode_component(data, core_bodies=False)
    assert lazy.definitions[0].module.codes[0].body is None
    Component(Engine("interp"), data)                   # compiles the core: decodes it
    with pytest.raises(DecodeError):
        Component(Engine("interp"), _malformed(data))
