"""Python callables that enter native code: one per defined function, through the trampoline
generated for its signature (`entry_<sig>`).

Sits above `bridge` (traps) and `handles` (reference encoding), under `instance`. The
generated callable stores its arguments in a value buffer (8 bytes a value, 16 for a v128:
`vmctx.buffer_words`), calls the trampoline
(which sets up the trap jump buffer and stack limit), and decodes the results; a non-zero
status is raised by `bridge.raise_trap`. Nothing here knows about instances or vmctx layout.
"""
from __future__ import annotations

import ctypes

from ..binary.types import EXTERNREF, F32, F64, FUNCREF, I32, I64, V128, FuncType
from ..runtime.numerics import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from . import vmctx
from .bridge import raise_trap
from .handles import U64, Pins, extern_of, function_of

ENTRY = ctypes.PYFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)

_FACTORY_TEMPLATE = """\
def factory(entry, vm, code, buffer, buffer_address, record_of, extern_handle):
    def call({params}):
{stores}        status = entry(vm, code, buffer_address)
        if status:
            raise_trap(status)
{ret}
    return call
"""

_STORE = {I32: "{a}", I64: "{a}", F32: "f32_to_bits({a})", F64: "f64_to_bits({a})",
          FUNCREF: "record_of({a})", EXTERNREF: "extern_handle({a})"}
_LOAD = {I32: "buffer[{i}] & 0xFFFFFFFF", I64: "buffer[{i}]",
         F32: "f32_from_bits(buffer[{i}] & 0xFFFFFFFF)", F64: "f64_from_bits(buffer[{i}])",
         FUNCREF: "function_of(buffer[{i}])", EXTERNREF: "extern_of(buffer[{i}])",
         V128: "buffer[{i}] | buffer[{i} + 1] << 64"}
# The file name of the generated callables' code: a frame with it is Python waiting on native
# code (the tiered engine's sampler, engine/tier_sampler.py, looks through it).
ENTRY_FILENAME = "<pywamr native entry>"
_factories: dict = {}       # (params, results) -> factory of entry callables of that signature


def _store(t: int, arg: str, i: int) -> str:
    """The statements putting argument `arg` of type `t` at word `i` of the buffer."""
    if t == V128:          # an int in [0, 2**128), lane 0 in the low bits
        return (f"        buffer[{i}] = {arg} & 0xFFFFFFFFFFFFFFFF\n"
                f"        buffer[{i + 1}] = {arg} >> 64\n")
    return f"        buffer[{i}] = {_STORE[t].format(a=arg)}\n"


def _factory(ft: FuncType):
    """The function making entry callables of `ft`'s signature: its source is generated and
    compiled once per signature (a module has far fewer signatures than functions)."""
    key = (ft.params, ft.results)
    factory = _factories.get(key)
    if factory is None:
        param_words, _ = vmctx.buffer_words(ft.params)
        result_words, _ = vmctx.buffer_words(ft.results)
        params = ", ".join(f"a{i}" for i in range(len(ft.params)))
        stores = "".join(_store(t, f"a{i}", param_words[i]) for i, t in enumerate(ft.params))
        loads = [_LOAD[t].format(i=result_words[i]) for i, t in enumerate(ft.results)]
        if not loads:
            ret = "        return None"
        elif len(loads) == 1:
            ret = f"        return {loads[0]}"
        else:
            ret = f"        return ({', '.join(loads)},)"
        namespace = {"raise_trap": raise_trap, "f32_to_bits": f32_to_bits,
                     "f64_to_bits": f64_to_bits, "f32_from_bits": f32_from_bits,
                     "f64_from_bits": f64_from_bits, "function_of": function_of,
                     "extern_of": extern_of}
        source = _FACTORY_TEMPLATE.format(params=params, stores=stores, ret=ret)
        exec(compile(source, ENTRY_FILENAME, "exec"), namespace)
        factory = _factories[key] = namespace["factory"]
    return factory


def make_entry_call(ft: FuncType, entry_address: int, code_address: int, vm_address: int,
                    pins: Pins):
    """A Python callable taking and returning internal representations, entering native code
    through the signature's trampoline; reference arguments are pinned in `pins` (the callee
    instance's: its code may keep them)."""
    n_params = vmctx.buffer_words(ft.params)[1]
    n_results = vmctx.buffer_words(ft.results)[1]
    buffer = (U64 * max(n_params, n_results, 1))()
    return _factory(ft)(ENTRY(entry_address), vm_address, code_address, buffer,
                        ctypes.addressof(buffer), pins.function, pins.extern)


def lazy_entry_call(ft: FuncType, entry_address: int, code_address: int, vm_address: int,
                    pins: Pins, function):
    """A stand-in for `make_entry_call(...)` that makes the real callable on its first call
    and installs it as `function.call` (so later calls through the function go straight to
    it; a caller that kept the stand-in still reaches it, one Python call further)."""
    made = None

    def call(*args):
        nonlocal made
        if made is None:
            made = make_entry_call(ft, entry_address, code_address, vm_address, pins)
            if function.call is call:
                function.call = made
        return made(*args)
    return call
