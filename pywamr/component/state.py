"""The runtime state of one component instance that the canonical ABI reads and writes.

Sits under the canonical ABI (`abi/lift.py`, `abi/builtins.py`) and over `resources.py`. The
instantiation plan creates one `ComponentInstance` per component instance (nested ones with
their `parent`) and hands it to every `canon lift`, `canon lower` and resource built-in it
defines.

Holds the handle table and the two reentrance flags of the synchronous ABI:
- `may_enter` is cleared while the instance (or a descendant reached through it) is on the
  stack; a second entry traps ("Component Invariant" #2), except that entering a child from its
  parent, or a parent from its child (donut wrapping), enters only the instances not already
  entered by the caller (`entering_set`).
- `may_leave` is cleared while `realloc` and `post-return` run; calling a lowered import or a
  resource built-in then traps.

`entering_set` follows CanonicalABI.md (a caller's own instance and ancestors are not entered
again, so a parent may call its child and the child may call back into its parent). wasmtime
currently traps on both (`component-model/async/trap-on-reenter.wast`: "for now, trap on
parent-to-child" and "child-to-parent"); `ComponentInstance(..., donut_reentrance=False)` gives
that behaviour: entering this instance then enters it and all its ancestors, whoever calls.

A trap leaves the flags as they were at the trap, so an instance that trapped stays unenterable
("poisoned"), as the spec (a trap tears the store down) and wasmtime both have it.

The two flags live in one 2-byte cell (`flags`: byte 0 `may_enter`, byte 1 `may_leave`, 1 =
allowed) whose native address (`flags_address()`) the AOT engine's native adapters read and
write, so Python and native code see one state. `may_enter`/`may_leave` are properties over it;
hot paths index `flags` directly.

Deliberately holds no async state (threads, backpressure, the exclusive lock, waitables): the
async ABI is not supported. Spec: CanonicalABI.md, "Component Instances".
"""
from __future__ import annotations

import ctypes

from ..errors import Trap, TrapCode
from .resources import HandleTable

MAY_ENTER = 0       # byte offsets in `ComponentInstance.flags`
MAY_LEAVE = 1


def enter(instances) -> None:
    """Enter the instances a call newly enters (`entering_set`): trap unless each may be
    entered, then clear their `may_enter`. Spec: "Component Invariant" #2."""
    for i in instances:
        if not i.flags[MAY_ENTER]:
            raise Trap(TrapCode.CANNOT_ENTER_COMPONENT)
    for i in instances:
        i.flags[MAY_ENTER] = 0


def leave(instances) -> None:
    for i in instances:
        i.flags[MAY_ENTER] = 1


class ComponentInstance:
    """Per-instance ABI state: `handles`, `may_enter`, `may_leave`, `parent`."""

    __slots__ = ("handles", "flags", "parent", "name", "donut_reentrance", "_ancestors",
                 "_native_view", "__weakref__")

    def __init__(self, parent: ComponentInstance | None = None, name: str = "component", *,
                 donut_reentrance: bool = True):
        self.handles = HandleTable()
        self.flags = bytearray(b"\x01\x01")     # may_enter, may_leave (see the docstring)
        self._native_view = None
        self.parent = parent
        self.name = name
        self.donut_reentrance = donut_reentrance
        chain = [self]
        while chain[-1].parent is not None:
            chain.append(chain[-1].parent)
        self._ancestors = tuple(chain)

    @property
    def may_enter(self) -> bool:
        return bool(self.flags[MAY_ENTER])

    @may_enter.setter
    def may_enter(self, value: bool) -> None:
        self.flags[MAY_ENTER] = 1 if value else 0

    @property
    def may_leave(self) -> bool:
        return bool(self.flags[MAY_LEAVE])

    @may_leave.setter
    def may_leave(self, value: bool) -> None:
        self.flags[MAY_LEAVE] = 1 if value else 0

    def flags_address(self) -> int:
        """Native address of `flags` (fixed for the life of the instance: the view made here
        pins the bytearray's buffer, which is never resized)."""
        if self._native_view is None:
            self._native_view = (ctypes.c_uint8 * 2).from_buffer(self.flags)
        return ctypes.addressof(self._native_view)

    def entering_set(self, caller: ComponentInstance | None) -> tuple[ComponentInstance, ...]:
        """The instances a call from `caller` (None: the host) into this one newly enters."""
        if caller is None:
            return self._ancestors
        held = caller._ancestors
        fresh = tuple(i for i in self._ancestors if i not in held)
        if self.donut_reentrance:
            return fresh
        # wasmtime's rule: a call between an instance and its own ancestor or descendant
        # (either way) re-enters the one already on the stack, which traps; siblings and
        # cousins enter only what the caller does not hold
        if self in held:
            return fresh + (self,)
        if caller in self._ancestors:
            return fresh + (caller,)
        return fresh

    def __repr__(self) -> str:
        return (f"<ComponentInstance {self.name} may_enter={self.may_enter} "
                f"may_leave={self.may_leave} handles={len(self.handles)}>")
