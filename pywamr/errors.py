"""Error types shared by every layer of pywamr.

Bottom of the import graph: nothing here imports the rest of the package. Each error carries
where it happened (byte offset, function index, import name, wasm backtrace) so the CLI can turn
it into one clear line.
"""
from __future__ import annotations

import enum


class WasmError(Exception):
    """Base class of every error pywamr raises on purpose."""


class NotSupported(WasmError):
    """A feature pywamr does not implement (yet): a clean, named refusal."""


class DecodeError(WasmError):
    """The bytes are not a well-formed module; `offset` is the byte offset of the problem."""

    def __init__(self, message: str, offset: int | None = None):
        self.message = message
        self.offset = offset
        super().__init__(message if offset is None else f"{message} (at offset {offset:#x})")


class MalformedNotSupported(DecodeError, NotSupported):
    """A well-formed encoding of a proposal pywamr does not implement."""


class ValidationError(WasmError):
    """The module is well formed but invalid; names the function and offset when known."""

    def __init__(self, message: str, func_index: int | None = None, offset: int | None = None):
        self.message = message
        self.func_index = func_index
        self.offset = offset
        where = []
        if func_index is not None:
            where.append(f"function {func_index}")
        if offset is not None:
            where.append(f"offset {offset:#x}")
        super().__init__(message + (f" (in {', '.join(where)})" if where else ""))


class LinkError(WasmError):
    """An import could not be satisfied: names the import and the mismatch."""


class TrapCode(enum.Enum):
    UNREACHABLE = "unreachable"
    MEMORY_OUT_OF_BOUNDS = "out of bounds memory access"
    TABLE_OUT_OF_BOUNDS = "out of bounds table access"
    UNDEFINED_ELEMENT = "undefined element"
    UNINITIALIZED_ELEMENT = "uninitialized element"
    INDIRECT_CALL_TYPE_MISMATCH = "indirect call type mismatch"
    INTEGER_DIVIDE_BY_ZERO = "integer divide by zero"
    INTEGER_OVERFLOW = "integer overflow"
    BAD_CONVERSION_TO_INTEGER = "invalid conversion to integer"
    NULL_REFERENCE = "null reference"
    STACK_EXHAUSTED = "call stack exhausted"
    HOST = "host function error"
    OUT_OF_FUEL = "out of fuel"
    # canonical ABI (component model): messages follow wasmtime's where one exists
    CANNOT_ENTER_COMPONENT = "cannot enter component instance"
    CANNOT_LEAVE_COMPONENT = "cannot leave component instance"
    UNALIGNED_POINTER = "unaligned pointer"
    INVALID_CHAR = "invalid `char` bit pattern"
    INVALID_STRING = "invalid string encoding"
    INVALID_DISCRIMINANT = "invalid variant discriminant"
    LENGTH_TOO_LARGE = "list or string length too large"
    UNKNOWN_HANDLE = "unknown handle index"
    HANDLE_TYPE_MISMATCH = "handle used with the wrong type"
    HANDLE_MISUSE = "resource handle misuse"
    BORROWS_NOT_DROPPED = "borrow handles still remain at the end of the call"
    TABLE_FULL = "handle table full"


class Frame(str):
    """One frame of a wasm backtrace: the function's name (the string itself, from the name
    section when present) and, when the engine knows, where it ran: `instance` (the runtime
    state of the core instance) and `module` (the syntax tree of its core module).
    `location` names the component instance and core module of the frame; the component
    layer fills it in when a trap leaves a component (None outside components)."""

    def __new__(cls, name: str, module=None, instance=None):
        frame = super().__new__(cls, name)
        frame.module = module
        frame.instance = instance
        frame.location = None
        return frame

    def describe(self) -> str:
        return str(self) if self.location is None else f"{self}  ({self.location})"


class Trap(WasmError):
    """A WebAssembly trap: `code` says why; `frames` is the wasm backtrace, innermost first.

    Each frame is a string naming the function (from the name section when present)."""

    def __init__(self, code: TrapCode, message: str | None = None, frames: list[str] | None = None):
        self.code = code
        self.message = message or code.value
        self.frames = list(frames or [])
        super().__init__(self.message)

    def __str__(self) -> str:
        text = f"wasm trap: {self.message}"
        if self.frames:
            text += "\nwasm backtrace:\n" + "\n".join(
                f"  {i}: {describe(frame)}" for i, frame in enumerate(self.frames))
        return text


def describe(frame) -> str:
    """A backtrace line: the function's name and, for a `Frame` in a component, where."""
    return frame.describe() if isinstance(frame, Frame) else str(frame)


class WasiExit(WasmError):
    """The guest called proc_exit (or the command world's exit); `status` is the exit code."""

    def __init__(self, status: int):
        self.status = status
        super().__init__(f"exit status {status}")
