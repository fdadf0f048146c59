"""Reference handles and the lifetime registries of native code's view of Python objects.

Sits under the rest of the AOT runtime (`bridge`, `entry`, `instance`): native code holds
references as 64-bit handles. A funcref handle is the address of a function record (vmctx.py);
an externref handle is id(object). This module maps handles to objects and back and decides
how long an object a handle names stays alive. It knows nothing of vmctx wiring or calls.

Lifetimes: a defined function's record lives in its AotInstance (`records`), which the Function
keeps alive through `function.instance.engine_data`; the record of any other function (host,
interpreter) is a small buffer held in `_record_by_function`, a weak-keyed map, so it lives
exactly as long as the Function. The maps here are weak: what keeps a value alive while native
code may hold its handle is a `Pins` object of whatever stores the handle (an instance, a
table's native mirror), so nothing here grows with instances.
"""
from __future__ import annotations

import ctypes
import weakref

from ..binary.types import EXTERNREF, F32, F64, FUNCREF, I32, I64, FuncType
from ..runtime.numerics import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from ..runtime.objects import Function
from . import vmctx

U64 = ctypes.c_uint64

_type_ids: dict[FuncType, int] = {}
# function -> (record address, record buffer or None); the value never refers to the key
_record_by_function: "weakref.WeakKeyDictionary[Function, tuple]" = weakref.WeakKeyDictionary()
_function_by_record: "weakref.WeakValueDictionary[int, Function]" = \
    weakref.WeakValueDictionary()
_externs: dict[int, list] = {}      # id(object) -> [object, number of Pins holding it]
# vmctx address -> instance; weak: an instance lives as long as its InstanceState, its
# functions or anything that pins it, never because of this registry
instances: "weakref.WeakValueDictionary[int, object]" = weakref.WeakValueDictionary()


def _release_externs(externs: dict) -> None:
    for key in externs:
        entry = _externs.get(key)
        if entry is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                del _externs[key]


class Pins:
    """Strong references to the values whose handles one holder (an instance, a table's
    mirror) may have passed to native code. Native code can copy a handle anywhere the
    holder's code can reach, so a Pins only grows, and lives as long as its holder."""

    __slots__ = ("functions", "externs", "__weakref__")

    def __init__(self):
        self.functions: dict[int, Function] = {}
        self.externs: dict[int, object] = {}
        weakref.finalize(self, _release_externs, self.externs)

    def function(self, function: Function | None) -> int:
        if function is None:
            return 0
        self.functions[id(function)] = function
        return record_of(function)

    def extern(self, obj) -> int:
        if obj is None:
            return 0
        key = id(obj)
        if key not in self.externs:
            self.externs[key] = obj
            entry = _externs.get(key)
            if entry is None:
                _externs[key] = [obj, 1]
            else:
                entry[1] += 1
        return key

    def encode(self, valtype: int, value) -> int:
        if valtype == FUNCREF:
            return self.function(value)
        if valtype == EXTERNREF:
            return self.extern(value)
        return _ENCODE[valtype](value)


def type_id(ft: FuncType) -> int:
    """The canonical structural id of a function type (never 0)."""
    tid = _type_ids.get(ft)
    if tid is None:
        tid = _type_ids[ft] = len(_type_ids) + 1
    return tid


def register_record(function: Function, address: int, buffer=None) -> None:
    """`buffer` owns the record unless the function's instance does (then None)."""
    _record_by_function[function] = (address, buffer)
    _function_by_record[address] = function


def point_record(address: int, code: int, vm_address: int, tail_code: int) -> None:
    """Make the function record at `address` run native `code` (its C-convention entry) with
    vmctx `vm_address`, tail calls entering at `tail_code` (the tiered engine's switch of a
    function whose handle already exists). Word writes, vmctx first; a native caller reads
    the code word first, so it sees either the old target or the new."""
    record = (U64 * (vmctx.RECORD_SIZE // 8)).from_address(address)
    record[vmctx.RECORD_VMCTX // 8] = vm_address
    record[vmctx.RECORD_TAIL_CODE // 8] = tail_code
    record[vmctx.RECORD_CODE // 8] = code


def has_record(function: Function) -> bool:
    """Whether `function` already has a funcref handle (native code may hold it)."""
    return function in _record_by_function


def record_of(function: Function | None) -> int:
    """The funcref handle of a function: the address of its record (0 for null). The caller
    must keep `function` alive as long as native code may use the handle (see `Pins`)."""
    if function is None:
        return 0
    entry = _record_by_function.get(function)
    if entry is not None:
        return entry[0]
    record = (U64 * (vmctx.RECORD_SIZE // 8))()
    record[vmctx.RECORD_TYPE_ID // 8] = type_id(function.type)
    address = ctypes.addressof(record)
    register_record(function, address, record)
    return address


def function_of(handle: int) -> Function | None:
    return _function_by_record[handle] if handle else None


def extern_of(handle: int):
    return _externs[handle][0] if handle else None


def extern_handle(obj) -> int:
    """An externref handle pinned for the life of the process (prefer `Pins.extern`)."""
    return process_pins.extern(obj)


def _process_function(function) -> int:
    return process_pins.function(function)


_ENCODE = {
    I32: lambda v: v, I64: lambda v: v, F32: f32_to_bits, F64: f64_to_bits,
    FUNCREF: _process_function, EXTERNREF: extern_handle,
}
process_pins = Pins()      # last resort for a handle made with no holder (kept for ever)
_DECODE = {
    I32: lambda b: b & 0xFFFFFFFF, I64: lambda b: b,
    F32: lambda b: f32_from_bits(b & 0xFFFFFFFF), F64: f64_from_bits,
    FUNCREF: function_of, EXTERNREF: extern_of,
}


def decode(valtype: int, bits: int):
    """The internal representation of a value native code passed as 64 bits."""
    return _DECODE[valtype](bits)


def registry_sizes() -> dict[str, int]:
    return {"instances": len(instances), "records": len(_function_by_record),
            "foreign_records": len(_record_by_function), "externs": len(_externs)}
