"""Component fixtures run end to end on both engines, checked against the `wasmtime` package.

The fixtures (tests/fixtures/components, rebuilt by build.sh there) are: echo components per
canonical-ABI type in three string encodings, a relay composed with each (values cross two
memories), three levels (relay -> relay -> echo), a resource shared between two components, a
diamond with one shared instance, and the composed calculator (the defining case)."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from pywamr import Engine  # noqa: E402
from pywamr.component import (Component, ComponentError, Err, Linker, Ok, Some,  # noqa: E402
                              write_bundle)
from pywamr_testlib import ENGINES, needs_aot, wat  # noqa: E402
from wasi_standins import define_standins  # noqa: E402

FIXTURES = HERE.parent / "fixtures" / "components"
ECHOES = ["echo-utf8", "echo-utf16", "echo-compact-utf16", "relay-echo-utf8",
          "relay-echo-utf16", "relay-echo-compact-utf16", "relay-relay-echo"]
_cache: dict = {}


@pytest.fixture(params=ENGINES + [pytest.param("aot+bundle", marks=needs_aot)])
def engine(request, tmp_path_factory):
    """An engine; "aot+bundle" is aot with every component loaded from a precompiled bundle
    written by `write_bundle` (what `pywamr compile-component` writes)."""
    if request.param != "aot+bundle":
        return Engine(request.param)
    engine = Engine("aot")
    engine.bundle_dir = tmp_path_factory.getbasetemp() / "bundles"
    return engine


def from_bytes(engine, data: bytes, name: str):
    """A component on `engine`, through a bundle when the engine asks for one."""
    where = getattr(engine, "bundle_dir", None)
    if where is None:
        return Component(engine, data)
    bundle = where / f"{name}.pywamr-bundle"
    if not bundle.exists():
        write_bundle(engine, data, bundle)
    component = Component(engine, data, precompiled=bundle)
    assert component.bundle is not None
    return component


def load(engine, name: str):
    key = (engine.kind, getattr(engine, "bundle_dir", None) is not None, name)
    if key not in _cache:
        _cache[key] = from_bytes(engine, (FIXTURES / f"{name}.wasm").read_bytes(), name)
    return _cache[key]


def instantiate(engine, name: str, linker=None):
    return (linker or Linker(engine)).instantiate(load(engine, name))


STRINGS = ["", "a", "héllo wörld", "latin1 only: ÿé", "😀 non-BMP \U0010FFFF", "x" * 3000,
           "mixed ascii then 中文", "\x00nul inside"]


def echo_cases(iface):
    """(function, argument) pairs; each echo must return its argument."""
    Point = iface.point
    Shape = iface.shape
    Color = iface.color
    Perms = iface.perms
    Wide = iface.wide
    cases = [
        ("echo_bool", True), ("echo_bool", False),
        ("echo_s8", -128), ("echo_s8", 127), ("echo_u8", 255), ("echo_s16", -32768),
        ("echo_u16", 65535), ("echo_s32", -2**31), ("echo_u32", 2**32 - 1),
        ("echo_s64", -2**63), ("echo_u64", 2**64 - 1), ("echo_f32", 1.5), ("echo_f32", -0.0),
        ("echo_f64", 1e300), ("echo_f64", float("-inf")), ("echo_char", "λ"),
        ("echo_char", "\U0001F600"),
        ("echo_bytes", b""), ("echo_bytes", bytes(range(256))),
        ("echo_list_u32", [0, 1, 2**32 - 1]),
        ("echo_point", Point(x=-3, y=2.5, label="pt")),
        ("echo_points", [Point(x=i, y=i / 2, label=str(i)) for i in range(20)]),
        ("echo_nested", [["a", "bb"], [], ["ccc", "", "😀"]]),
        ("echo_tuple", (7, "tuple", 0.25)),
        ("echo_shape", Shape.Circle(1.5)), ("echo_shape", Shape.Square(2**40 + 3)),
        ("echo_shape", Shape.Named("named")), ("echo_shape", Shape.Empty()),
        ("echo_color", Color.BLUE), ("echo_color", Color.RED),
        ("echo_option", None), ("echo_option", 0), ("echo_option", 7),
        ("echo_nested_option", None), ("echo_nested_option", Some(None)),
        ("echo_nested_option", Some("deep")),
        ("echo_perms", Perms.READ | Perms.EXEC), ("echo_perms", Perms(0)),
        ("echo_wide", Wide.FLAG0 | Wide.FLAG31),
    ] + [("echo_string", s) for s in STRINGS]
    return cases


@pytest.mark.parametrize("name", ECHOES)
def test_echo_round_trips_every_type(engine, name):
    inst = instantiate(engine, name)
    iface = inst.exports.test.echo.types
    for fn, arg in echo_cases(iface):
        got = getattr(iface, fn)(arg)
        assert got == arg, (fn, arg, got)
    assert iface.echo_many(*range(17)) == tuple(range(17))
    # NaN is canonicalised but stays NaN
    assert math.isnan(iface.echo_f64(float("nan")))


@pytest.mark.parametrize("name", ["echo-utf8", "relay-echo-utf16"])
def test_echo_results_and_post_return(engine, name):
    inst = instantiate(engine, name)
    iface = inst.exports.test.echo.types
    before = iface.post_returns()
    for s in STRINGS:
        assert iface.echo_string(s) == s
    assert iface.post_returns() == before + len(STRINGS)
    assert iface.echo_result(Ok(5)) == 5
    with pytest.raises(ComponentError) as info:
        iface.echo_result(Err("bad"))
    assert info.value.value == "bad"


def test_echo_rejects_bad_python_values(engine):
    iface = instantiate(engine, "echo-utf8").exports.test.echo.types
    for fn, bad, exc in [("echo_u8", 256, ValueError), ("echo_s8", -129, ValueError),
                         ("echo_u32", "1", TypeError), ("echo_bool", 1, TypeError),
                         ("echo_char", "ab", TypeError), ("echo_char", "\ud800", ValueError),
                         ("echo_string", b"x", TypeError), ("echo_list_u32", "abc", TypeError),
                         ("echo_point", {"x": 1}, ValueError), ("echo_color", "purple", TypeError),
                         ("echo_perms", {"nope"}, TypeError)]:
        with pytest.raises(exc) as info:
            getattr(iface, fn)(bad)
        assert "argument 'v'" in str(info.value), (fn, str(info.value))


def test_echo_matches_wasmtime():
    wasmtime = pytest.importorskip("wasmtime")
    from wasmtime import component as wc
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    comp = wc.Component.from_file(engine, str(FIXTURES / "relay-echo-compact-utf16.wasm"))
    inst = wc.Linker(engine).instantiate(store, comp)
    iface = inst.get_export_index(store, "test:echo/types@0.1.0")

    def call(name, *args):
        f = inst.get_func(store, inst.get_export_index(store, name, iface))
        out = f(store, *args)
        f.post_return(store)
        return out
    ours = instantiate(Engine("interp"), "relay-echo-compact-utf16").exports.test.echo.types
    for s in STRINGS:
        assert call("echo-string", s) == ours.echo_string(s) == s
    assert call("echo-nested", [["a"], []]) == ours.echo_nested([["a"], []])
    assert call("echo-many", *range(17)) == ours.echo_many(*range(17))
    assert call("echo-shape", 2**40 + 3) == ours.echo_shape(ours.shape.Square(2**40 + 3)).value


def wasmtime_run(name: str, export: str, *args):
    wasmtime = pytest.importorskip("wasmtime")
    from wasmtime import component as wc
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    comp = wc.Component.from_file(engine, str(FIXTURES / f"{name}.wasm"))
    inst = wc.Linker(engine).instantiate(store, comp)
    f = inst.get_func(store, inst.get_export_index(store, export))
    out = f(store, *args)
    f.post_return(store)
    return out


def test_resources_across_components(engine):
    inst = instantiate(engine, "res-composed")
    assert inst.exports.run(500) == wasmtime_run("res-composed", "run", 500)
    assert inst.exports.run(3) == [6, 3, 3, 4, 0, 502 + 5]


def test_guest_resources_from_python(engine):
    inst = instantiate(engine, "res-provider")
    counters = inst.exports.test.res.counters
    Counter = counters.counter
    a = Counter(5)
    a.add(3)
    assert a.get() == 8
    b = Counter.clone_counter(a)
    assert b.get() == 8 and counters.live() == 2
    assert Counter.sum([a, b]) == 16
    merged = Counter.merge(b, a)            # b is an own parameter: consumed
    assert merged.get() == 16
    with pytest.raises(ValueError):
        b.get()                             # moved into the callee
    assert counters.drops() == 1
    with merged:
        pass                                # a `with` block drops it
    a.drop()
    assert counters.live() == 0 and counters.drops() == 3
    many = [Counter(i) for i in range(500)]
    assert counters.live() == 500
    assert Counter.sum(many) == sum(range(500))
    for c in many:
        c.drop()
    assert counters.live() == 0


def test_diamond_shares_one_instance(engine):
    inst = instantiate(engine, "diamond")
    assert inst.exports.run() == wasmtime_run("diamond", "run") == [1, 102, 3, 104]


def test_composed_calculator(engine):
    """The defining case: a core module of the calculator imports a canon lower of the
    adder's lifted export; the calculator's cores share one memory and table."""
    linker = Linker(engine)
    out, err = define_standins(linker)
    inst = instantiate(engine, "composed", linker)
    assert inst.exports["wasi:cli/run@0.2.12"]["run"]() is None
    assert out.decode() == "40 + 2 = 42\n100 + 200 = 300\n"
    assert err == b""


def test_unmet_imports_are_named_in_one_error(engine):
    from pywamr.errors import LinkError
    with pytest.raises(LinkError) as info:
        instantiate(engine, "composed")
    message = str(info.value)
    assert message.startswith("unsatisfied import(s): ")
    assert "wasi:cli/stdout@0.2.12" in message
    assert "wasi:cli/exit@0.2.12" in message


def test_adder_alone_and_semver_matching_import(engine):
    inst = instantiate(engine, "adder")
    assert inst.exports.docs.adder.add.add(40, 2) == 42
    assert inst.exports["docs:adder/add@0.1.0"]["add"](1, 2) == 3
    # the calculator alone, with the adder provided by Python under a compatible version
    linker = Linker(engine)
    out, _ = define_standins(linker)
    linker.define_func("docs:adder/add@0.1.9", "add", lambda x, y: x + y + 1000)
    calc = instantiate(engine, "calc", linker)
    calc.exports["wasi:cli/run@0.2.12"]["run"]()
    assert out.decode() == "40 + 2 = 1042\n100 + 200 = 1300\n"


class PyCounter:
    """A host implementation of test:res/counters' `counter`, for the resource user."""
    live = 0
    drops = 0

    def __init__(self, start):
        self.value = start
        PyCounter.live += 1

    def get(self):
        return self.value

    def add(self, n):
        self.value += n

    def drop(self):
        PyCounter.live -= 1
        PyCounter.drops += 1

    @staticmethod
    def clone_counter(c):
        return PyCounter(c.value)

    @staticmethod
    def sum(cs):
        return sum(c.value for c in cs)

    @staticmethod
    def merge(a, b):
        total = a.value + b.value
        a.drop()                    # the own parameter is consumed by the callee
        return PyCounter(total)


