"""The crossing between native code and Python: process context, callbacks, traps, backtraces.

Sits above `handles` and under `entry`/`instance`. Generated code imports three symbols from
here (`symbol_imports`): the process context (trap state, backtrace buffer), the host-call
callback (native code calling a `Function` run by Python: host functions, interpreter
functions) and the runtime callback (operations native code leaves to Python: memory.grow,
bulk memory and table operations, reference globals). A trap comes back to the Python caller as
a non-zero status, turned into a `Trap` with a wasm backtrace by `raise_trap`; an exception from
a callback is kept in `_pending` and re-raised there. Does not build vmctx (instance.py).
"""
from __future__ import annotations

import bisect
import ctypes
import sys
import weakref

from ..binary.types import V128
from ..errors import Frame, Trap
from ..runtime.trapping import call_guarded, caller_wasm_frames, python_trap, wasm_frames
from . import vmctx
from .handles import U64, decode, function_of, instances, process_pins, registry_sizes

_ctx = (U64 * (vmctx.CTX_SIZE // 8))()
CTX_ADDRESS = ctypes.addressof(_ctx)
_pending: list[BaseException] = []     # exception of a failed callback, awaiting re-raise

_HOST_CALL = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p)
_RUNTIME = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint64,
                            ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64)


def _set_status(n: int) -> None:
    _ctx[vmctx.CTX_RT_STATUS // 8] = n


def _host_call(vm_address, record, buffer) -> int:
    """Native code calls a Python-run function (its record has no native code): arguments
    and results travel in `buffer` (a value buffer: `vmctx.buffer_words`)."""
    try:
        function = function_of(record)
        inst = instances.get(vm_address)
        pins = inst.pins if inst is not None else process_pins
        ft = function.type
        plan = _plans.get(ft)
        if plan is None:
            plan = _plans[ft] = _buffer_plan(ft)
        param_words, result_words, n = plan
        buf = (U64 * n).from_address(buffer)
        args = [buf[w] | buf[w + 1] << 64 if t == V128 else decode(t, buf[w])
                for w, t in zip(param_words, ft.params)]
        out = function.call(*args)
        results = ft.results
        for w, t, v in zip(result_words, results, (out,) if len(results) == 1 else out or ()):
            if t == V128:       # an int in [0, 2**128), lane 0 in the low bits
                buf[w] = v & 0xFFFFFFFFFFFFFFFF
                buf[w + 1] = v >> 64
            else:
                buf[w] = pins.encode(t, v)
        return 0
    except BaseException as exc:  # kept and re-raised by the Python caller of native code
        trap = python_trap(exc)     # an interpreted function's trap, frames known now
        if trap is None and isinstance(exc, Trap) and not exc.frames:
            # a trap an interpreted function raised itself (`unreachable`, a helper): its
            # wasm frames are on the traceback now, before native frames are added
            exc.frames = wasm_frames(exc.__traceback__)
        _pending.append(trap if trap is not None else exc)
        return 1


_plans: dict = {}          # function type -> its value buffer layout (`_buffer_plan`)


def _buffer_plan(ft) -> tuple:
    """(word of each parameter, word of each result, words in all) of `ft`'s value buffer."""
    param_words, n_params = vmctx.buffer_words(ft.params)
    result_words, n_results = vmctx.buffer_words(ft.results)
    return param_words, result_words, max(n_params, n_results, 1)


def _runtime_call(vm_address, op, a, b, c, d) -> int:
    try:
        return instances[vm_address].runtime_op(op, a, b, c, d)
    except Trap as trap:
        _set_status(vmctx.TRAP_NUMBER[trap.code])
        return 0
    except BaseException as exc:
        _pending.append(exc)
        _set_status(vmctx.HOST_TRAP)
        return 0


_ENTRY_CODES = frozenset((call_guarded.__code__, _host_call.__code__))
_host_call_callback = _HOST_CALL(_host_call)
_runtime_callback = _RUNTIME(_runtime_call)


def symbol_imports() -> dict[str, int]:
    """Addresses the generated code imports by name (one set for the whole process)."""
    from .loader import process_symbol
    return {
        vmctx.CTX_SYMBOL: CTX_ADDRESS,
        vmctx.HOST_CALL_SYMBOL: ctypes.cast(_host_call_callback, ctypes.c_void_p).value,
        vmctx.RUNTIME_SYMBOL: ctypes.cast(_runtime_callback, ctypes.c_void_p).value,
        "_setjmp": process_symbol("_setjmp"),
        "_longjmp": process_symbol("_longjmp"),
    }


def raise_trap(status: int):
    """Turn the status of a trampoline into the Python exception it stands for."""
    _set_status(0)
    total = _ctx[vmctx.CTX_BT_COUNT // 8]
    count = min(total, vmctx.BT_DEPTH)
    _ctx[vmctx.CTX_BT_COUNT // 8] = 0
    base = vmctx.CTX_BT // 8
    frames = backtrace([_ctx[base + i] for i in range(count)])
    if total < vmctx.BT_DEPTH:      # the interpreter's frames that called this native code
        frames += caller_wasm_frames(sys._getframe(1), _ENTRY_CODES)
    if status == vmctx.HOST_TRAP and _pending:
        exc = _pending.pop()
        _pending.clear()
        if isinstance(exc, Trap):
            # a trap from a host function, or from wasm the host function called (a component
            # calling another): these wasm frames called it, so they go outside its own
            exc.frames = list(exc.frames) + frames
        raise exc
    code = vmctx.trap_from_number(status)
    if not frames:
        func = ctypes.c_int32(_ctx[vmctx.CTX_TRAP_FUNC // 8] & 0xFFFFFFFF).value
        inst = instances.get(_ctx[vmctx.CTX_TRAP_VMCTX // 8])
        if inst is not None and func >= 0:
            frames.append(Frame(inst.module.func_name(func), inst.module, inst.state))
    raise Trap(code, frames=frames)


# ---- code ranges: native return address -> wasm function -------------------------------------

_code_ranges: dict[int, list] = {}     # id(owner) -> [(start, end, module, func index)]
_sorted_ranges: list | None = None     # all of them by start address (rebuilt on change)
_forgotten: list[int] = []             # keys of dead owners, removed before the next lookup


def _drop_forgotten() -> None:
    """Remove the ranges of dead owners. Finalizers only queue keys (`_forget_code`): they can
    run during any allocation, also while `_code_ranges` is being iterated."""
    global _sorted_ranges
    while _forgotten:
        _code_ranges.pop(_forgotten.pop(), None)
        _sorted_ranges = None


def register_code(owner, module, ranges) -> None:
    """Make the code of a loaded module's functions known to `backtrace`: `ranges` holds
    (start, end, function index); dropped when `owner` (which keeps the code alive) dies."""
    global _sorted_ranges
    _drop_forgotten()
    key = id(owner)
    _code_ranges[key] = [(start, end, module, index) for start, end, index in ranges]
    _sorted_ranges = None
    weakref.finalize(owner, _forget_code, key)


def _forget_code(key: int) -> None:
    _forgotten.append(key)


def backtrace(return_addresses) -> list[Frame]:
    """Names of the wasm functions containing the given return addresses; addresses in
    helpers (record calls, host code) are skipped."""
    global _sorted_ranges
    if not return_addresses:
        return []
    _drop_forgotten()
    if _sorted_ranges is None:
        _sorted_ranges = sorted(r for rs in _code_ranges.values() for r in rs)
    starts = [r[0] for r in _sorted_ranges]
    names = []
    for address in return_addresses:
        address -= 1            # inside the call: a noreturn call may end its function
        i = bisect.bisect_right(starts, address) - 1
        if i >= 0:
            start, end, module, index = _sorted_ranges[i]
            if address < end:
                names.append(Frame(module.func_name(index), module))
    return names


def live_counts() -> dict[str, int]:
    """Sizes of the process-wide registries (for tests and leak hunting)."""
    _drop_forgotten()
    return {**registry_sizes(), "code": len(_code_ranges)}
