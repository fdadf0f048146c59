"""Deferred validation of function bodies (`Engine.compile` over `validate_module(...,
bodies=False)`): a module whose exact bytes have verified compiled code in the cache is not
validated again; everything else is, and errors are the same as with eager validation.

The trust path under test: a cache entry is used only for the bytes it was compiled from
(`read_artifact` checks the embedded source's sha256, the checksums, compiler and host), so a
tampered entry, or one moved under the key of another module with the same structure, is
refused and the module is validated and compiled as if the cache were empty.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import aot_testlib  # noqa: F401  (skips or fails when the aot engine is unavailable)
from pywamr import Engine, Module, ValidationError
from pywamr.aot import stats
from pywamr.binary.decoder import decode_module
from pywamr.component import Component
from pywamr.component.binary import decode_component
from pywamr.component.validate import validate_component
from pywamr.runtime.instantiate import instantiate_module
from pywamr.validate import module as validate_module_mod
from pywamr.validate import validate_module
from pywamr_testlib import wat

ADD = '(module (func (export "f") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))'
SUB = '(module (func (export "f") (param i32 i32) (result i32) local.get 0 local.get 1 i32.sub))'
# same structure (types, functions, exports) as ADD; its body leaves an i64 for an i32 result
BAD = '(module (func (export "f") (param i32 i32) (result i32) i64.const 0))'
COMPOSED = Path(__file__).resolve().parent.parent / "fixtures" / "components" / "composed.wasm"


@pytest.fixture
def bodies_validated(monkeypatch):
    """A counter of function bodies validated (every path goes through validate_function)."""
    count = [0]
    real = validate_module_mod.validate_function

    def counting(*args):
        count[0] += 1
        return real(*args)
    monkeypatch.setattr(validate_module_mod, "validate_function", counting)
    return count


def _call(module: Module, a: int, b: int) -> int:
    return instantiate_module(module.compiled, []).exports["f"].call(a, b)


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "aot").glob("*.cwasm"))


def test_a_cache_hit_skips_the_bodies_and_a_miss_validates_them(tmp_path, bodies_validated):
    data = wat(ADD)
    first = Module(Engine("aot", cache_dir=tmp_path), data)
    assert bodies_validated[0] == 1 and first.validated.bodies_checked
    chunks = stats.chunks_compiled
    second = Module(Engine("aot", cache_dir=tmp_path), data)
    assert bodies_validated[0] == 1, "a verified cache hit must not validate bodies again"
    assert stats.chunks_compiled == chunks
    assert not second.validated.bodies_checked
    assert _call(second, 40, 2) == 42 and _call(first, 5, 3) == 8


def test_without_a_cache_or_on_interp_bodies_are_always_validated(tmp_path, bodies_validated):
    data = wat(ADD)
    Module(Engine("aot", cache=False), data)
    Module(Engine("aot", cache=False), data)
    assert bodies_validated[0] == 2
    Module(Engine("interp"), data)
    Module(Engine("interp"), data)
    assert bodies_validated[0] == 4


def test_an_invalid_body_is_refused_with_the_eager_error(tmp_path):
    data = wat(BAD)
    with pytest.raises(ValidationError) as eager:
        validate_module(decode_module(data), data)
    for _ in range(2):
        with pytest.raises(ValidationError) as deferred:
            Module(Engine("aot", cache_dir=tmp_path), data)
        assert str(deferred.value) == str(eager.value)
    assert _entries(tmp_path) == [], "nothing may be compiled from an invalid module"


def test_a_tampered_entry_for_the_same_bytes_is_refused(tmp_path, bodies_validated):
    data = wat(ADD)
    Module(Engine("aot", cache_dir=tmp_path), data)
    (entry,) = _entries(tmp_path)
    raw = bytearray(entry.read_bytes())
    raw[-20] ^= 0xFF                       # inside the last object: the payload checksum fails
    entry.write_bytes(bytes(raw))
    again = Module(Engine("aot", cache_dir=tmp_path), data)
    assert bodies_validated[0] == 2, "a refused entry means validating the bodies again"
    assert _call(again, 1, 2) == 3


def test_an_entry_moved_to_another_module_with_the_same_structure_is_refused(tmp_path):
    """The cache entry of ADD put under the key of SUB (same types, functions and exports)
    is stale for SUB: SUB is validated and compiled itself and computes a difference; under
    the key of BAD it is refused too, and BAD's invalid body is reported."""
    add, sub, bad = wat(ADD), wat(SUB), wat(BAD)
    Module(Engine("aot", cache_dir=tmp_path), add)
    (add_entry,) = _entries(tmp_path)
    Module(Engine("aot", cache_dir=tmp_path), sub)
    (sub_entry,) = [e for e in _entries(tmp_path) if e != add_entry]
    shutil.copyfile(add_entry, sub_entry)
    assert _call(Module(Engine("aot", cache_dir=tmp_path), sub), 10, 3) == 7
    from pywamr.aot import _host
    from pywamr.aot.artifact import AotCache, cache_key, sha256
    cache = AotCache(tmp_path)
    cache.put(cache_key(sha256(bad), _host()), add_entry.read_bytes())
    with pytest.raises(ValidationError, match="type mismatch"):
        Module(Engine("aot", cache_dir=tmp_path), bad)


def test_a_cached_component_validates_no_core_bodies(tmp_path, bodies_validated):
    Component.from_file(Engine("aot", cache_dir=tmp_path), COMPOSED)
    counted = bodies_validated[0]
    assert counted > 0
    second = Component.from_file(Engine("aot", cache_dir=tmp_path), COMPOSED)
    assert bodies_validated[0] == counted
    assert len(second._modules) == 6


INVALID_CORE_IN_COMPONENT = f"""
(component
  (core module $m {BAD[len('(module'):-1]})
  (core instance (instantiate $m)))
"""

UNINSTANTIATED_NESTED = f"""
(component
  (component (core module {BAD[len('(module'):-1]})))
"""


@pytest.mark.parametrize("text", [INVALID_CORE_IN_COMPONENT, UNINSTANTIATED_NESTED],
                         ids=["instantiated", "nested-never-instantiated"])
def test_a_component_with_an_invalid_core_body_fails_as_before(tmp_path, text):
    data = wat(text)
    with pytest.raises(ValidationError) as eager:
        validate_component(decode_component(data))
    for engine in (Engine("aot", cache_dir=tmp_path), Engine("interp")):
        with pytest.raises(ValidationError) as deferred:
            Component(engine, data)
        assert str(deferred.value) == str(eager.value)