def test_host_resources_as_python_objects(engine):
    """The resource user linked against a Python implementation of the interface gives what
    it gives composed with the C provider."""
    PyCounter.live = PyCounter.drops = 0
    linker = Linker(engine)
    iface = "test:res/counters@0.1.0"
    linker.define_resource(iface, "counter", PyCounter)
    linker.define_instance(iface, {"live": lambda: PyCounter.live,
                                   "drops": lambda: PyCounter.drops})
    inst = instantiate(engine, "res-user", linker)
    assert inst.exports.run(500) == wasmtime_run("res-composed", "run", 500)
    assert PyCounter.live == 0


def test_component_types_as_wit(engine):
    component = load(engine, "adder")
    (name, t), = component.exports
    assert name == "docs:adder/add@0.1.0"
    text = component.wit("adder")
    assert "export docs:adder/add@0.1.0" in text
    assert "add: func(x: u32, y: u32) -> u32;" in text


def test_mutated_components_fail_cleanly():
    """Byte mutations of the fixtures go through decode, validation, planning and
    instantiation: each either instantiates or fails with one of pywamr's own errors."""
    import random
    from pywamr.errors import WasmError
    engine = Engine("interp")
    seeds = [(FIXTURES / f"{name}.wasm").read_bytes()
             for name in ("adder", "echo-utf8", "relay-echo-utf16", "res-composed", "diamond")]
    rng = random.Random(20261130)
    instantiated = 0
    for _ in range(300):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(data))
            if rng.random() < 0.7:
                data[i] = rng.randrange(256)
            else:
                del data[i:i + rng.randint(1, 8)]
        try:
            Linker(engine).instantiate(Component(engine, bytes(data)))
            instantiated += 1
        except WasmError:
            pass
    assert instantiated < 300          # the mutations do reach the error paths


