"""Tables and their element storage: the one implementation of every table instruction.

Sits in the runtime layer under both engines. A `Table` owns an `ElementStore`; the store's
methods (`get`, `set`, `grow`, `fill`, `copy`, `init`) are the only code that checks a table
access against its bounds, raises the spec's traps, and changes the elements. Instantiation
(active element segments), the interpreter's helpers and the AOT engine's runtime callbacks all
call them, so a table behaves the same whichever engine owns it or writes it.

Storage: `ElementStore.items` is a plain Python list of references (a `Function` or None for
funcref, any object or None for externref). Everybody may read it; only the store's methods
write it. An engine whose code reads tables natively attaches one `ElementMirror` (see
`attach_mirror`): every write through the store is then reported to the mirror, which keeps its
native copy (e.g. an array of handles) in step. There is exactly one writer path, so the mirror
cannot miss a change.

Deliberately not here: how a reference is encoded natively (the mirror's business), and
`call_indirect`'s type check (an engine concern that reads `items`).
"""
from __future__ import annotations

from typing import Protocol

from ..binary.types import Limits, TableType
from ..errors import Trap, TrapCode

MAX_TABLE_ELEMENTS = 10_000_000
"""The most elements a table may grow to (a resource limit; beyond it `table.grow` fails)."""


class ElementMirror(Protocol):
    """A native copy of a table's elements, kept in step by the `ElementStore` that owns it."""

    def resize(self, items: list) -> None:
        """The number of elements changed (the store grew); re-read all of `items`."""

    def refresh(self, items: list, start: int, stop: int) -> None:
        """`items[start:stop]` were written (the length did not change)."""


class ElementStore:
    """The elements of one table and every operation on them (spec: "table instructions").

    Indices and counts are the internal (unsigned) representation; each operation checks its
    whole range before writing anything and raises `Trap(TABLE_OUT_OF_BOUNDS)` otherwise."""

    __slots__ = ("items", "limit", "mirror")

    def __init__(self, size: int, init, limit: int | None):
        self.items: list = [init] * size
        self.limit = 0xFFFFFFFF if limit is None else limit
        self.mirror: ElementMirror | None = None

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index):
        """Read-only view for Python callers; wasm accesses use `get` (which traps)."""
        return self.items[index]

    def __iter__(self):
        return iter(self.items)

    def attach_mirror(self, make_mirror) -> ElementMirror:
        """The store's native mirror, made by `make_mirror(store)` on first use. One mirror per
        store: every engine instance that reads this table natively shares it."""
        if self.mirror is None:
            mirror = make_mirror(self)
            mirror.resize(self.items)
            self.mirror = mirror
        return self.mirror

    def _written(self, start: int, stop: int) -> None:
        if self.mirror is not None and stop > start:
            self.mirror.refresh(self.items, start, stop)

    # ---- the table instructions --------------------------------------------------------------
    def get(self, index: int):
        """`table.get`."""
        if index >= len(self.items):
            raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
        return self.items[index]

    def set(self, index: int, value) -> None:
        """`table.set`."""
        if index >= len(self.items):
            raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
        self.items[index] = value
        self._written(index, index + 1)

    def grow(self, delta: int, init) -> int:
        """`table.grow`: the old size, or -1 when the table cannot grow by `delta`."""
        old = len(self.items)
        new = old + delta
        if new > self.limit or new > MAX_TABLE_ELEMENTS:
            return -1
        if delta:
            self.items.extend([init] * delta)
            if self.mirror is not None:
                self.mirror.resize(self.items)
        return old

    def fill(self, start: int, value, n: int) -> None:
        """`table.fill`."""
        if start + n > len(self.items):
            raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
        if n:
            self.items[start:start + n] = [value] * n
            self._written(start, start + n)

    def copy(self, dst: int, source: "ElementStore", src: int, n: int) -> None:
        """`table.copy` into this store from `source` (possibly this store; overlap is fine)."""
        if src + n > len(source.items) or dst + n > len(self.items):
            raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
        if n:
            self.items[dst:dst + n] = source.items[src:src + n]
            self._written(dst, dst + n)

    def init(self, dst: int, segment: list, src: int, n: int) -> None:
        """`table.init` from an element segment's references (a dropped segment is [])."""
        if src + n > len(segment) or dst + n > len(self.items):
            raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
        if n:
            self.items[dst:dst + n] = segment[src:src + n]
            self._written(dst, dst + n)


class Table:
    """A table: its type and its `elements` (an `ElementStore`, the only way to change them)."""

    __slots__ = ("type", "max", "elements", "__weakref__")

    def __init__(self, tabletype: TableType, init=None):
        self.type = tabletype
        self.max = tabletype.limits.max
        self.elements = ElementStore(tabletype.limits.min, init, self.max)

    def current_type(self) -> TableType:
        return TableType(self.type.elem, Limits(len(self.elements.items), self.max))

    def __len__(self) -> int:
        return len(self.elements.items)

    # Conveniences for embedders; they are the store's operations.
    def get(self, index: int):
        return self.elements.get(index)

    def set(self, index: int, value) -> None:
        self.elements.set(index, value)

    def grow(self, delta: int, init=None) -> int:
        return self.elements.grow(delta, init)

    def __repr__(self) -> str:
        return f"<Table {self.current_type()}>"
