"""Storing component values into linear memory: one closure per type, built once.

Sits over `layout.py`, `strings.py` and `handles.py`; used by `flat.py` and `lift.py`.
`storer(t)` returns `store(cx, v, ptr)`, specialised to `t` and cached; `ptr` is aligned and in
bounds (it came from `realloc`, whose result `LiftLowerContext` checks, or from a checked
out-pointer). Strings and variable-length lists allocate their contents with `realloc`.

Values come from the other side of a call (always well formed) or from the host, so each
storer checks its value's Python type and range and raises `TypeError`/`ValueError` (a host
error, not a trap) rather than write something wrong. Floats are rounded to f32 where needed and
NaNs stored as the canonical NaN (the spec allows any NaN; the deterministic profile picks this
one). Deliberately refuses stream, future and error-context (async ABI) with `NotSupported`.
Spec: CanonicalABI.md, "Storing".
"""
from __future__ import annotations

import operator
import struct
from collections.abc import Mapping

from ...errors import NotSupported
from ...runtime.numerics import round_f32
from ..types import (BorrowType, EnumType, FlagsType, ListType, MapType, OwnType,
                     PrimValType, RecordType, TupleType, despecialize)
from .handles import lower_borrow, lower_own
from .layout import layout, type_cache
from .load import CANONICAL_NAN, INT_FORMATS, case_values
from .options import MAX_LIST_BYTE_LENGTH
from .strings import store_string_into_range

INT_RANGES = {"u8": (0, 0xFF), "s8": (-0x80, 0x7F), "u16": (0, 0xFFFF), "s16": (-0x8000, 0x7FFF),
              "u32": (0, 0xFFFFFFFF), "s32": (-0x80000000, 0x7FFFFFFF),
              "u64": (0, 0xFFFFFFFFFFFFFFFF), "s64": (-0x8000000000000000, 0x7FFFFFFFFFFFFFFF)}
_PAIR = struct.Struct("<II")
_U32 = struct.Struct("<I")


def storer(t):
    """The cached `store(cx, v, ptr)` of type `t`."""
    return _storer(t)


def store(cx, v, t, ptr: int) -> None:
    """Spec: "Storing" (`store`)."""
    storer(t)(cx, v, ptr)


# ---- checking host values -------------------------------------------------------------------

def check_int(v, name: str) -> int:
    lo, hi = INT_RANGES[name]
    try:
        i = operator.index(v)
    except TypeError:
        raise TypeError(f"expected an int for `{name}`, got {type(v).__name__}") from None
    if not lo <= i <= hi:
        raise ValueError(f"{i} is out of range for `{name}`")
    return i


def check_float(v, name: str) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise TypeError(f"expected a float for `{name}`, got {type(v).__name__}")


def char_to_i32(v) -> int:
    if type(v) is not str or len(v) != 1:
        raise TypeError(f"expected a 1-character str for `char`, got {v!r}")
    i = ord(v)
    if 0xD800 <= i <= 0xDFFF:
        raise ValueError(f"a `char` cannot be the surrogate {i:#x}")
    return i


def check_length(v, what: str):
    try:
        return len(v)
    except TypeError:
        raise TypeError(f"expected a sequence for {what}, got {type(v).__name__}") from None


def map_pairs(v):
    """A map value as the list of (key, value) pairs it despecializes to: a sequence of pairs
    is taken as it is (duplicate keys and all), a dict (any mapping) gives its items."""
    return list(v.items()) if isinstance(v, Mapping) else v


# ---- building storers -----------------------------------------------------------------------

def _build(t):
    if isinstance(t, PrimValType):
        return _build_primitive(t.name)
    if isinstance(t, ListType):
        return _build_list(t)
    if isinstance(t, MapType):
        store_pairs = storer(despecialize(t))
        return lambda cx, v, ptr: store_pairs(cx, map_pairs(v), ptr)
    if isinstance(t, (RecordType, TupleType)):
        return _build_record(t)
    if isinstance(t, FlagsType):
        return _build_flags(t)
    if isinstance(t, OwnType):
        return lambda cx, v, ptr: _U32.pack_into(cx.data, ptr, lower_own(cx, v, t))
    if isinstance(t, BorrowType):
        return lambda cx, v, ptr: _U32.pack_into(cx.data, ptr, lower_borrow(cx, v, t))
    if layout(t).disc_size:
        return _build_variant(t)
    raise NotSupported(f"the canonical ABI of {type(t).__name__} (async) is not supported")


