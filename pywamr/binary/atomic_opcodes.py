"""The 0xFE (threads: atomic memory access) rows of the instruction table, as plain data.

Part of the one instruction table: `opcodes.py` turns every row here into an `OpInfo` keyed
`0xFE << 16 | sub`. A row is `(sub-opcode, name, immediate kind, "params:results", access
width in bytes or None, "u" when a narrow result is zero-extended, else None)`. pywamr does not
run threads: the decoder refuses these instructions by name as "not supported"; the rows give
the issue that adds them a complete, checked table (names against wasm-tools, typings against
wasmtime). Every atomic access must be naturally aligned, so its memarg alignment is exactly
the table's `align`; that rule is the validator's to add with the feature.
"""
from __future__ import annotations

ATOMIC_OPCODES: list[tuple] = [
    (0x00, "memory.atomic.notify", "memarg", "i32 i32:i32", 4, None),
    (0x01, "memory.atomic.wait32", "memarg", "i32 i32 i64:i32", 4, None),
    (0x02, "memory.atomic.wait64", "memarg", "i32 i64 i64:i32", 8, None),
    (0x03, "atomic.fence", "fence", ":", None, None),
]

# (type, name part, width) of the seven access shapes, in sub-opcode order
_SHAPES = [("i32", "", 4), ("i64", "", 8), ("i32", "8", 1), ("i32", "16", 2), ("i64", "8", 1),
           ("i64", "16", 2), ("i64", "32", 4)]


def _narrow(bits: str) -> str | None:
    return "u" if bits else None


for _i, (_t, _bits, _width) in enumerate(_SHAPES):
    _suffix = f"{_bits}_u" if _bits else ""
    ATOMIC_OPCODES.append((0x10 + _i, f"{_t}.atomic.load{_suffix}", "memarg", f"i32:{_t}",
                           _width, _narrow(_bits)))
    ATOMIC_OPCODES.append((0x17 + _i, f"{_t}.atomic.store{_bits}", "memarg", f"i32 {_t}:",
                           _width, None))
for _k, _op in enumerate(("add", "sub", "and", "or", "xor", "xchg", "cmpxchg")):
    for _i, (_t, _bits, _width) in enumerate(_SHAPES):
        _name = f"{_t}.atomic.rmw{_bits}.{_op}" + ("_u" if _bits else "")
        _sig = f"i32 {_t} {_t}:{_t}" if _op == "cmpxchg" else f"i32 {_t}:{_t}"
        ATOMIC_OPCODES.append((0x1E + 7 * _k + _i, _name, "memarg", _sig, _width,
                               _narrow(_bits)))

ATOMIC_OPCODES.sort()
