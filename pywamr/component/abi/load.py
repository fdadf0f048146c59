"""Loading component values out of linear memory: one closure per type, built once.

Sits over `layout.py`, `strings.py` and `handles.py`; used by `flat.py` (lists and strings
behind flat pointers, spilled parameters and results) and `lift.py`. `loader(t)` returns
`load(cx, ptr) -> value`, specialised to `t` and cached; the caller has already checked that
`ptr` is aligned and that the value's `elem_size` bytes are in bounds, as the spec asserts.
Lists of numbers are read with one `struct` call.

Values are those documented in `abi/__init__.py`. Deliberately refuses stream, future and
error-context (async ABI) with `NotSupported` when the loader is built.
Spec: CanonicalABI.md, "Loading".
"""
from __future__ import annotations

import struct

from ...errors import NotSupported, Trap, TrapCode
from ...runtime.numerics import f64_from_bits
from ..types import (BorrowType, EnumType, FlagsType, ListType, MapType, OptionType,
                     OwnType, PrimValType, RecordType, ResultType, TupleType, VariantType,
                     despecialize)
from .handles import lift_borrow, lift_own
from .layout import layout, type_cache
from .options import MAX_LIST_BYTE_LENGTH, check_range
from .strings import load_string_from_range

CANONICAL_NAN = f64_from_bits(0x7FF8000000000000)   # also the f32 canonical NaN 0x7fc00000
INT_FORMATS = {"u8": "B", "s8": "b", "u16": "H", "s16": "h", "u32": "I", "s32": "i",
               "u64": "Q", "s64": "q", "f32": "f", "f64": "d"}
_PAIR = struct.Struct("<II")
_U32 = struct.Struct("<I")


def loader(t):
    """The cached `load(cx, ptr)` of type `t`."""
    return _loader(t)


def load(cx, ptr: int, t):
    """Spec: "Loading" (`load`)."""
    return loader(t)(cx, ptr)


def convert_i32_to_char(i: int) -> str:
    if i >= 0x110000 or 0xD800 <= i <= 0xDFFF:
        raise Trap(TrapCode.INVALID_CHAR, f"invalid `char` bit pattern {i:#x}")
    return chr(i)


def _build(t):
    if isinstance(t, PrimValType):
        return _build_primitive(t.name)
    if isinstance(t, ListType):
        return _build_list(t)
    if isinstance(t, MapType):
        return loader(despecialize(t))      # the list of (key, value) tuples
    if isinstance(t, (RecordType, TupleType)):
        return _build_record(t)
    if isinstance(t, (VariantType, EnumType, OptionType, ResultType)):
        return _build_variant(t)
    if isinstance(t, FlagsType):
        return _build_flags(t)
    if isinstance(t, OwnType):
        return lambda cx, ptr: lift_own(cx, _U32.unpack_from(cx.data, ptr)[0], t)
    if isinstance(t, BorrowType):
        return lambda cx, ptr: lift_borrow(cx, _U32.unpack_from(cx.data, ptr)[0], t)
    raise NotSupported(f"the canonical ABI of {type(t).__name__} (async) is not supported")


def _build_primitive(name: str):
    if name == "bool":
        return lambda cx, ptr: cx.data[ptr] != 0
    if name == "u8":
        return lambda cx, ptr: cx.data[ptr]
    if name in ("f32", "f64"):
        unpack = struct.Struct("<" + INT_FORMATS[name]).unpack_from

        def load_float(cx, ptr):
            v = unpack(cx.data, ptr)[0]
            return CANONICAL_NAN if v != v else v
        return load_float
    if name in INT_FORMATS:
        unpack = struct.Struct("<" + INT_FORMATS[name]).unpack_from
        return lambda cx, ptr: unpack(cx.data, ptr)[0]
    if name == "char":
        return lambda cx, ptr: convert_i32_to_char(_U32.unpack_from(cx.data, ptr)[0])
    if name == "string":
        def load_string(cx, ptr):
            begin, tagged = _PAIR.unpack_from(cx.data, ptr)
            return load_string_from_range(cx, begin, tagged)
        return load_string
    raise NotSupported(f"the canonical ABI of `{name}` (async) is not supported")


