"""Host callbacks: exceptions re-raised in Python, re-entrancy with traps at depth, imports
from interpreter instances."""
from __future__ import annotations

import pytest

from aot_testlib import instance
from pywamr.errors import Trap, TrapCode

CALLER = """
(module
  (import "host" "f" (func $f (param i32) (result i32)))
  (func (export "call") (param i32) (result i32) local.get 0 call $f i32.const 1 i32.add)
  (func (export "trap_if_zero") (param i32) (result i32)
    local.get 0 i32.eqz if unreachable end local.get 0)
)
"""


def test_host_exception_is_reraised():
    class Boom(Exception):
        pass

    def f(x):
        raise Boom(f"bad {x}")
    inst = instance(CALLER, {("host", "f"): ((("i32",), ("i32",)), f)})
    with pytest.raises(Boom, match="bad 3"):
        inst.exports["call"](3)
    assert inst.exports["trap_if_zero"](5) == 5


def test_reentrancy_with_trap_at_depth():
    holder = {}
    seen = []

    def f(x):
        seen.append(x)
        if x == 0:
            return holder["inst"].exports["trap_if_zero"](0)     # traps inside native code
        return holder["inst"].exports["call"](x - 1)             # Python -> native again
    inst = instance(CALLER, {("host", "f"): ((("i32",), ("i32",)), f)})
    holder["inst"] = inst
    with pytest.raises(Trap) as info:
        inst.exports["call"](5)
    assert info.value.code is TrapCode.UNREACHABLE
    assert seen == [5, 4, 3, 2, 1, 0]

    def g(x):
        return holder["inst"].exports["trap_if_zero"](x) * 2
    inst2 = instance(CALLER, {("host", "f"): ((("i32",), ("i32",)), g)})
    assert inst2.exports["call"](4) == 9
    # the outer trampoline state was restored: deep recursion still traps cleanly
    with pytest.raises(Trap):
        inst.exports["call"](3)


def test_import_function_of_interpreter_instance():
    provider = instance("""
    (module (func (export "sq") (param i32) (result i32) local.get 0 local.get 0 i32.mul))
    """, engine_kind="interp")
    inst = instance("""
    (module
      (import "p" "sq" (func $sq (param i32) (result i32)))
      (table 1 funcref) (elem (i32.const 0) $sq)
      (type $ii (func (param i32) (result i32)))
      (func (export "direct") (param i32) (result i32) local.get 0 call $sq)
      (func (export "indirect") (param i32) (result i32) local.get 0 i32.const 0
        call_indirect (type $ii)))
    """, {("p", "sq"): provider.exports["sq"].function})
    assert inst.exports["direct"](7) == 49
    assert inst.exports["indirect"](9) == 81


def test_native_call_across_aot_instances():
    provider = instance("""
    (module (func (export "neg") (param i64) (result i64) i64.const 0 local.get 0 i64.sub)
            (func (export "boom") unreachable))
    """)
    inst = instance("""
    (module (import "p" "neg" (func $neg (param i64) (result i64)))
            (import "p" "boom" (func $boom))
            (func (export "f") (param i64) (result i64) local.get 0 call $neg)
            (func (export "g") call $boom))
    """, {("p", "neg"): provider.exports["neg"].function,
          ("p", "boom"): provider.exports["boom"].function})
    assert inst.exports["f"](5) == -5
    with pytest.raises(Trap) as info:
        inst.exports["g"]()
    assert info.value.code is TrapCode.UNREACHABLE
