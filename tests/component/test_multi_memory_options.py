"""Canonical options `(memory N)` over core modules with several memories: lifting, lowering
into another component and lowering a host import each use the memory the options name, never
memory 0 (which holds bytes that are not valid strings here). Checked on both engines against
wasmtime."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pywamr import Engine  # noqa: E402
from pywamr.component import Component, Linker  # noqa: E402
from pywamr_testlib import ENGINES, require_wasmtime, wat  # noqa: E402

# Memory 0 of every core module below is 0xFF bytes where strings and return areas would be:
# any access through the wrong memory reads an invalid string or an out-of-range length.
JUNK = '(data (memory 0) (i32.const 0) "' + "\\ff" * 4096 + '")'

# A bump allocator that never touches memory (its pointers are valid in any memory).
BUMP = """
  (global $bump (mut i32) (i32.const 1024))
  (func $realloc (export "realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                           (i32.sub (i32.const 0) (local.get 2))))
    (global.set $bump (i32.add (local.get $p) (local.get 3)))
    (local.get $p))
"""

COMPONENT = f"""
(component
  (import "log" (func $log (param "s" string)))
  (component $A
    (core module $m
      (memory $junk (export "junk") 1)
      (memory $heap (export "heap") 1)
      {JUNK}
      {BUMP}
      (func (export "reverse") (param $p i32) (param $n i32) (result i32)
        (local $out i32) (local $i i32)
        (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $n)))
        (block $done (loop $next
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (i32.store8 $heap (i32.add (local.get $out) (local.get $i))
            (i32.load8_u $heap (i32.sub (i32.add (local.get $p) (local.get $n))
                                        (i32.add (local.get $i) (i32.const 1)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next)))
        (i32.store $heap (i32.const 16) (local.get $out))
        (i32.store $heap (i32.const 20) (local.get $n))
        (i32.const 16)))
    (core instance $i (instantiate $m))
    (alias core export $i "heap" (core memory $heap))
    (alias core export $i "realloc" (core func $realloc))
    (func (export "reverse") (param "s" string) (result string)
      (canon lift (core func $i "reverse") (memory $heap) (realloc $realloc))))
  (component $B
    (import "reverse" (func $reverse (param "s" string) (result string)))
    (import "log" (func $log (param "s" string)))
    (core module $libc
      (memory (export "m0") 1)
      (memory (export "m1") 1)
      (memory (export "m2") 1)
      {JUNK}
      {BUMP})
    (core instance $libc (instantiate $libc))
    (alias core export $libc "m1" (core memory $m1))
    (alias core export $libc "m2" (core memory $m2))
    (alias core export $libc "realloc" (core func $realloc))
    (core func $reverse (canon lower (func $reverse) (memory $m2) (realloc $realloc)))
    (core func $log (canon lower (func $log) (memory $m1)))
    (core module $main
      (import "libc" "m0" (memory $m0 1))
      (import "libc" "m1" (memory $m1 1))
      (import "libc" "m2" (memory $m2 1))
      (import "" "reverse" (func $reverse (param i32 i32 i32)))
      (import "" "log" (func $log (param i32 i32)))
      ;; run(s): s arrives in m1; copy it to m2 and reverse it through A (its result lands in
      ;; m2 too), copy the result into m1, log it, and return it from m1.
      (func (export "run") (param $p i32) (param $n i32) (result i32)
        (memory.copy $m2 $m1 (local.get $p) (local.get $p) (local.get $n))
        (call $reverse (local.get $p) (local.get $n) (i32.const 64))
        (memory.copy $m1 $m2 (i32.const 512) (i32.load $m2 (i32.const 64))
                     (i32.load $m2 (i32.const 68)))
        (call $log (i32.const 512) (i32.load $m2 (i32.const 68)))
        (i32.store $m1 (i32.const 32) (i32.const 512))
        (i32.store $m1 (i32.const 36) (i32.load $m2 (i32.const 68)))
        (i32.const 32)))
    (core instance $main (instantiate $main
      (with "libc" (instance $libc))
      (with "" (instance (export "reverse" (func $reverse)) (export "log" (func $log))))))
    (func (export "run") (param "s" string) (result string)
      (canon lift (core func $main "run") (memory $m1) (realloc $realloc))))
  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "reverse" (func $a "reverse")) (with "log" (func $log))))
  (export "run" (func $b "run")))
"""

WORDS = ["multi-memory", "", "ab", "xyz" * 100]     # ASCII: reversed bytes stay UTF-8


def _wasmtime_results(data: bytes) -> tuple[list, list]:
    wasmtime = require_wasmtime()
    from wasmtime import component as wc
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    logged: list = []
    linker = wc.Linker(engine)
    with linker.root() as root:
        root.add_func("log", lambda store, s: logged.append(s))
    instance = linker.instantiate(store, wc.Component(engine, data))
    run = instance.get_func(store, instance.get_export_index(store, "run"))
    results = []
    for word in WORDS:
        results.append(run(store, word))
        run.post_return(store)
    return results, logged


@pytest.mark.parametrize("engine_kind", ENGINES)
def test_canon_options_select_the_named_memory(engine_kind):
    data = wat(COMPONENT)
    engine = Engine(engine_kind)
    logged: list = []
    linker = Linker(engine)
    linker.define_func(None, "log", logged.append)
    instance = linker.instantiate(Component(engine, data))
    results = [instance.exports.run(word) for word in WORDS]
    assert results == [word[::-1] for word in WORDS]
    assert logged == results
    assert (results, logged) == _wasmtime_results(data)