def list_range_loader(elem):
    """`load_list_from_range(cx, ptr, length)` for element type `elem`, with its traps."""
    e = layout(elem)
    size, align = e.size, e.alignment
    bulk = _bulk_loader(elem)
    load_elem = loader(elem)

    limit_size = max(size, 1)      # a zero-sized element (invalid type) still counts a byte

    def load_list_from_range(cx, ptr, length):
        byte_length = length * size
        if length * limit_size > MAX_LIST_BYTE_LENGTH:
            raise Trap(TrapCode.LENGTH_TOO_LARGE, f"list byte length {byte_length} too large")
        check_range(cx, ptr, align, byte_length, "list")
        if bulk is not None:
            return bulk(cx.data, ptr, length)
        return [load_elem(cx, ptr + i * size) for i in range(length)]
    return load_list_from_range


def _bulk_loader(elem):
    """A one-call reader for lists of numbers and bools, or None."""
    if not isinstance(elem, PrimValType):
        return None
    name = elem.name
    if name == "u8":
        return lambda data, ptr, n: list(data[ptr:ptr + n])
    if name == "bool":
        return lambda data, ptr, n: [b != 0 for b in data[ptr:ptr + n]]
    if name not in INT_FORMATS:
        return None
    code = INT_FORMATS[name]
    if name in ("f32", "f64"):
        def load_floats(data, ptr, n):
            return [CANONICAL_NAN if v != v else v
                    for v in struct.unpack_from(f"<{n}{code}", data, ptr)]
        return load_floats
    return lambda data, ptr, n: list(struct.unpack_from(f"<{n}{code}", data, ptr))


def _build_list(t: ListType):
    if t.length is None:
        from_range = list_range_loader(t.elem)

        def load_list(cx, ptr):
            begin, length = _PAIR.unpack_from(cx.data, ptr)
            return from_range(cx, begin, length)
        return load_list
    n = t.length
    size = layout(t.elem).size
    bulk = _bulk_loader(t.elem)
    if bulk is not None:
        return lambda cx, ptr: bulk(cx.data, ptr, n)
    load_elem = loader(t.elem)
    return lambda cx, ptr: [load_elem(cx, ptr + i * size) for i in range(n)]


def _build_record(t):
    lay = layout(t)
    if isinstance(t, TupleType):
        parts = tuple(zip(map(loader, t.elems), lay.offsets))
        return lambda cx, ptr: tuple([f(cx, ptr + off) for f, off in parts])
    fields = tuple((f.label, loader(f.t), off) for f, off in zip(t.fields, lay.offsets))

    def load_record(cx, ptr):
        return {label: f(cx, ptr + off) for label, f, off in fields}
    return load_record


def case_values(t) -> list[tuple[str, object]]:
    """The (label, payload type or None) of each case of a variant-like type, in order."""
    if isinstance(t, EnumType):
        return [(label, None) for label in t.labels]
    if isinstance(t, OptionType):
        return [("none", None), ("some", t.t)]
    if isinstance(t, ResultType):
        return [("ok", t.ok), ("error", t.error)]
    return [(c.label, c.t) for c in t.cases]


def _build_variant(t):
    lay = layout(t)
    disc = struct.Struct("<" + {1: "B", 2: "H", 4: "I"}[lay.disc_size]).unpack_from
    payload_offset = lay.payload_offset
    table = []
    for label, ct in case_values(t):
        if isinstance(t, EnumType):
            table.append((label, None))
        elif ct is None:
            table.append(((label, None), None))
        else:
            table.append((label, loader(ct)))
    table = tuple(table)
    n = len(table)

    def load_variant(cx, ptr):
        i = disc(cx.data, ptr)[0]
        if i >= n:
            raise Trap(TrapCode.INVALID_DISCRIMINANT,
                       f"invalid variant discriminant {i} (discriminant {i} out of range "
                       f"[0..{n}))")
        value, load_payload = table[i]
        if load_payload is None:
            return value
        return (value, load_payload(cx, ptr + payload_offset))
    return load_variant


def unpack_flags_from_int(i: int, labels) -> frozenset:
    return frozenset([label for bit, label in enumerate(labels) if i >> bit & 1])


def _build_flags(t: FlagsType):
    lay = layout(t)
    labels = t.labels
    if lay.size == 0:
        empty = frozenset()
        return lambda cx, ptr: empty
    if lay.chunks:
        fmt = struct.Struct(f"<{lay.chunks}I").unpack_from

        def load_flags(cx, ptr):
            i = 0
            for k, word in enumerate(fmt(cx.data, ptr)):
                i |= word << (32 * k)
            return unpack_flags_from_int(i, labels)
        return load_flags
    fmt = struct.Struct("<" + {1: "B", 2: "H"}[lay.size]).unpack_from
    return lambda cx, ptr: unpack_flags_from_int(fmt(cx.data, ptr)[0], labels)


_loader = type_cache(_build)