# ---- traps across components and re-entrance, on every engine -------------------------------

TRAPS_WAT = """
(component
  (component $callee
    (core module $m
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 256))
      (func (export "boom") (result i32) unreachable)
      (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
      (func (export "bad-string") (result i32)
        (i32.store (i32.const 16) (i32.const 32))
        (i32.store (i32.const 20) (i32.const 2))
        (i32.store16 (i32.const 32) (i32.const 0xfeff))
        (i32.const 16))
      (func (export "good-string") (result i32)
        (i32.store (i32.const 16) (i32.const 32))
        (i32.store (i32.const 20) (i32.const 2))
        (i32.store16 (i32.const 32) (i32.const 0x6968))
        (i32.const 16)))
    (core instance $i (instantiate $m))
    (func (export "boom") (result u32) (canon lift (core func $i "boom")))
    (func (export "add") (param "a" u32) (param "b" u32) (result u32)
      (canon lift (core func $i "add")))
    (func (export "bad-string") (result string)
      (canon lift (core func $i "bad-string") (memory (core memory $i "mem"))
        (realloc (core func $i "realloc"))))
    (func (export "good-string") (result string)
      (canon lift (core func $i "good-string") (memory (core memory $i "mem"))
        (realloc (core func $i "realloc")))))
  (component $caller
    (import "callee" (instance $c
      (export "boom" (func (result u32)))
      (export "add" (func (param "a" u32) (param "b" u32) (result u32)))
      (export "bad-string" (func (result string)))
      (export "good-string" (func (result string)))))
    (core module $mem
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 512)))
    (core instance $mi (instantiate $mem))
    (alias core export $mi "mem" (core memory $cmem))
    (core func $boom (canon lower (func $c "boom")))
    (core func $add (canon lower (func $c "add")))
    (core func $bad (canon lower (func $c "bad-string") (memory (core memory $mi "mem"))
      (realloc (core func $mi "realloc"))))
    (core func $good (canon lower (func $c "good-string") (memory (core memory $mi "mem"))
      (realloc (core func $mi "realloc"))))
    (core module $code
      (import "c" "boom" (func $boom (result i32)))
      (import "c" "add" (func $add (param i32 i32) (result i32)))
      (import "c" "bad" (func $bad (param i32)))
      (import "c" "good" (func $good (param i32)))
      (import "c" "mem" (memory 1))
      (func (export "call-boom") (result i32) (call $boom))
      (func (export "call-add") (param i32 i32) (result i32)
        (call $add (local.get 0) (local.get 1)))
      (func (export "call-bad") (result i32) (call $bad (i32.const 64)) (i32.const 1))
      (func (export "call-good") (result i32)
        (call $good (i32.const 64))
        (i32.load16_u (i32.load (i32.const 64)))))
    (core instance $ci (instantiate $code (with "c" (instance
      (export "boom" (func $boom)) (export "add" (func $add))
      (export "bad" (func $bad)) (export "good" (func $good))
      (export "mem" (memory $cmem))))))
    (func (export "call-boom") (result u32) (canon lift (core func $ci "call-boom")))
    (func (export "call-add") (param "a" u32) (param "b" u32) (result u32)
      (canon lift (core func $ci "call-add")))
    (func (export "call-bad") (result u32) (canon lift (core func $ci "call-bad")))
    (func (export "call-good") (result u32) (canon lift (core func $ci "call-good"))))
  (instance $callee (instantiate $callee))
  (instance $caller (instantiate $caller (with "callee" (instance $callee))))
  (export "call-boom" (func $caller "call-boom"))
  (export "call-add" (func $caller "call-add"))
  (export "call-bad" (func $caller "call-bad"))
  (export "call-good" (func $caller "call-good")))
"""

