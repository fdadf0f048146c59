"""Handle tables and resource handles: the per-instance state behind `own` and `borrow`.

Sits under the canonical ABI (`abi/handles.py` and `abi/builtins.py` use it) and beside
`state.py` (each `ComponentInstance` owns one `HandleTable`). Holds the spec's `Table`,
`ResourceHandle` and the two halves of borrow bookkeeping: `Task` (the callee side of one
lifted call, counting the borrow handles it was given) and `Subtask` (the caller side of one
lowered call, remembering the handles it lent out).

Deliberately holds no waitables, waitable sets, error contexts or threads: those belong to the
async ABI, which pywamr does not implement. Spec: CanonicalABI.md, "Table State" and "Resource
State"; "Tasks" and "Subtask State" for the borrow counters only.
"""
from __future__ import annotations

from ..errors import Trap, TrapCode

MAX_LENGTH = 2**28 - 1


class HandleTable:
    """A growable array of handles addressed by i32 index; index 0 is reserved (never valid).

    Freed slots go on a free list reused last-in first-out before the array grows, exactly as
    the spec's `Table` (guests may rely on the index sequence). Spec: "Table State"."""

    __slots__ = ("array", "free")

    def __init__(self):
        self.array: list = [None]
        self.free: list[int] = []

    def __iter__(self):
        return (e for e in self.array if e is not None)

    def __len__(self) -> int:
        return len(self.array) - 1 - len(self.free)

    def get(self, i: int):
        array = self.array
        if i >= len(array) or array[i] is None:
            raise Trap(TrapCode.UNKNOWN_HANDLE, f"unknown handle index {i}")
        return array[i]

    def add(self, e) -> int:
        if self.free:
            i = self.free.pop()
            self.array[i] = e
            return i
        i = len(self.array)
        if i > MAX_LENGTH:
            raise Trap(TrapCode.TABLE_FULL)
        self.array.append(e)
        return i

    def remove(self, i: int):
        e = self.get(i)
        self.array[i] = None
        self.free.append(i)
        return e


class ResourceHandle:
    """One element of a handle table: a resource's type and rep, owned or borrowed.

    `borrow_scope` is the `Task` a borrowed handle was lent to (None for owned handles);
    `num_lends` counts the calls currently borrowing from this handle. Spec: "Resource State"."""

    __slots__ = ("rt", "rep", "own", "borrow_scope", "num_lends")

    def __init__(self, rt, rep: int, own: bool, borrow_scope=None):
        self.rt = rt
        self.rep = rep
        self.own = own
        self.borrow_scope = borrow_scope
        self.num_lends = 0

    def __repr__(self) -> str:
        kind = "own" if self.own else "borrow"
        return f"<{kind} {self.rt.name} rep={self.rep} lends={self.num_lends}>"


class Task:
    """The callee side of one lifted call, as far as borrows go: how many borrow handles the
    call created in the callee's table and has not dropped yet. `Task.return_` traps unless it
    is zero. Spec: "Tasks" (`num_borrows`, `return_`)."""

    __slots__ = ("num_borrows",)

    def __init__(self):
        self.num_borrows = 0

    def return_(self) -> None:
        if self.num_borrows > 0:
            raise Trap(TrapCode.BORROWS_NOT_DROPPED)


class Subtask:
    """The caller side of one lowered call: the handles lent for `borrow` arguments, whose
    `num_lends` go back down when the call has returned. Spec: "Subtask State"."""

    __slots__ = ("lenders",)

    def __init__(self):
        self.lenders: list[ResourceHandle] = []

    def add_lender(self, handle: ResourceHandle) -> None:
        handle.num_lends += 1
        self.lenders.append(handle)

    def deliver_resolve(self) -> None:
        for h in self.lenders:
            h.num_lends -= 1
        self.lenders = []
