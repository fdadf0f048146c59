"""Handle tables and resources: the spec's free list, resource.new/rep/drop with destructors,
own transfer and borrow lending between component instances, and every trap they require."""
from __future__ import annotations

import pytest

from pywamr.binary.types import FuncType as CoreFuncType, I32
from pywamr.component.abi import (canon_lift, canon_lower, canon_resource_drop,
                                  canon_resource_new, canon_resource_rep, drop_resource)
from pywamr.component.resources import HandleTable, ResourceHandle
from pywamr.component.state import ComponentInstance
from pywamr.component.types import (BorrowType, FuncType, ListType, OwnType, ResourceType, U32)
from pywamr.errors import Trap, TrapCode

from component.abi_testlib import Guest, LateFunction


def fn(params, result=None):
    return FuncType(tuple((f"p{i}", t) for i, t in enumerate(params)), result)


def trap_of(f, *args) -> Trap:
    with pytest.raises(Trap) as info:
        f(*args)
    return info.value


# ---- the table ------------------------------------------------------------------------------

def test_table_reserves_zero_and_reuses_last_freed_first():
    table = HandleTable()
    assert [table.add(x) for x in "abc"] == [1, 2, 3]
    assert table.remove(2) == "b"
    assert table.add("d") == 2
    for i in (1, 2, 3):
        table.remove(i)
    assert [table.add(x) for x in "xyz"] == [3, 2, 1]
    assert table.add("w") == 4
    assert len(table) == 4 and sorted(table) == ["w", "x", "y", "z"]


@pytest.mark.parametrize("index", [0, 5, 0xFFFFFFFF])
def test_unknown_indices_trap(index):
    table = HandleTable()
    table.add("a")
    for op in (table.get, table.remove):
        t = trap_of(op, index)
        assert t.code is TrapCode.UNKNOWN_HANDLE and str(index) in t.message
    table.remove(1)
    assert trap_of(table.get, 1).code is TrapCode.UNKNOWN_HANDLE


# ---- one component defining a resource ------------------------------------------------------

DTOR_WAT = """
  (global $dropped (export "dropped") (mut i32) (i32.const -1))
  (global $drops (export "drops") (mut i32) (i32.const 0))
  (func (export "dtor") (param i32)
    (global.set $dropped (local.get 0))
    (global.set $drops (i32.add (global.get $drops) (i32.const 1))))
"""


class Impl:
    """A guest that defines resource R (with a wasm destructor) and its built-ins."""

    def __init__(self, name="impl", extra="", imports=None, imports_wat=""):
        self.g = Guest(DTOR_WAT + extra, imports, imports_wat, name=name)
        self.state = self.g.state
        self.rt = ResourceType("R", dtor=self.g.func("dtor"), instance=self.state)
        self.new = canon_resource_new(self.state, self.rt)
        self.rep = canon_resource_rep(self.state, self.rt)
        self.drop = canon_resource_drop(self.state, self.rt)

    @property
    def dropped(self):
        return self.g.global_value("dropped"), self.g.global_value("drops")


def test_new_rep_drop_runs_the_destructor():
    r = Impl()
    assert r.new.type == CoreFuncType((I32,), (I32,))
    assert r.drop.type == CoreFuncType((I32,), ())
    h = r.new.call(100)
    assert h == 1 and r.rep.call(h) == 100
    assert r.drop.call(h) is None
    assert r.dropped == (100, 1)
    assert trap_of(r.rep.call, h).code is TrapCode.UNKNOWN_HANDLE
    assert trap_of(r.drop.call, h).code is TrapCode.UNKNOWN_HANDLE      # dropped twice