REENTER_WAT = """
(component
  (import "callback" (func $callback))
  (core func $cb (canon lower (func $callback)))
  (core module $m
    (import "host" "callback" (func $callback))
    (func (export "run") (result i32) (call $callback) (i32.const 7))
    (func (export "ping") (result i32) (i32.const 8)))
  (core instance $i (instantiate $m (with "host" (instance (export "callback" (func $cb))))))
  (func (export "run") (result u32) (canon lift (core func $i "run")))
  (func (export "ping") (result u32) (canon lift (core func $i "ping"))))
"""


def _trap_code(fn, *args):
    from pywamr.errors import Trap
    with pytest.raises(Trap) as info:
        fn(*args)
    return info.value.code


def test_traps_cross_from_callee_to_caller(engine):
    """A trap in the callee's core code, and one in the lift of its result (invalid UTF-8),
    reach the caller's caller as traps; each poisons the callee, as wasmtime does."""
    from pywamr.errors import TrapCode
    component = from_bytes(engine, wat(TRAPS_WAT), "traps")
    fresh = lambda: Linker(engine).instantiate(component).exports  # noqa: E731
    exports = fresh()
    assert exports["call-add"](40, 2) == 42
    assert exports["call-good"]() == 0x6968
    assert _trap_code(exports["call-boom"]) is TrapCode.UNREACHABLE
    assert _trap_code(exports["call-add"], 1, 2) is TrapCode.CANNOT_ENTER_COMPONENT
    exports = fresh()
    assert _trap_code(exports["call-bad"]) is TrapCode.INVALID_STRING
    assert _trap_code(exports["call-good"]) is TrapCode.CANNOT_ENTER_COMPONENT


