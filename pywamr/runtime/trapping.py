"""Turning failures inside wasm code into `Trap`s with a wasm backtrace, at every entry point.

The interpreter lets cheap Python errors stand for some traps (an out-of-range `struct` access
is an out-of-bounds memory access, `//` by zero is a division trap, deep recursion is stack
exhaustion); this module is the one place that maps them, used wherever a host enters wasm.
"""
from __future__ import annotations

import struct
import sys

from ..errors import Frame, Trap, TrapCode

WASM_FILENAME = "<wasm>"
INSTANCE_KEY = "__wasm_instance__"
"""The name under which an engine whose wasm functions are Python code (the interpreter) puts
the instance's `InstanceState` in those functions' globals, so a backtrace can say where each
frame ran."""
WASM_STACK_LIMIT = 30000

_PYTHON_TRAPS = (
    (struct.error, TrapCode.MEMORY_OUT_OF_BOUNDS),
    (IndexError, TrapCode.MEMORY_OUT_OF_BOUNDS),
    (ZeroDivisionError, TrapCode.INTEGER_DIVIDE_BY_ZERO),
    (RecursionError, TrapCode.STACK_EXHAUSTED),
)


def wasm_frames(tb) -> list[Frame]:
    """The wasm functions on a traceback, innermost first, each with its instance when the
    function's globals name it (`INSTANCE_KEY`)."""
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == WASM_FILENAME:
            state = tb.tb_frame.f_globals.get(INSTANCE_KEY)
            frames.append(Frame(code.co_name, getattr(state, "module", None), state))
        tb = tb.tb_next
    frames.reverse()
    return frames


def caller_wasm_frames(frame, stop_codes) -> list[Frame]:
    """The interpreter's wasm frames from `frame` outward, innermost first, up to the first
    frame running one of `stop_codes` (where a host entered wasm), each with its instance as
    in `wasm_frames`. Native code that traps under interpreter frames (a tiered instance that
    switched mid-call) completes its own backtrace with these."""
    frames = []
    while frame is not None and frame.f_code not in stop_codes:
        code = frame.f_code
        if code.co_filename == WASM_FILENAME:
            state = frame.f_globals.get(INSTANCE_KEY)
            frames.append(Frame(code.co_name, getattr(state, "module", None), state))
        frame = frame.f_back
    return frames


def ensure_stack_limit() -> None:
    if sys.getrecursionlimit() < WASM_STACK_LIMIT:
        sys.setrecursionlimit(WASM_STACK_LIMIT)


def python_trap(exc: BaseException) -> "Trap | None":
    """The `Trap` that a Python-level error raised by wasm code stands for (with the wasm
    frames of its traceback), or None when `exc` is no such error. Native code that called
    an interpreted function (a tiered instance) uses it before its own frames are added."""
    for cls, code in _PYTHON_TRAPS:
        if isinstance(exc, cls):
            frames = wasm_frames(exc.__traceback__)
            if frames or isinstance(exc, RecursionError):
                return Trap(code, frames=frames)
            return None
    return None


def call_guarded(fn, args):
    """Call into wasm; convert Python-level failures of wasm code into `Trap`."""
    ensure_stack_limit()
    try:
        return fn(*args)
    except Trap as trap:
        if not trap.frames:
            trap.frames = wasm_frames(trap.__traceback__)
        raise
    except (struct.error, IndexError, ZeroDivisionError, RecursionError) as exc:
        frames = wasm_frames(exc.__traceback__)
        if not frames and not isinstance(exc, RecursionError):
            raise   # not from wasm code: a genuine host error
        for cls, code in _PYTHON_TRAPS:
            if isinstance(exc, cls):
                raise Trap(code, frames=frames) from None
        raise