def test_builtins_from_core_code():
    late = {n: LateFunction(t) for n, t in (("new", CoreFuncType((I32,), (I32,))),
                                             ("drop", CoreFuncType((I32,), ())),
                                             ("rep", CoreFuncType((I32,), (I32,))))}
    wat = """
      (func (export "run") (result i32)
        (if (i32.ne (i32.const 1) (call $new (i32.const 100))) (then unreachable))
        (if (i32.ne (i32.const 2) (call $new (i32.const 200))) (then unreachable))
        (if (i32.ne (i32.const 3) (call $new (i32.const 300))) (then unreachable))
        (call $drop (i32.const 2))
        (if (i32.ne (i32.const 2) (call $new (i32.const 400))) (then unreachable))
        (if (i32.ne (i32.const 400) (call $rep (i32.const 2))) (then unreachable))
        (call $drop (i32.const 1)) (call $drop (i32.const 2)) (call $drop (i32.const 3))
        (if (i32.ne (i32.const 3) (call $new (i32.const 500))) (then unreachable))
        (call $rep (i32.const 3)))
      (func (export "bad") (drop (call $rep (i32.const 9))))
    """
    imports_wat = """
      (import "r" "new" (func $new (param i32) (result i32)))
      (import "r" "drop" (func $drop (param i32)))
      (import "r" "rep" (func $rep (param i32) (result i32)))
    """
    r = Impl(extra=wat, imports={("r", n): late[n].function for n in late},
             imports_wat=imports_wat)
    for n in late:
        late[n].bind(getattr(r, n))
    run = canon_lift(r.g.opts(), r.state, r.g.func("run"), fn([], U32))
    assert run() == 500
    assert r.dropped == (300, 4)
    bad = canon_lift(r.g.opts(), r.state, r.g.func("bad"), fn([]))
    assert trap_of(bad).code is TrapCode.UNKNOWN_HANDLE


def test_wrong_resource_type_traps():
    r = Impl()
    other = ResourceType("S", instance=r.state)
    drop_s = canon_resource_drop(r.state, other)
    rep_s = canon_resource_rep(r.state, other)
    h = r.new.call(5)
    assert trap_of(drop_s.call, h).code is TrapCode.HANDLE_TYPE_MISMATCH
    assert trap_of(rep_s.call, h).code is TrapCode.HANDLE_TYPE_MISMATCH
    assert r.rep.call(h) == 5           # still there


def test_builtins_need_may_leave():
    r = Impl()
    h = r.new.call(1)
    r.state.may_leave = False
    assert trap_of(r.new.call, 2).code is TrapCode.CANNOT_LEAVE_COMPONENT
    assert trap_of(r.drop.call, h).code is TrapCode.CANNOT_LEAVE_COMPONENT


def test_host_resource_destructor_is_a_python_callable():
    seen = []
    rt = ResourceType("host", dtor=seen.append)
    inst = ComponentInstance()
    h = canon_resource_new(inst, rt).call(77)
    canon_resource_drop(inst, rt).call(h)
    drop_resource(rt, 78)
    assert seen == [77, 78]


# ---- handles across components --------------------------------------------------------------

class World:
    """impl (defines R, exports make/take/inspect), user A (non-impl), user C (non-impl)."""

    def __init__(self):
        self.r = r = Impl()
        self.a = Guest(name="A")
        self.c = Guest(name="C")
        own, borrow = OwnType(r.rt), BorrowType(r.rt)
        self.own, self.borrow = own, borrow
        self.make = canon_lift(r.g.opts(), r.state, lambda rep: r.new.call(rep), fn([U32], own))
        self.take = canon_lift(r.g.opts(), r.state, lambda h: r.drop.call(h), fn([own]))
        self.inspect = canon_lift(r.g.opts(), r.state, lambda rep: rep, fn([borrow], U32))
        self.a_make = canon_lower(self.a.opts(), self.a.state, self.make, fn([U32], own))
        self.a_take = canon_lower(self.a.opts(), self.a.state, self.take, fn([own]))
        self.a_inspect = canon_lower(self.a.opts(), self.a.state, self.inspect,
                                     fn([borrow], U32))
        self.a_drop = canon_resource_drop(self.a.state, r.rt)
        self.c_drop = canon_resource_drop(self.c.state, r.rt)

    def c_borrower(self, core):
        """C's lifted (borrow<R>) -> u32 over the Python core function `core(handle)`,
        lowered into A."""
        lifted = canon_lift(self.c.opts(), self.c.state, core, fn([self.borrow], U32))
        return canon_lower(self.a.opts(), self.a.state, lifted, fn([self.borrow], U32))


