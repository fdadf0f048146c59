"""What a `.wast` script's expectations mean, and which of its modules a later proposal excuses.

`SPEC_TRAP_TEXT` maps pywamr's trap codes to the reference interpreter's messages and
`spec_text_agrees` compares them as that interpreter does; `later_proposal_modules` reads the
corpus's `features.json`; `import_namespaces` reads a module's import section alone, so the
runner knows what a module it refused would have touched. Used by `runner.py`; runs nothing.
"""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from ..binary.reader import Reader
from ..errors import DecodeError, LinkError, Trap, TrapCode


SPEC_TRAP_TEXT = {
    TrapCode.UNREACHABLE: "unreachable",
    TrapCode.MEMORY_OUT_OF_BOUNDS: "out of bounds memory access",
    TrapCode.TABLE_OUT_OF_BOUNDS: "out of bounds table access",
    TrapCode.UNDEFINED_ELEMENT: "undefined element",
    TrapCode.UNINITIALIZED_ELEMENT: "uninitialized element",
    TrapCode.INDIRECT_CALL_TYPE_MISMATCH: "indirect call type mismatch",
    TrapCode.INTEGER_DIVIDE_BY_ZERO: "integer divide by zero",
    TrapCode.INTEGER_OVERFLOW: "integer overflow",
    TrapCode.BAD_CONVERSION_TO_INTEGER: "invalid conversion to integer",
    TrapCode.NULL_REFERENCE: "null reference",
    TrapCode.STACK_EXHAUSTED: "call stack exhausted",
}
"""The reference interpreter's message for each core trap pywamr raises. Codes the core spec
has no message for (a host function's error, fuel, and any later code such as the component
model's, whose messages follow wasmtime's) stand for their own message."""

LINK_ERROR_TEXTS = ("unknown import", "incompatible import type")
"""The reference interpreter's link errors; pywamr's `LinkError` messages start with one."""


def spec_text_agrees(expected: str, actual: str) -> bool:
    """Does a script's expected message name the failure whose spec wording is `actual`?

    The reference interpreter accepts an expected text that is a prefix of its message, and
    its messages may carry detail after the spec wording ("uninitialized element 2"), so the
    two agree when one is the other or the other followed by a space and detail."""
    return actual.startswith(expected) or expected.startswith(actual + " ")


def trap_agrees(expected: str, trap: Trap) -> bool:
    """The script's text agrees with the spec's message for the trap's code or, failing that,
    with the trap's own message (which may be more specific than its code)."""
    text = SPEC_TRAP_TEXT.get(trap.code, trap.code.value)
    return spec_text_agrees(expected, text) or spec_text_agrees(expected, trap.message)


def link_error_agrees(expected: str, error: LinkError) -> bool:
    message = str(error)
    return any(message.startswith(text) and spec_text_agrees(expected, text)
               for text in LINK_ERROR_TEXTS)


# ---- which modules a later proposal excuses -----------------------------------------------
def module_index(filename: str) -> int | None:
    """N of json-from-wast's `name.N.wasm`: the module's position in its script."""
    found = re.search(r"\.(\d+)\.wasm$", filename)
    return int(found.group(1)) if found else None


@functools.lru_cache(maxsize=4)
def _feature_table(path: Path) -> dict:
    return json.loads(path.read_text())


def later_proposal_modules(script: Path) -> dict[int, tuple[str, ...]]:
    """The modules of `script` that its corpus's `features.json` lists as needing a proposal
    later than Wasm 2.0 (`modules_beyond_wasm2`): module index -> features. Empty when the
    script has no such table."""
    script = Path(script).resolve()
    for base in (script.parent, script.parent.parent):
        table = base / "features.json"
        if table.is_file():
            key = script.relative_to(base).with_suffix("").as_posix().replace("/", "-")
            entry = _feature_table(table).get(key)
            listed = entry.get("modules_beyond_wasm2") if isinstance(entry, dict) else None
            return {module_index(name): tuple(features)
                    for name, features in (listed or {}).items()
                    if module_index(name) is not None}
    return {}


def import_namespaces(data: bytes) -> set[str] | None:
    """The module names a binary module imports from, read from its import section alone, so
    that it works on modules of later proposals that pywamr refuses; None if unreadable."""
    try:
        reader = Reader(data, 8)
        while not reader.at_end():
            section, size = reader.byte(), reader.u32()
            if section != 2:
                reader.bytes(size)
                continue
            names = set()
            for _ in range(reader.u32()):
                names.add(reader.name())
                reader.name()
                _skip_import_description(reader)
            return names
        return set()
    except DecodeError:
        return None


def _skip_import_description(reader: Reader) -> None:
    kind = reader.byte()
    if kind == 0x00:                    # function: type index
        reader.u32()
    elif kind in (0x01, 0x03):          # table: reference type, limits; global: type, mutability
        if reader.byte() in (0x63, 0x64):
            reader.s33()                # (ref null? heaptype) of typed function references
        if kind == 0x03:
            reader.byte()
        else:
            _skip_limits(reader)
    elif kind == 0x02:                  # memory: limits
        _skip_limits(reader)
    elif kind == 0x04:                  # tag: attribute, type index
        reader.byte()
        reader.u32()
    else:
        raise reader.error(f"unknown import kind {kind:#x}")


def _skip_limits(reader: Reader) -> None:
    flags = reader.byte()
    reader.u64()
    if flags & 0x01:
        reader.u64()
    if flags & 0x08:                    # custom page sizes: log2 of the page size
        reader.u32()
