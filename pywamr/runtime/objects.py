"""Runtime objects that both engines share: functions, memories, tables and globals.

These are the "external values" of the spec. An instance of either engine exposes its exports
as these objects and accepts them as imports, so instances of different engines link together.

Internal value representation (used at every engine boundary):
  i32 -> int in [0, 2**32), i64 -> int in [0, 2**64), f64 -> float,
  f32 -> float holding the exact f32 value (NaN payloads encoded as in `numerics.f32_from_bits`),
  funcref -> Function or None, externref -> any object or None (None is the null reference).
A function's `call(*args)` returns None (no results), the value (one result) or a tuple.

Storage is explicit and the same whichever engine made an object, so that both engines (and
host code) read and write one copy: a `Memory` is a bytearray grown in place (engines that
cache its address register a grow hook); a `Table` owns an `ElementStore` (tables.py) whose
methods are the only writers; a `Global` keeps its value in a native cell or, for references,
as the object (see `Global`). Nothing here rewrites an object's class or wraps its storage later.
"""
from __future__ import annotations

import ctypes

from ..binary.types import (EXTERNREF, F32, F64, FUNCREF, I32, I64, V128, MAX_PAGES, PAGE_SIZE,
                            FuncType, GlobalType, Limits, MemoryType, valtype_name)
from ..errors import LinkError, NotSupported, Trap, TrapCode
from .numerics import f32_from_bits, f32_to_bits
from .tables import ElementStore, Table  # noqa: F401  (re-exported: the runtime objects)
from .zeroed import grow_zeroed, zeroed

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
        try:
            self.data = zeroed(limits.min * PAGE_SIZE)
        except MemoryError:
            raise LinkError(f"cannot allocate a linear memory of {limits.min} pages: out of "
                            "host memory") from None
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
                grow_zeroed(self.data, delta * PAGE_SIZE)
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


class Global:
    """A global variable: `value` in the internal representation.

    Storage is fixed when the global is made and is the one place its value lives:
      - i32, i64, f64: an 8-byte native cell (`address()`) holding the value's bits, read and
        written in place by native code and, through `.value`, by Python;
      - f32: the same cell holding the f32 bits (`.value` converts);
      - v128: a 16-byte native cell (two little-endian u64 words, lane 0 first) holding the
        vector; `.value` is the Python int in [0, 2**128) with lane 0 in the low bits;
      - funcref, externref: the Python object itself (`address()` is None); engines that
        run native code reach it through their runtime helpers, never through a raw handle.
    `Global(type, value)` picks the storage class from the value type; the class of a global
    never changes afterwards. `Global.private(type, value)` makes a global that no other
    instance, host or native code can ever reach (a non-exported global of an instance whose
    code is Python): it holds its value as a plain attribute, the cheapest storage for the
    interpreter, and has no `address()`.
    """

    __slots__ = ("type", "__weakref__")

    def __new__(cls, globaltype: GlobalType, value=None):
        if cls is Global:
            cls = _GLOBAL_CLASS.get(globaltype.valtype)
            if cls is None:
                raise NotSupported(f"globals of type {valtype_name(globaltype.valtype)} are not "
                                   f"supported")
        return object.__new__(cls)

    @classmethod
    def private(cls, globaltype: GlobalType, value) -> "Global":
        """A global reachable only from Python code (see the class docstring)."""
        g = object.__new__(_PlainGlobal)
        g.__init__(globaltype, value)
        return g

    def address(self) -> int | None:
        """Native address of the 8-byte value cell, or None when the global has none."""
        return None

    def accessor(self):
        """An object whose `.value` reads and writes this global in the internal
        representation, as cheaply as the storage allows (the interpreter binds it)."""
        return self

    def __repr__(self) -> str:
        return f"<Global {self.type} = {self.value!r}>"


class _CellGlobal(Global):
    """i32, i64 and f64 globals: the ctypes cell's own `.value` is the internal value."""

    __slots__ = ("cell",)

    def __init__(self, globaltype: GlobalType, value):
        self.type = globaltype
        self.cell = ctypes.c_double() if globaltype.valtype == F64 else ctypes.c_uint64()
        self.cell.value = value

    @property
    def value(self):
        return self.cell.value

    @value.setter
    def value(self, v) -> None:
        self.cell.value = v

    def address(self) -> int:
        return ctypes.addressof(self.cell)

    def accessor(self):
        return self.cell


class _F32Global(Global):
    """f32 globals: the cell holds the bits, so NaN payloads survive native code."""

    __slots__ = ("cell",)

    def __init__(self, globaltype: GlobalType, value):
        self.type = globaltype
        self.cell = ctypes.c_uint64()
        self.value = value

    @property
    def value(self) -> float:
        return f32_from_bits(self.cell.value & 0xFFFFFFFF)

    @value.setter
    def value(self, v: float) -> None:
        self.cell.value = f32_to_bits(v)

    def address(self) -> int:
        return ctypes.addressof(self.cell)


class _V128Global(Global):
    """v128 globals: a 16-byte cell (low word first); `.value` is the 128-bit int."""

    __slots__ = ("cell",)

    def __init__(self, globaltype: GlobalType, value):
        self.type = globaltype
        self.cell = (ctypes.c_uint64 * 2)()
        self.value = value

    @property
    def value(self) -> int:
        cell = self.cell
        return cell[0] | cell[1] << 64

    @value.setter
    def value(self, v: int) -> None:
        cell = self.cell
        cell[0] = v & 0xFFFFFFFFFFFFFFFF
        cell[1] = (v >> 64) & 0xFFFFFFFFFFFFFFFF

    def address(self) -> int:
        return ctypes.addressof(self.cell)


class _PlainGlobal(Global):
    """Reference globals, and private globals of any type: the value itself."""

    __slots__ = ("value",)

    def __init__(self, globaltype: GlobalType, value):
        self.type = globaltype
        self.value = value


_GLOBAL_CLASS = {I32: _CellGlobal, I64: _CellGlobal, F64: _CellGlobal, F32: _F32Global,
                 V128: _V128Global,
                 FUNCREF: _PlainGlobal, EXTERNREF: _PlainGlobal}


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