def test_own_moves_between_tables():
    w = World()
    h = w.a_make.call(100)
    assert h == 1
    assert len(w.r.state.handles) == 0            # lifted out of the implementation's table
    handle = w.a.state.handles.get(h)
    assert handle.own and handle.rep == 100 and handle.rt is w.r.rt
    w.a_take.call(h)                               # back to impl, which drops it
    assert len(w.a.state.handles) == 0
    assert w.r.dropped == (100, 1)
    assert trap_of(w.a_take.call, h).code is TrapCode.UNKNOWN_HANDLE


def test_non_implementer_drop_calls_destructor_in_implementer():
    w = World()
    h = w.a_make.call(7)
    w.a_drop.call(h)
    assert w.r.dropped == (7, 1)


def test_destructor_reentering_implementer_traps():
    w = World()
    h = w.a_make.call(7)
    # impl calls into A, which drops its R: the destructor would re-enter impl
    a_drops = canon_lift(w.a.opts(), w.a.state, lambda: w.a_drop.call(h), fn([]))
    impl_calls = canon_lift(w.r.g.opts(), w.r.state,
                            canon_lower(w.r.g.opts(), w.r.state, a_drops, fn([])), fn([]))
    assert trap_of(impl_calls).code is TrapCode.CANNOT_ENTER_COMPONENT


def test_borrow_into_implementer_passes_the_rep():
    w = World()
    h = w.a_make.call(321)
    assert w.a_inspect.call(h) == 321
    assert len(w.r.state.handles) == 0            # no borrow handle was created there
    assert w.a.state.handles.get(h).num_lends == 0


def test_borrow_lends_for_the_duration_of_the_call():
    w = World()
    h = w.a_make.call(55)
    seen = {}

    def core(bh):
        handle = w.c.state.handles.get(bh)
        seen["borrow"] = (handle.own, handle.rep, w.a.state.handles.get(h).num_lends)
        # the lent handle cannot be dropped or moved while lent
        seen["drop"] = trap_of(w.a_drop.call, h).code
        seen["move"] = trap_of(w.a_take.call, h).code
        w.c_drop.call(bh)
        return 1

    c_call = w.c_borrower(core)
    assert c_call.call(h) == 1
    assert seen["borrow"] == (False, 55, 1)
    assert seen["drop"] is TrapCode.HANDLE_MISUSE
    assert seen["move"] is TrapCode.HANDLE_MISUSE
    assert w.a.state.handles.get(h).num_lends == 0
    w.a_drop.call(h)                               # fine once the call is over
    assert w.r.dropped == (55, 1)


def test_borrow_not_dropped_before_return_traps():
    w = World()
    h = w.a_make.call(1)
    c_call = w.c_borrower(lambda bh: 0)
    assert trap_of(c_call.call, h).code is TrapCode.BORROWS_NOT_DROPPED


def test_borrow_dropped_twice_traps():
    w = World()
    h = w.a_make.call(1)

    def core(bh):
        w.c_drop.call(bh)
        w.c_drop.call(bh)
        return 0
    assert trap_of(w.c_borrower(core).call, h).code is TrapCode.UNKNOWN_HANDLE


def test_borrow_handle_cannot_be_passed_as_own():
    w = World()
    h = w.a_make.call(1)
    c_take = canon_lower(w.c.opts(), w.c.state, w.take, fn([w.own]))

    def core(bh):
        code = trap_of(c_take.call, bh).code        # the lift fails before entering impl
        w.c_drop.call(bh)
        return 1 if code is TrapCode.HANDLE_MISUSE else 0
    assert w.c_borrower(core).call(h) == 1
    assert w.r.dropped == (0xFFFFFFFF, 0)       # no destructor ran


