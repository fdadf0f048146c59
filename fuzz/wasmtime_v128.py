"""v128 values on the oracle's side: calls and global reads that the `wasmtime` package's Python
layer cannot make.

The package (checked with 50.0.1) knows v128 only in its C bindings: `Val` cannot convert a
v128 argument, `Val._from_raw` raises on a v128 result or global, and `str()` or `==` on a v128
`ValType` aborts the process (its C API's `wasm_valtype_kind` panics: "support for v128 is not
implemented"), so a type is recognised as v128 with `wasmtime_wasm_valtype_equal` instead, before
anything else looks at it. This module goes one level down, to the package's own ctypes bindings
(`wasmtime._ffi`), for exactly those cases: `wasmtime_val_t` with kind `WASMTIME_V128` and its
16 bytes, little-endian, so the Python int it exchanges has lane 0 in the low bits, which is
pywamr's API representation (an int in [0, 2**128)). Every other value still goes through the
package's `Val`, and functions without v128 in their type are called the ordinary way by the
caller. Like `oracle.py`, nothing in `pywamr` may import this.
"""
from __future__ import annotations

import ctypes

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime._func import enter_wasm
from wasmtime._value import Val

MASK = (1 << 128) - 1
_V128_TYPE = None


def is_v128(valtype: wasmtime.ValType) -> bool:
    global _V128_TYPE
    if _V128_TYPE is None:
        _V128_TYPE = ffi.wasmtime_wasm_valtype_v128()     # kept for the process's lifetime
    return bool(ffi.wasmtime_wasm_valtype_equal(valtype.ptr(), _V128_TYPE))


def type_name(valtype: wasmtime.ValType) -> str:
    """The value type's name as pywamr spells it ("v128" where the package has no name)."""
    return "v128" if is_v128(valtype) else str(valtype)


def _raw_v128(value: int) -> ffi.wasmtime_val_t:
    if not isinstance(value, int) or not 0 <= value <= MASK:
        raise TypeError(f"a v128 is an int in [0, 2**128), not {value!r}")
    raw = ffi.wasmtime_val_t(kind=ffi.WASMTIME_V128)
    ctypes.memmove(raw.of.v128, value.to_bytes(16, "little"), 16)
    return raw


def _from_raw(store, raw: ffi.wasmtime_val_t):
    if raw.kind == ffi.WASMTIME_V128.value:
        return int.from_bytes(bytes(raw.of.v128), "little")
    return Val._from_raw(store, raw).value


def call(store: wasmtime.Store, func: wasmtime.Func, args: list) -> list:
    """Call `func` (whose type may mention v128) with Python values; its results as a list.
    Traps and errors are raised as the package raises them (`wasmtime.Trap`, ...)."""
    functype = func.type(store)
    params, results = functype.params, functype.results
    if len(args) != len(params):
        raise wasmtime.WasmtimeError(f"{len(args)} arguments for {len(params)} parameters")
    raw_args = (ffi.wasmtime_val_t * max(1, len(args)))()
    made = 0
    try:
        for valtype, value in zip(params, args):
            raw_args[made] = (_raw_v128(value) if is_v128(valtype)
                              else Val._convert_to_raw(store, valtype, value))
            made += 1
        raw_results = (ffi.wasmtime_val_t * max(1, len(results)))()
        with enter_wasm(store) as trap:
            error = ffi.wasmtime_func_call(store._context(), ctypes.byref(func._func), raw_args,
                                           len(args), raw_results, len(results), trap)
            if error:
                raise wasmtime.WasmtimeError._from_ptr(error)
    finally:
        for position in range(made):
            ffi.wasmtime_val_unroot(ctypes.byref(raw_args[position]))
    return [_from_raw(store, raw_results[i]) for i in range(len(results))]


def global_value(store: wasmtime.Store, extern: wasmtime.Global):
    """A global's value; a v128 global's as an int (lane 0 in the low bits)."""
    if not is_v128(extern.type(store).content):
        return extern.value(store)
    raw = ffi.wasmtime_val_t()
    ffi.wasmtime_global_get(store._context(), ctypes.byref(extern._global), ctypes.byref(raw))
    return _from_raw(store, raw)