def _build_primitive(name: str):
    if name == "bool":
        def store_bool(cx, v, ptr):
            cx.data[ptr] = 1 if v else 0
        return store_bool
    if name in INT_RANGES:
        pack = struct.Struct("<" + INT_FORMATS[name]).pack_into
        lo, hi = INT_RANGES[name]

        def store_int(cx, v, ptr):
            if type(v) is not int or not lo <= v <= hi:
                v = check_int(v, name)
            pack(cx.data, ptr, v)
        return store_int
    if name == "f32":
        pack32 = struct.Struct("<f").pack_into

        def store_f32(cx, v, ptr):
            if type(v) is not float:
                v = check_float(v, name)
            pack32(cx.data, ptr, CANONICAL_NAN if v != v else round_f32(v))
        return store_f32
    if name == "f64":
        pack64 = struct.Struct("<d").pack_into

        def store_f64(cx, v, ptr):
            if type(v) is not float:
                v = check_float(v, name)
            pack64(cx.data, ptr, CANONICAL_NAN if v != v else v)
        return store_f64
    if name == "char":
        return lambda cx, v, ptr: _U32.pack_into(cx.data, ptr, char_to_i32(v))
    if name == "string":
        def store_string(cx, v, ptr):
            begin, tagged = store_string_into_range(cx, v)
            _PAIR.pack_into(cx.data, ptr, begin, tagged)
        return store_string
    raise NotSupported(f"the canonical ABI of `{name}` (async) is not supported")


def _bulk_storer(elem):
    """A one-call writer `(data, ptr, v)` for lists of numbers and bools, or None."""
    if not isinstance(elem, PrimValType):
        return None
    name = elem.name
    if name == "u8":
        def store_bytes(data, ptr, v):
            try:
                data[ptr:ptr + len(v)] = bytes(v)
            except (TypeError, ValueError):
                for x in v:
                    check_int(x, name)
                raise
        return store_bytes
    if name == "bool":
        def store_bools(data, ptr, v):
            data[ptr:ptr + len(v)] = bytes([1 if x else 0 for x in v])
        return store_bools
    if name not in INT_FORMATS:
        return None
    code = INT_FORMATS[name]
    if name in INT_RANGES:
        def store_ints(data, ptr, v):
            try:
                struct.pack_into(f"<{len(v)}{code}", data, ptr, *v)
            except struct.error:
                for x in v:
                    check_int(x, name)
                raise
        return store_ints

    def store_floats(data, ptr, v):
        values = [CANONICAL_NAN if x != x else x for x in
                  (check_float(x, name) if type(x) is not float else x for x in v)]
        if name == "f32":
            values = [round_f32(x) for x in values]
        struct.pack_into(f"<{len(values)}{code}", data, ptr, *values)
    return store_floats


def list_range_storer(elem):
    """`store_list_into_range(cx, v) -> (ptr, length)` for element type `elem`."""
    e = layout(elem)
    size, align = e.size, e.alignment
    bulk = _bulk_storer(elem)
    store_elem = storer(elem)

    def store_list_into_range(cx, v):
        n = check_length(v, "a list")
        byte_length = n * size
        if byte_length > MAX_LIST_BYTE_LENGTH:
            raise ValueError(f"a list of {byte_length} bytes exceeds the canonical ABI limit")
        ptr = cx.allocate(align, byte_length, "list")
        if bulk is not None:
            bulk(cx.data, ptr, v)
        else:
            for i, x in enumerate(v):
                store_elem(cx, x, ptr + i * size)
        return ptr, n
    return store_list_into_range