def test_lifting_handles_checks_index_and_type():
    w = World()
    h = w.a_make.call(1)
    assert trap_of(w.a_take.call, 0).code is TrapCode.UNKNOWN_HANDLE
    assert trap_of(w.a_take.call, 99).code is TrapCode.UNKNOWN_HANDLE
    other = ResourceType("S", instance=w.r.state)
    take_s = canon_lift(w.r.g.opts(), w.r.state, lambda i: None, fn([OwnType(other)]))
    a_take_s = canon_lower(w.a.opts(), w.a.state, take_s, fn([OwnType(other)]))
    assert trap_of(a_take_s.call, h).code is TrapCode.HANDLE_TYPE_MISMATCH
    assert w.a.state.handles.get(h).rep == 1     # a failed lift does not remove it


def test_list_of_owns_moves_every_handle():
    w = World()
    hs = [w.a_make.call(i) for i in (10, 20, 30)]
    ft = fn([ListType(w.own)], U32)
    received = []

    def core(ptr, n):
        data = w.r.g.memory.data
        for k in range(n):
            i = int.from_bytes(data[ptr + 4 * k:ptr + 4 * k + 4], "little")
            received.append(w.r.rep.call(i))
            w.r.drop.call(i)
        return n
    take_all = canon_lift(w.r.g.opts(), w.r.state, core, ft)
    a_take_all = canon_lower(w.a.opts(), w.a.state, take_all, ft)
    from pywamr.component.abi.flat import values_lowerer
    cx = w.a.cx()
    flat = values_lowerer(ft.param_types, 16)(cx, [[]])     # an empty list first
    assert a_take_all.call(*flat) == 0
    ptr = cx.allocate(4, 12)
    w.a.write(ptr, b"".join(h.to_bytes(4, "little") for h in hs))
    assert a_take_all.call(ptr, 3) == 3
    assert received == [10, 20, 30] and len(w.a.state.handles) == 0
    assert w.r.dropped == (30, 3)


def test_host_holds_reps_of_own_results():
    w = World()
    rep = w.make(9)                # lifted to the host: the rep
    assert rep == 9 and len(w.r.state.handles) == 0
    assert w.inspect(rep) == 9     # borrow into the implementer
    w.take(rep)                    # own back into the implementer, which drops it
    assert w.r.dropped == (9, 1)
    with pytest.raises(TypeError):
        w.take(-1)


def test_handle_repr():
    assert "own" in repr(ResourceHandle(ResourceType("R"), 1, True))


def test_table_limit_traps(monkeypatch):
    import pywamr.component.resources as resources
    monkeypatch.setattr(resources, "MAX_LENGTH", 3)
    table = HandleTable()
    assert [table.add(x) for x in "abc"] == [1, 2, 3]
    assert trap_of(table.add, "d").code is TrapCode.TABLE_FULL
    table.remove(2)
    assert table.add("e") == 2          # a freed slot is still usable


def test_host_borrow_into_a_non_implementer_must_be_dropped():
    w = World()
    seen = []

    def core(bh):
        seen.append(w.c.state.handles.get(bh).rep)
        w.c_drop.call(bh)
        return 0
    c_takes = canon_lift(w.c.opts(), w.c.state, core, fn([w.borrow], U32))
    assert c_takes(44) == 0 and seen == [44]
    keeps = canon_lift(w.c.opts(), w.c.state, lambda bh: 0, fn([w.borrow], U32))
    assert trap_of(keeps, 45).code is TrapCode.BORROWS_NOT_DROPPED


def test_borrow_passed_on_to_a_third_component():
    w = World()
    h = w.a_make.call(66)
    c_inspect = canon_lower(w.c.opts(), w.c.state, w.inspect, fn([w.borrow], U32))
    seen = {}

    def core(bh):
        seen["rep"] = c_inspect.call(bh)         # C lends its borrow on to impl
        seen["lends"] = w.c.state.handles.get(bh).num_lends
        w.c_drop.call(bh)
        return seen["rep"]
    assert w.c_borrower(core).call(h) == 66
    assert seen == {"rep": 66, "lends": 0}
    assert w.a.state.handles.get(h).num_lends == 0
