"""Canonical built-ins as core functions: `resource.new`, `resource.rep`, `resource.drop`.

Sits beside `lift.py`; the instantiation plan calls these for each `canon resource.*`
definition, with the defining `ComponentInstance` and the `ResourceType`, and imports the
returned `Function`s into core modules. `drop_resource` runs a destructor on behalf of the host
(for an owned rep the host received).

Deliberately refuses every async, thread and error-context built-in (`unsupported_builtin`).
Spec: CanonicalABI.md, "`canon resource.new`", "`canon resource.drop`", "`canon resource.rep`".
"""
from __future__ import annotations

from ...binary.types import FuncType as CoreFuncType, I32
from ...errors import NotSupported, Trap, TrapCode
from ...runtime.objects import Function
from ..resources import ResourceHandle
from ..state import enter, leave
from .handles import checked_handle

_NEW_TYPE = CoreFuncType((I32,), (I32,))
_REP_TYPE = CoreFuncType((I32,), (I32,))
_DROP_TYPE = CoreFuncType((I32,), ())


def _handle_of(inst, rt, i: int) -> ResourceHandle:
    return checked_handle(inst.handles, i, rt)


def canon_resource_new(inst, rt, name: str = "resource.new") -> Function:
    """`(func (param i32 rep) (result i32 index))`: a new owned handle."""
    def resource_new(rep):
        if not inst.may_leave:
            raise Trap(TrapCode.CANNOT_LEAVE_COMPONENT)
        return inst.handles.add(ResourceHandle(rt, rep, True))
    return Function(_NEW_TYPE, resource_new, name, host=True)


def canon_resource_rep(inst, rt, name: str = "resource.rep") -> Function:
    """`(func (param i32 index) (result i32 rep))`."""
    def resource_rep(i):
        return _handle_of(inst, rt, i).rep
    return Function(_REP_TYPE, resource_rep, name, host=True)


def canon_resource_drop(inst, rt, name: str = "resource.drop") -> Function:
    """`(func (param i32 index))`: remove the handle; an owned one runs the destructor, a
    borrowed one is given back to the call that lent it."""
    def resource_drop(i):
        if not inst.may_leave:
            raise Trap(TrapCode.CANNOT_LEAVE_COMPONENT)
        h = _handle_of(inst, rt, i)
        if h.num_lends:
            raise Trap(TrapCode.HANDLE_MISUSE, "cannot remove owned resource while borrowed")
        inst.handles.remove(i)
        if h.own:
            call_destructor(rt, h.rep, inst)
        else:
            h.borrow_scope.num_borrows -= 1
    return Function(_DROP_TYPE, resource_drop, name, host=True)


def call_destructor(rt, rep: int, caller) -> None:
    """Run `rt.dtor` on `rep` like a synchronous call from `caller` (None: the host) into the
    instance that defined `rt`: it traps if that instance may not be entered. From the
    defining instance itself it is a direct call (Spec: "`canon resource.drop`"). `dtor` is a core
    `Function` (a component-defined resource) or a Python callable (a host resource)."""
    dtor = rt.dtor
    if dtor is None:
        return
    impl = rt.instance
    if impl is None or impl is caller:
        # the defining instance drops its own resource: a direct call, not a re-entry
        entering = ()
    else:
        entering = impl.entering_set(caller)
    enter(entering)
    if isinstance(dtor, Function):
        dtor.call(rep)
    else:
        dtor(rep)
    leave(entering)


def drop_resource(rt, rep: int) -> None:
    """The host drops an owned resource it holds (as a rep): run the destructor."""
    from ...runtime.trapping import call_guarded
    call_guarded(call_destructor, (rt, rep, None))


def unsupported_builtin(name: str):
    """Every async, thread and error-context built-in: a clear refusal at instantiation."""
    raise NotSupported(f"the canonical built-in `{name}` (async ABI) is not supported")