def test_traps_cross_components_in_wasmtime_too():
    """The oracle for the test above: the same calls trap in wasmtime, and a trap poisons
    the callee there too."""
    wasmtime = pytest.importorskip("wasmtime", reason="the wasmtime oracle is not installed")
    from wasmtime import component as wc
    engine = wasmtime.Engine()
    component = wc.Component(engine, wat(TRAPS_WAT))

    def fresh():
        store = wasmtime.Store(engine)
        instance = wc.Linker(engine).instantiate(store, component)

        def call(name, *args):
            fn = instance.get_func(store, instance.get_export_index(store, name))
            out = fn(store, *args)
            fn.post_return(store)
            return out
        return call
    call = fresh()
    assert call("call-add", 40, 2) == 42 and call("call-good") == 0x6968
    failure = (wasmtime.Trap, wasmtime.WasmtimeError)
    with pytest.raises(failure, match="unreachable"):
        call("call-boom")
    with pytest.raises(failure, match="cannot enter component instance"):
        call("call-add", 1, 2)
    call = fresh()
    with pytest.raises(failure, match="invalid utf8 encoding"):
        call("call-bad")
    with pytest.raises(failure, match="cannot enter component instance"):
        call("call-good")


def test_reentering_a_component_from_its_import_traps(engine):
    from pywamr.errors import TrapCode
    component = from_bytes(engine, wat(REENTER_WAT), "reenter")
    linker = Linker(engine)
    calls = []
    linker.define_func(None, "callback", lambda: calls.append(exports["ping"]()))
    exports = linker.instantiate(component).exports
    assert exports["ping"]() == 8
    assert _trap_code(exports["run"]) is TrapCode.CANNOT_ENTER_COMPONENT
    assert calls == []
    linker = Linker(engine)
    linker.define_func(None, "callback", lambda: calls.append("no re-entrance"))
    exports = linker.instantiate(component).exports
    assert exports["run"]() == 7 and calls == ["no re-entrance"]