def _build_list(t: ListType):
    if t.length is None:
        into_range = list_range_storer(t.elem)

        def store_list(cx, v, ptr):
            begin, length = into_range(cx, v)
            _PAIR.pack_into(cx.data, ptr, begin, length)
        return store_list
    n = t.length
    size = layout(t.elem).size
    bulk = _bulk_storer(t.elem)
    store_elem = storer(t.elem)

    def store_fixed_list(cx, v, ptr):
        if check_length(v, "a fixed-length list") != n:
            raise ValueError(f"expected a list of exactly {n} elements, got {len(v)}")
        if bulk is not None:
            bulk(cx.data, ptr, v)
        else:
            for i, x in enumerate(v):
                store_elem(cx, x, ptr + i * size)
    return store_fixed_list


def _build_record(t):
    lay = layout(t)
    if isinstance(t, TupleType):
        parts = tuple(zip(map(storer, t.elems), lay.offsets))
        n = len(parts)

        def store_tuple(cx, v, ptr):
            if check_length(v, "a tuple") != n:
                raise ValueError(f"expected a tuple of {n} elements, got {len(v)}")
            for (f, off), x in zip(parts, v):
                f(cx, x, ptr + off)
        return store_tuple
    fields = tuple((f.label, storer(f.t), off) for f, off in zip(t.fields, lay.offsets))

    def store_record(cx, v, ptr):
        try:
            for label, f, off in fields:
                f(cx, v[label], ptr + off)
        except KeyError as exc:
            raise TypeError(f"record value lacks field {exc.args[0]!r}") from None
        except TypeError:
            if not hasattr(v, "__getitem__") or isinstance(v, (str, bytes, list, tuple)):
                raise TypeError(f"expected a dict for a record, got {type(v).__name__}") \
                    from None
            raise
    return store_record


def variant_index(t):
    """{value key: (case index, payload type or None)}; the key is the label (enums: the
    value itself)."""
    return {label: (i, ct) for i, (label, ct) in enumerate(case_values(t))}


def split_case(v, is_enum: bool, index: dict, t):
    """(case index, payload type, payload) of a variant-like value, with a clear error."""
    if is_enum:
        label, payload = v, None
    else:
        try:
            label, payload = v
        except (TypeError, ValueError):
            raise TypeError(f"expected a (label, payload) pair for {t}, got {v!r}") from None
    try:
        i, ct = index[label]
    except (KeyError, TypeError):
        raise ValueError(f"{label!r} is not a case of {t}") from None
    if ct is None and payload is not None:
        raise ValueError(f"case {label!r} carries no payload, got {payload!r}")
    return i, ct, payload


def _build_variant(t):
    lay = layout(t)
    pack_disc = struct.Struct("<" + {1: "B", 2: "H", 4: "I"}[lay.disc_size]).pack_into
    payload_offset = lay.payload_offset
    is_enum = isinstance(t, EnumType)
    index = variant_index(t)
    storers = {i: storer(ct) for i, ct in index.values() if ct is not None}

    def store_variant(cx, v, ptr):
        i, ct, payload = split_case(v, is_enum, index, t)
        pack_disc(cx.data, ptr, i)
        if ct is not None:
            storers[i](cx, payload, ptr + payload_offset)
    return store_variant


def pack_flags_into_int(v, bits: dict, t) -> int:
    """The bit vector of a set of labels (a dict {label: bool}, the spec's form, also works)."""
    i = 0
    if type(v) is dict:
        v = [label for label, on in v.items() if on]
    try:
        for label in v:
            i |= bits[label]
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not a flag of {t}") from None
    except TypeError:
        raise TypeError(f"expected a set of labels for {t}, got {v!r}") from None
    return i


def _build_flags(t: FlagsType):
    lay = layout(t)
    bits = {label: 1 << k for k, label in enumerate(t.labels)}
    if lay.size == 0:
        return lambda cx, v, ptr: pack_flags_into_int(v, bits, t) and None
    if lay.chunks:
        pack = struct.Struct(f"<{lay.chunks}I").pack_into
        chunks = lay.chunks

        def store_flags(cx, v, ptr):
            i = pack_flags_into_int(v, bits, t)
            pack(cx.data, ptr, *[(i >> (32 * k)) & 0xFFFFFFFF for k in range(chunks)])
        return store_flags
    pack = struct.Struct("<" + {1: "B", 2: "H"}[lay.size]).pack_into
    return lambda cx, v, ptr: pack(cx.data, ptr, pack_flags_into_int(v, bits, t))


_storer = type_cache(_build)
