"""Lifetime of AOT instances: dropped instances (their vmctx, records, pins) and, once no
module or instance uses it, their JIT code are collectable; whatever native code may still
reach stays alive."""
from __future__ import annotations

import gc
import weakref

from aot_testlib import wat
from pywamr.aot import bridge

MODULE = """
(module
  (import "host" "f" (func $f (param i32) (result i32)))
  (import "host" "ext" (func $ext (result externref)))
  (memory (export "memory") 1)
  (table (export "table") 2 funcref)
  (elem (i32.const 0) $f $double)
  (global $g (mut externref) (ref.null extern))
  (type $ii (func (param i32) (result i32)))
  (func $double (param i32) (result i32) local.get 0 i32.const 2 i32.mul)
  (func (export "run") (param i32) (result i32)
    call $ext global.set $g
    i32.const 0 local.get 0 i32.store
    i32.const 0 i32.load i32.const 0 call_indirect (type $ii)
    i32.const 1 call_indirect (type $ii))
  (func (export "keep") (param externref) local.get 0 global.set $g)
  (func (export "get") (result externref) global.get $g))
"""


def _engine():
    from pywamr.engine import Engine
    return Engine("aot", cache=False)


def _make(engine, module, calls):
    from pywamr.engine import Linker
    linker = Linker(engine)
    linker.define_func("host", "f", (("i32",), ("i32",)), lambda x: calls.append(x) or x + 1)
    linker.define_func("host", "ext", ((), ("externref",)), lambda: object())
    return linker.instantiate(None, module)


def _collect():
    for _ in range(3):
        gc.collect()


def test_dropped_instances_are_collected_and_registries_do_not_grow():
    from pywamr.engine import Module
    engine = _engine()
    module = Module(engine, wat(MODULE))
    calls = []
    refs = []
    baseline = None
    for i in range(300):
        inst = _make(engine, module, calls)
        assert inst.exports["run"](i) == 2 * (i + 1)
        inst.exports["keep"](["payload", i])
        assert inst.exports["get"]() == ["payload", i]
        refs.append((weakref.ref(inst), weakref.ref(inst.state),
                     weakref.ref(inst.state.engine_data)))
        del inst
        if i == 9:
            _collect()
            baseline = bridge.live_counts()
    _collect()
    assert calls == list(range(300))
    assert all(r() is None for rs in refs for r in rs)
    counts = bridge.live_counts()
    for key, value in counts.items():
        assert value <= baseline[key], (key, baseline, counts)
    # the memory of the module's code stays while the module object lives, then goes
    compiled = weakref.ref(module.compiled)
    code_before = counts["code"]
    del module
    _collect()
    assert compiled() is None
    assert bridge.live_counts()["code"] == code_before - 1


def test_instance_keeps_its_code_alive_without_the_module():
    from pywamr.engine import Module
    engine = _engine()
    module = Module(engine, wat(MODULE))
    compiled = weakref.ref(module.compiled)
    inst = _make(engine, module, [])
    del module
    _collect()
    assert compiled() is not None
    assert inst.exports["run"](4) == 10
    del inst
    _collect()
    assert compiled() is None


EXPORTER = """
(module
  (func (export "neg") (param i64) (result i64) i64.const 0 local.get 0 i64.sub)
  (func $sq (export "sq") (param i32) (result i32) local.get 0 local.get 0 i32.mul)
  (memory (export "memory") 1)
  (table (export "table") 1 funcref)
  (elem (i32.const 0) $sq)
  (global (export "g") (mut i32) (i32.const 7))
  (global (export "r") (mut funcref) (ref.null func)))
"""

IMPORTER = """
(module
  (import "p" "neg" (func $neg (param i64) (result i64)))
  (import "p" "memory" (memory 1))
  (import "p" "table" (table 1 funcref))
  (import "p" "g" (global $g (mut i32)))
  (import "p" "r" (global $r (mut funcref)))
  (type $ii (func (param i32) (result i32)))
  (func $own (param i32) (result i32) local.get 0 i32.const 100 i32.add)
  (elem declare func $own)
  (func (export "f") (param i64) (result i64) local.get 0 call $neg)
  (func (export "ind") (param i32) (result i32) local.get 0 i32.const 0 call_indirect (type $ii))
  (func (export "mem") (result i32) i32.const 8 i32.const 1 memory.grow drop i32.load)
  (func (export "glob") (result i32) global.get $g)
  (func (export "set_r") ref.func $own global.set $r))
"""


def test_importer_keeps_exporter_alive():
    from pywamr.engine import Linker, Module
    engine = _engine()
    exporter = Linker(engine).instantiate(None, Module(engine, wat(EXPORTER)))
    exporter.exports["memory"].write(8, (1234).to_bytes(4, "little"))
    exporter_native = weakref.ref(exporter.state.engine_data)
    linker = Linker(engine)
    linker.define_instance("p", exporter)
    importer = linker.instantiate(None, Module(engine, wat(IMPORTER)))
    importer_native = weakref.ref(importer.state.engine_data)
    r_global = exporter.state.exports["r"]
    del exporter, linker
    _collect()
    assert exporter_native() is not None
    assert importer.exports["f"](5) == -5
    assert importer.exports["ind"](9) == 81
    assert importer.exports["mem"]() == 1234
    assert importer.exports["glob"]() == 7
    importer.exports["set_r"]()
    del importer
    _collect()
    # the exporter's mutable funcref global may hold a function of the importer: both live
    assert importer_native() is not None and exporter_native() is not None
    assert r_global.value.call(3) == 103
    del r_global
    _collect()
    assert importer_native() is None and exporter_native() is None


def test_shared_memory_does_not_keep_importers_alive():
    from pywamr.engine import Linker, Memory, Module
    from pywamr.binary.types import Limits, MemoryType
    engine = _engine()
    memory = Memory(MemoryType(Limits(1, None)))
    module = Module(engine, wat("""
    (module (import "m" "memory" (memory 1))
      (func (export "grow") (result i32) i32.const 1 memory.grow))
    """))
    refs = []
    for _ in range(50):
        linker = Linker(engine)
        linker.define("m", "memory", memory)
        inst = linker.instantiate(None, module)
        inst.exports["grow"]()
        refs.append(weakref.ref(inst.state.engine_data))
        del inst, linker
    _collect()
    assert all(r() is None for r in refs)
    assert len(memory.grow_hooks) <= 2
