"""Lifting and lowering `own` and `borrow` handles: moving resources between handle tables.

Sits between `resources.py` (tables, handles, borrow scopes) and the value converters
(`load.py`, `store.py`, `flat.py`), which call these four functions with the i32 handle index
read from the guest or the rep to lower. The component-level value of a handle is its
resource's rep (an int in [0, 2**32)), as in the spec; host bindings must wrap it.

Lifting an `own` transfers it (the handle leaves the table), lifting a `borrow` lends the
source handle for the duration of the call (`Subtask.add_lender`); lowering an `own` adds an
owned handle, lowering a `borrow` adds a borrowed handle counted by the callee's `Task` (or
passes the rep itself when the callee implements the resource). Every misuse traps.

Spec: CanonicalABI.md, "Loading" (`lift_own`, `lift_borrow`) and "Storing" (`lower_own`,
`lower_borrow`).
"""
from __future__ import annotations

from ...errors import Trap, TrapCode
from ..resources import ResourceHandle


def _kind(rt) -> str:
    return "host-defined resource" if rt.host_class is not None else "guest-defined resource"


def checked_handle(table, i: int, rt) -> ResourceHandle:
    """The resource handle at index `i` of `table`, which must be of resource type `rt`
    (traps otherwise, in wasmtime's words)."""
    h = table.get(i)
    if type(h) is not ResourceHandle:
        raise Trap(TrapCode.HANDLE_TYPE_MISMATCH, f"handle index {i} is not a resource handle")
    if h.rt is not rt:
        want, found = _kind(rt), _kind(h.rt)
        found = f"a different {found}" if found == want else found
        raise Trap(TrapCode.HANDLE_TYPE_MISMATCH,
                   f"handle index {i} used with the wrong type, expected {want} but found "
                   f"{found} ({rt.name}, {h.rt.name})")
    return h


def _checked(cx, i: int, t) -> ResourceHandle:
    return checked_handle(cx.inst.handles, i, t.resource)


def lift_own(cx, i: int, t) -> int:
    h = _checked(cx, i, t)
    if h.num_lends:
        raise Trap(TrapCode.HANDLE_MISUSE, "cannot remove owned resource while borrowed")
    if not h.own:
        raise Trap(TrapCode.HANDLE_MISUSE,
                   f"handle index {i} is a borrowed handle, an owned handle was expected")
    cx.inst.handles.remove(i)
    return h.rep


def lift_borrow(cx, i: int, t) -> int:
    h = _checked(cx, i, t)
    cx.borrow_scope.add_lender(h)
    return h.rep


def _check_rep(rep) -> int:
    if type(rep) is not int or not 0 <= rep <= 0xFFFFFFFF:
        if isinstance(rep, bool) or not isinstance(rep, int) or not 0 <= rep <= 0xFFFFFFFF:
            raise TypeError(f"a resource rep must be an int in [0, 2**32), got {rep!r}")
    return int(rep)


def lower_own(cx, rep: int, t) -> int:
    return cx.inst.handles.add(ResourceHandle(t.resource, _check_rep(rep), True))


def lower_borrow(cx, rep: int, t) -> int:
    rep = _check_rep(rep)
    if cx.inst is t.resource.instance:
        return rep
    scope = cx.borrow_scope
    scope.num_borrows += 1
    return cx.inst.handles.add(ResourceHandle(t.resource, rep, False, scope))
