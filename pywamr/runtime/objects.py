"""Runtime objects that both engines share: functions, memories, tables and globals.

These are the "external values" of the spec. An instance of either engine exposes its exports
as these objects and accepts them as imports, so instances of different engines link together.

Internal value representation (used at every engine boundary):
  i32 -> int in [0, 2**32), i64 -> int in [0, 2**64), f64 -> float,
  f32 -> float holding the exact f32 value (NaN payloads encoded as in `numerics.f32_from_bits`),
  funcref -> Function or None, externref -> any object or None (None is the null reference).
A function's `call(*args)` returns None (no results), the value (one result) or a tuple.
"""
from __future__ import annotations

import ctypes

from ..binary.types import FuncType, GlobalType, Limits, MemoryType, PAGE_SIZE, MAX_PAGES, TableType
from ..errors import Trap, TrapCode

_bytearray_address = ctypes.pythonapi.PyByteArray_AsString
_bytearray_address.restype = ctypes.c_void_p
_bytearray_address.argtypes = [ctypes.py_object]


class Function:
    """A callable wasm function: `call(*args)` takes and returns internal representations."""

    __slots__ = ("type", "call", "name", "instance", "index", "host", "__weakref__")

    def __init__(self, functype: FuncType, call, name: str = "?", instance=None, index: int = -1,
                 host: bool = False):
        self.type = functype
        self.call = call
        self.name = name
        self.instance = instance
        self.index = index
        self.host = host

    def __repr__(self) -> str:
        return f"<Function {self.name} {self.type}>"


class Memory:
    """A linear memory. `data` is a bytearray whose identity never changes (grown in place)."""

    __slots__ = ("type", "data", "max_pages", "grow_hooks", "__weakref__")

    def __init__(self, memtype: MemoryType):
        self.type = memtype
        limits = memtype.limits
        self.max_pages = MAX_PAGES if limits.max is None else min(limits.max, MAX_PAGES)
        self.data = bytearray(limits.min * PAGE_SIZE)
        self.grow_hooks: list = []

    @property
    def pages(self) -> int:
        return len(self.data) // PAGE_SIZE

    def current_type(self) -> MemoryType:
        return MemoryType(Limits(self.pages, self.type.limits.max))

    def grow(self, delta: int) -> int:
        """Grow by `delta` pages; return the old size in pages, or -1 (as u32: 0xFFFFFFFF)."""
        old = len(self.data) // PAGE_SIZE
        new = old + delta
        if new > self.max_pages:
            return -1
        if delta:
            try:
                self.data.extend(bytes(delta * PAGE_SIZE))
            except (MemoryError, BufferError):
                return -1
            for hook in self.grow_hooks:
                hook(self)
        return old

    def address(self) -> int:
        """Native address of the bytes (valid until the next grow); used by the AOT engine."""
        return _bytearray_address(self.data) or 0

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > len(self.data):
            raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS)
        return bytes(self.data[offset:offset + size])

    def write(self, offset: int, payload: bytes) -> None:
        if offset < 0 or offset + len(payload) > len(self.data):
            raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS)
        self.data[offset:offset + len(payload)] = payload


class Table:
    """A table of references: `elements` is a list of Function/None (funcref) or objects."""

    __slots__ = ("type", "elements", "max", "__weakref__")

    def __init__(self, tabletype: TableType, init=None):
        self.type = tabletype
        self.max = tabletype.limits.max
        self.elements = [init] * tabletype.limits.min

    def current_type(self) -> TableType:
        return TableType(self.type.elem, Limits(len(self.elements), self.max))

    def grow(self, delta: int, init) -> int:
        old = len(self.elements)
        new = old + delta
        limit = 0xFFFFFFFF if self.max is None else self.max
        if new > limit or new > 10_000_000:
            return -1
        self.elements.extend([init] * delta)
        return old

    def __len__(self) -> int:
        return len(self.elements)


class Global:
    """A global variable: `value` in the internal representation."""

    __slots__ = ("type", "value", "__weakref__")

    def __init__(self, globaltype: GlobalType, value):
        self.type = globaltype
        self.value = value


def extern_type_of(extern):
    """The current external type of a runtime object (spec: "external types of values")."""
    if isinstance(extern, Function):
        return extern.type
    if isinstance(extern, Memory):
        return extern.current_type()
    if isinstance(extern, Table):
        return extern.current_type()
    if isinstance(extern, Global):
        return extern.type
    raise TypeError(f"not an external value: {extern!r}")
