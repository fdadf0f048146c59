"""`map<K, V>` (the Component Model maps proposal) through every layer.

Decoding and validation (the key-type rule, maps distinct from the list of pairs they
despecialize to), the canonical ABI (a map is laid out, flattened, stored and loaded exactly as
`list<tuple<K, V>>`, duplicate keys kept in order), the Python values (a dict; bad values
raise naming the parameter and the WIT type; repeated keys lifted from a guest keep the last
value), host functions, `pywamr inspect` and WAVE. The byte-for-byte comparison with wasmtime
is in test_abi_wasmtime.py (its CASES include maps).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from pywamr import Engine  # noqa: E402
from pywamr.component import Component, Linker  # noqa: E402
from pywamr.component.abi import (alignment, elem_size, flatten_type, lift_flat, load,  # noqa: E402
                                  lower_flat, store)
from pywamr.component.types import (BOOL, CHAR, F32, S8, STRING, U8, U32, U64,  # noqa: E402
                                    ListType, MapType, OptionType, OwnType, TupleType,
                                    despecialize)
from pywamr.component.validate import validate_component  # noqa: E402
from pywamr.component.binary import decode_component  # noqa: E402
from pywamr.component.wave import format_value, parse_value  # noqa: E402
from pywamr.component.wit import Names, valtype  # noqa: E402
from pywamr.binary.types import FuncType as CoreFuncType, I32  # noqa: E402
from pywamr.errors import ValidationError  # noqa: E402
from pywamr_testlib import ENGINES, wat  # noqa: E402

from component.abi_testlib import BUMP_WAT, Guest  # noqa: E402


def validate(text: str):
    return validate_component(decode_component(wat(text)))


# ---- validation -----------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64",
                                 "char", "string", "$prim"])
def test_every_keytype_is_accepted(key):
    validate(f'(component (type $prim u16) (type (map {key} (list string))))')


@pytest.mark.parametrize("key", ["f32", "f64", "$rec", "$list", "$opt", "$map"])
def test_other_key_types_are_invalid(key):
    with pytest.raises(ValidationError, match="invalid map key type"):
        validate(f'(component (type $rec (record (field "a" u32))) (type $list (list u8))'
                 f' (type $opt (option u8)) (type $map (map u8 u8))'
                 f' (type (map {key} string)))')


def test_map_is_not_the_list_of_pairs():
    """A map is a distinct type constructor: an `(eq ...)` import of a map is not satisfied
    by a `list<tuple<K, V>>` nor by a map of other types."""
    for arg in ("(list (tuple string u32))", "(map u32 string)"):
        with pytest.raises(ValidationError, match="type mismatch"):
            validate(f"""(component
              (import "y" (component $c (type $t (map string u32))
                                        (import "x" (type (eq $t)))))
              (type $x {arg})
              (instance (instantiate $c (with "x" (type $x)))))""")
    validate("""(component
      (import "y" (component $c (type $t (map string u32)) (import "x" (type (eq $t)))))
      (type $x (map string u32))
      (instance (instantiate $c (with "x" (type $x)))))""")


def test_map_of_handles_and_the_lowered_signature():
    v = validate("""(component
      (import "r" (type $r (sub resource)))
      (import "f" (func $f (param "m" (map string (own $r))) (result (map u8 u8))))
      (core module $m (memory (export "mem") 1)
        (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable))
      (core instance $i (instantiate $m))
      (core func (canon lower (func $f) (memory (core memory $i "mem"))
                              (realloc (core func $i "realloc")))))""")
    ft = dict(v.imports)["f"]
    (name, m), = ft.params
    assert isinstance(m, MapType) and m.key == STRING and isinstance(m.value, OwnType)
    assert ft.result == MapType(U8, U8)
    lower = [i for i, d in zip(v.info, v.component.definitions)
             if type(d).__name__ == "CanonLower"][0]
    assert lower.core_type == CoreFuncType((I32, I32, I32), ())     # (ptr, len), retptr
    with pytest.raises(ValidationError, match="memory"):
        validate("""(component
          (import "f" (func $f (param "m" (map u8 u8))))
          (core func (canon lower (func $f))))""")


# ---- the canonical ABI ----------------------------------------------------------------------

MAPS = [MapType(STRING, U32), MapType(U8, U64), MapType(CHAR, BOOL),
        MapType(STRING, MapType(S8, ListType(F32))), MapType(U32, OptionType(STRING))]


@pytest.mark.parametrize("t", MAPS, ids=str)
def test_layout_is_the_list_of_pairs(t):
    pairs = despecialize(t)
    assert pairs == ListType(TupleType((t.key, t.value)))
    assert (alignment(t), elem_size(t), flatten_type(t)) == (4, 8, ("i32", "i32"))


@pytest.mark.parametrize("t, value", [
    (MapType(STRING, U32), [("a", 1), ("b", 2), ("a", 3)]),      # duplicates kept, in order
    (MapType(U8, U64), [(255, 2**64 - 1), (0, 0)]),
    (MapType(CHAR, BOOL), [("\U0001F600", True), ("z", False)]),
    (MapType(STRING, MapType(S8, ListType(F32))), [("x", [(-1, [1.5]), (-1, [])]), ("y", [])]),
    (MapType(U32, OptionType(STRING)), [(7, ("some", "seven")), (8, ("none", None))]),
    (MapType(STRING, U32), []),
])
def test_store_load_and_flat_round_trip(t, value):
    guest = Guest()
    cx = guest.cx()
    ptr = cx.allocate(alignment(t), elem_size(t))
    store(cx, value, t, ptr)
    end = guest.global_value("bump")
    assert load(cx, ptr, t) == value
    flat = lower_flat(cx, value, t)
    assert lift_flat(cx, flat, t) == value
    # the same bytes as the list of pairs
    other = Guest()
    ocx = other.cx()
    optr = ocx.allocate(alignment(t), elem_size(t))
    store(ocx, value, despecialize(t), optr)
    assert other.global_value("bump") == end
    assert guest.bytes(1024, end - 1024) == other.bytes(1024, end - 1024)


def test_lowering_takes_a_dict():
    t = MapType(STRING, U32)
    cx = Guest().cx()
    flat = lower_flat(cx, {"k": 1, "l": 2}, t)
    assert lift_flat(cx, flat, t) == [("k", 1), ("l", 2)]


@pytest.mark.parametrize("value, error", [
    ([("a", -1)], ValueError), ([(1, 1)], TypeError), ([("a",)], ValueError), (5, TypeError)])
def test_bad_abi_values_raise(value, error):
    with pytest.raises(error):
        lower_flat(Guest().cx(), value, MapType(STRING, U32))


# ---- Python values --------------------------------------------------------------------------

# echo(m: map<string, u32>) -> map<string, u32>; dups() returns pairs with a repeated key
# ("k" at 200, "z" at 202); count(m: map<u32, u32>) -> u32 counts the pairs it was given
ECHO = f"""(component
  (core module $m {BUMP_WAT}
    (data (i32.const 200) "kkz")
    (data (i32.const 300) "\\c8\\00\\00\\00\\01\\00\\00\\00\\01\\00\\00\\00"
                          "\\ca\\00\\00\\00\\01\\00\\00\\00\\02\\00\\00\\00"
                          "\\c8\\00\\00\\00\\01\\00\\00\\00\\03\\00\\00\\00")
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (local.get 1))
      (i32.const 16))
    (func (export "dups") (result i32)
      (i32.store (i32.const 16) (i32.const 300))
      (i32.store (i32.const 20) (i32.const 3))
      (i32.const 16))
    (func (export "count") (param i32 i32) (result i32) (local.get 1)))
  (core instance $i (instantiate $m))
  (type $sm (map string u32))
  (export $e "string-map" (type $sm))
  (func (export "echo") (param "m" $e) (result $e)
    (canon lift (core func $i "echo") (memory (core memory $i "memory"))
                (realloc (core func $i "realloc"))))
  (func (export "dups") (result $e)
    (canon lift (core func $i "dups") (memory (core memory $i "memory"))))
  (func (export "count") (param "m" (map u32 u32)) (result u32)
    (canon lift (core func $i "count") (memory (core memory $i "memory"))
                (realloc (core func $i "realloc"))))
)"""


@pytest.fixture(params=ENGINES, scope="module")
def echo(request):
    engine = Engine(request.param)
    return Linker(engine).instantiate(Component(engine, wat(ECHO)))


def test_maps_are_dicts(echo):
    value = {"a": 1, "": 0, "\u00e9\U0001F600": 2**32 - 1}
    assert echo.exports.echo(value) == value
    assert echo.exports.echo({}) == {}
    assert echo.exports.count({1: 2, 3: 4}) == 2


def test_repeated_keys_keep_the_last_value(echo):
    """The guest returns the pairs ("k", 1), ("z", 2), ("k", 3): valid (a map does not
    promise unique keys); the dict keeps the last value of "k", as the Explainer allows."""
    out = echo.exports.dups()
    assert out == {"k": 3, "z": 2} and list(out) == ["k", "z"]
    assert echo.exports.dups.call_abi() == [("k", 1), ("z", 2), ("k", 3)]


@pytest.mark.parametrize("function, value, error, words", [
    ("count", [(1, 1)], TypeError, "expected map<u32, u32>, got list"),
    ("count", "ab", TypeError, "expected map<u32, u32>, got str"),
    ("echo", [("a", 1)], TypeError, "expected string-map, got list"),   # by its name
    ("echo", {1: 1}, TypeError, "key 1: expected string"),
    ("echo", {"a": -1}, ValueError, "value of key 'a': expected u32"),
    ("count", {1: "x"}, TypeError, "value of key 1: expected u32"),
])
def test_bad_values_name_parameter_and_type(echo, function, value, error, words):
    with pytest.raises(error) as info:
        getattr(echo.exports, function)(value)
    assert f"{function}() argument 'm': " in str(info.value) and words in str(info.value)


def test_host_function_takes_and_returns_dicts():
    text = f"""(component
      (import "total" (func $total (param "m" (map string u32)) (result u32)))
      (import "make" (func $make (param "n" u32) (result (map string u32))))
      (core module $mem {BUMP_WAT})
      (core instance $mi (instantiate $mem))
      (core func $t (canon lower (func $total) (memory (core memory $mi "memory"))))
      (core func $k (canon lower (func $make) (memory (core memory $mi "memory"))
                                 (realloc (core func $mi "realloc"))))
      (core module $m
        (import "" "memory" (memory 1))
        (import "" "total" (func $total (param i32 i32) (result i32)))
        (import "" "make" (func $make (param i32 i32)))
        (func (export "run") (param $n i32) (result i32)
          (call $make (local.get $n) (i32.const 32))
          (call $total (i32.load (i32.const 32)) (i32.load (i32.const 36)))))
      (core instance $i (instantiate $m (with "" (instance
        (export "memory" (memory $mi "memory")) (export "total" (func $t))
        (export "make" (func $k))))))
      (func (export "run") (param "n" u32) (result u32) (canon lift (core func $i "run"))))"""
    engine = Engine("interp")
    seen = []
    linker = Linker(engine)
    linker.define_func(None, "total", lambda m: seen.append(m) or sum(m.values()))
    linker.define_func(None, "make", lambda n: {f"k{i}": i for i in range(n)})
    inst = linker.instantiate(Component(engine, wat(text)))
    assert inst.exports.run(5) == 10
    assert seen == [{"k0": 0, "k1": 1, "k2": 2, "k3": 3, "k4": 4}]
    linker = Linker(engine)
    linker.define_func(None, "total", lambda m: 0)
    linker.define_func(None, "make", lambda n: [("a", 1)])
    inst = linker.instantiate(Component(engine, wat(text)))
    with pytest.raises(TypeError, match=r"map<string, u32>"):
        inst.exports.run(1)


# ---- WIT and WAVE ---------------------------------------------------------------------------

def test_wit_spelling():
    names = Names()
    assert valtype(MapType(STRING, MapType(U8, ListType(U32))), names) == \
        "map<string, map<u8, list<u32>>>"


def test_inspect_prints_maps(tmp_path):
    path = tmp_path / "echo.wasm"
    path.write_bytes(wat(ECHO))
    proc = subprocess.run([sys.executable, "-m", "pywamr", "inspect", str(path)],
                          capture_output=True, text=True, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == """world echo {
  export type string-map = map<string, u32>;
  export echo: func(m: string-map) -> string-map;
  export dups: func() -> string-map;
  export count: func(m: map<u32, u32>) -> u32;
}
"""


def test_wave_writes_maps_as_lists_of_pairs():
    t = MapType(STRING, OptionType(U32))
    value = [("a", ("some", 1)), ("a", ("none", None))]
    text = format_value(value, t)
    assert text == '[("a", some(1)), ("a", none)]'
    assert parse_value(text, t) == value
    assert format_value({"b": ("some", 2)}, t) == '[("b", some(2))]'


def test_run_invoke_takes_and_prints_maps(tmp_path):
    path = tmp_path / "echo.wasm"
    path.write_bytes(wat(ECHO))
    for call, out in [('echo([("a", 1), ("b", 2), ("a", 3)])', '[("a", 1), ("b", 2), ("a", 3)]'),
                      ("dups()", '[("k", 1), ("z", 2), ("k", 3)]')]:
        proc = subprocess.run([sys.executable, "-m", "pywamr", "run", "--engine", "interp",
                               "--invoke", call, str(path)], capture_output=True, text=True,
                              cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == out
