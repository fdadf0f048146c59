"""Flat lifting and lowering: component values to and from core wasm values, per type, once.

Sits over `load.py`/`store.py` (strings, lists and spilled tuples live in memory) and under
`lift.py`. `lifter(t)` returns `lift_flat(cx, vals, i) -> value`, reading the `len(flat)` core
values of `t` from `vals` starting at `i`; `lowerer(t)` returns `lower_flat(cx, v, out)`,
appending them to the list `out`. Core values use the internal representation (unsigned ints,
f32 as its exact float). `values_lifter` / `values_lowerer` handle a whole parameter or result
list, spilling to memory past the flat limit.

Variants follow `flatten_variant`: every case is passed with the same joined core types, so a
case's payload is coerced (f32 bits in an i32, i32 zero-extended in an i64, ...) on the way
in and out; the coercion plan of each case is computed when the closure is built.
Spec: CanonicalABI.md, "Flat Lifting", "Flat Lowering", "Lifting and Lowering Values".
"""
from __future__ import annotations

from ...errors import NotSupported, Trap, TrapCode
from ...runtime.numerics import (f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits,
                                 round_f32)
from ..types import (BorrowType, EnumType, FlagsType, ListType, MapType, OwnType, PrimValType,
                     RecordType, TupleType, despecialize)
from .handles import lift_borrow, lift_own, lower_borrow, lower_own
from .layout import flatten_types, layout, type_cache
from .load import (CANONICAL_NAN, case_values, convert_i32_to_char, list_range_loader, loader,
                   unpack_flags_from_int)
from .options import check_range
from .store import (INT_RANGES, char_to_i32, check_float, check_int, check_length,
                    list_range_storer, map_pairs, pack_flags_into_int, split_case, storer,
                    variant_index)
from .strings import load_string_from_range, store_string_into_range

ZERO = {"i32": 0, "i64": 0, "f32": 0.0, "f64": 0.0}


def lifter(t):
    """The cached `lift_flat(cx, vals, i)` of type `t`."""
    return _lifter(t)


def lowerer(t):
    """The cached `lower_flat(cx, v, out)` of type `t`."""
    return _lowerer(t)


def lift_flat(cx, vals, t):
    """Spec: "Flat Lifting" (`lift_flat`), over a whole list of core values."""
    return lifter(t)(cx, list(vals), 0)


def lower_flat(cx, v, t) -> list:
    """Spec: "Flat Lowering" (`lower_flat`)."""
    out: list = []
    lowerer(t)(cx, v, out)
    return out


# ---- lifting --------------------------------------------------------------------------------

def _signed(bits: int):
    mask, sign = (1 << bits) - 1, 1 << (bits - 1)

    def lift_signed(cx, vals, i):
        x = vals[i] & mask
        return x - (sign << 1) if x & sign else x
    return lift_signed


def _lift_primitive(name: str):
    if name == "bool":
        return lambda cx, vals, i: vals[i] != 0
    if name in ("u8", "u16"):
        mask = 0xFF if name == "u8" else 0xFFFF
        return lambda cx, vals, i: vals[i] & mask
    if name in ("u32", "u64"):
        return lambda cx, vals, i: vals[i]
    if name in ("s8", "s16", "s32", "s64"):
        return _signed(int(name[1:]))
    if name in ("f32", "f64"):
        def lift_float(cx, vals, i):
            v = vals[i]
            return CANONICAL_NAN if v != v else v
        return lift_float
    if name == "char":
        return lambda cx, vals, i: convert_i32_to_char(vals[i])
    if name == "string":
        return lambda cx, vals, i: load_string_from_range(cx, vals[i], vals[i + 1])
    raise NotSupported(f"the canonical ABI of `{name}` (async) is not supported")


def _build_lift(t):
    if isinstance(t, PrimValType):
        return _lift_primitive(t.name)
    if isinstance(t, ListType):
        if t.length is None:
            from_range = list_range_loader(t.elem)
            return lambda cx, vals, i: from_range(cx, vals[i], vals[i + 1])
        elem, step, n = lifter(t.elem), len(layout(t.elem).flat), t.length
        return lambda cx, vals, i: [elem(cx, vals, i + k * step) for k in range(n)]
    if isinstance(t, MapType):
        return lifter(despecialize(t))      # the list of (key, value) tuples
    if isinstance(t, (RecordType, TupleType)):
        return _lift_record(t)
    if isinstance(t, FlagsType):
        return _lift_flags(t)
    if isinstance(t, OwnType):
        return lambda cx, vals, i: lift_own(cx, vals[i], t)
    if isinstance(t, BorrowType):
        return lambda cx, vals, i: lift_borrow(cx, vals[i], t)
    if layout(t).disc_size:
        return _lift_variant(t)
    raise NotSupported(f"the canonical ABI of {type(t).__name__} (async) is not supported")


def _flat_offsets(types):
    offsets, k = [], 0
    for u in types:
        offsets.append(k)
        k += len(layout(u).flat)
    return offsets


def _lift_record(t):
    if isinstance(t, TupleType):
        parts = tuple(zip(map(lifter, t.elems), _flat_offsets(t.elems)))
        return lambda cx, vals, i: tuple([f(cx, vals, i + k) for f, k in parts])
    types = [f.t for f in t.fields]
    fields = tuple((f.label, lifter(f.t), k) for f, k in zip(t.fields, _flat_offsets(types)))
    return lambda cx, vals, i: {label: f(cx, vals, i + k) for label, f, k in fields}


def _lift_coercion(have: str, want: str):
    """Reading a `want` value passed as the joined type `have`. Spec: `lift_flat_variant`."""
    if have == want:
        return None
    if (have, want) == ("i32", "f32"):
        return f32_from_bits
    if (have, want) == ("i64", "i32"):
        return lambda x: x & 0xFFFFFFFF
    if (have, want) == ("i64", "f32"):
        return lambda x: f32_from_bits(x & 0xFFFFFFFF)
    if (have, want) == ("i64", "f64"):
        return f64_from_bits
    raise AssertionError(f"no coercion from {have} to {want}")   # excluded by `join`


def _lift_variant(t):
    joined = layout(t).payload_flat
    is_enum = isinstance(t, EnumType)
    table = []
    for label, ct in case_values(t):
        if ct is None:
            table.append((label if is_enum else (label, None), None, None))
            continue
        want = layout(ct).flat
        coercions = [_lift_coercion(have, w) for have, w in zip(joined, want)]
        plan = None if not any(coercions) else tuple(c or (lambda x: x) for c in coercions)
        table.append((label, lifter(ct), plan))
    table = tuple(table)
    n = len(table)

    def lift_flat_variant(cx, vals, i):
        case = vals[i]
        if case >= n:
            raise Trap(TrapCode.INVALID_DISCRIMINANT,
                       f"invalid variant discriminant {case} (discriminant {case} out of "
                       f"range [0..{n}))")
        value, lift_payload, plan = table[case]
        if lift_payload is None:
            return value
        if plan is None:
            return (value, lift_payload(cx, vals, i + 1))
        coerced = [c(x) for c, x in zip(plan, vals[i + 1:i + 1 + len(plan)])]
        return (value, lift_payload(cx, coerced, 0))
    return lift_flat_variant


def _lift_flags(t: FlagsType):
    lay = layout(t)
    labels = t.labels
    if lay.size == 0:
        empty = frozenset()
        return lambda cx, vals, i: empty
    if lay.chunks:
        chunks = lay.chunks

        def lift_flat_flags(cx, vals, i):
            bits = 0
            for k in range(chunks):
                bits |= vals[i + k] << (32 * k)
            return unpack_flags_from_int(bits, labels)
        return lift_flat_flags
    return lambda cx, vals, i: unpack_flags_from_int(vals[i], labels)


# ---- lowering -------------------------------------------------------------------------------

def _lower_primitive(name: str):
    if name == "bool":
        return lambda cx, v, out: out.append(1 if v else 0)
    if name in INT_RANGES:
        lo, hi = INT_RANGES[name]
        mask = 0xFFFFFFFFFFFFFFFF if name in ("u64", "s64") else 0xFFFFFFFF

        def lower_flat_int(cx, v, out):
            if type(v) is not int or not lo <= v <= hi:
                v = check_int(v, name)
            out.append(v & mask)
        return lower_flat_int
    if name == "f32":
        def lower_flat_f32(cx, v, out):
            if type(v) is not float:
                v = check_float(v, name)
            out.append(CANONICAL_NAN if v != v else round_f32(v))
        return lower_flat_f32
    if name == "f64":
        def lower_flat_f64(cx, v, out):
            if type(v) is not float:
                v = check_float(v, name)
            out.append(CANONICAL_NAN if v != v else v)
        return lower_flat_f64
    if name == "char":
        return lambda cx, v, out: out.append(char_to_i32(v))
    if name == "string":
        return lambda cx, v, out: out.extend(store_string_into_range(cx, v))
    raise NotSupported(f"the canonical ABI of `{name}` (async) is not supported")


def _build_lower(t):
    if isinstance(t, PrimValType):
        return _lower_primitive(t.name)
    if isinstance(t, ListType):
        if t.length is None:
            into_range = list_range_storer(t.elem)
            return lambda cx, v, out: out.extend(into_range(cx, v))
        return _lower_fixed_list(t)
    if isinstance(t, MapType):
        lower_pairs = lowerer(despecialize(t))
        return lambda cx, v, out: lower_pairs(cx, map_pairs(v), out)
    if isinstance(t, (RecordType, TupleType)):
        return _lower_record(t)
    if isinstance(t, FlagsType):
        return _lower_flags(t)
    if isinstance(t, OwnType):
        return lambda cx, v, out: out.append(lower_own(cx, v, t))
    if isinstance(t, BorrowType):
        return lambda cx, v, out: out.append(lower_borrow(cx, v, t))
    if layout(t).disc_size:
        return _lower_variant(t)
    raise NotSupported(f"the canonical ABI of {type(t).__name__} (async) is not supported")


def _lower_fixed_list(t: ListType):
    elem, n = lowerer(t.elem), t.length

    def lower_flat_fixed_list(cx, v, out):
        if check_length(v, "a fixed-length list") != n:
            raise ValueError(f"expected a list of exactly {n} elements, got {len(v)}")
        for x in v:
            elem(cx, x, out)
    return lower_flat_fixed_list


def _lower_record(t):
    if isinstance(t, TupleType):
        parts = tuple(map(lowerer, t.elems))
        n = len(parts)

        def lower_flat_tuple(cx, v, out):
            if check_length(v, "a tuple") != n:
                raise ValueError(f"expected a tuple of {n} elements, got {len(v)}")
            for f, x in zip(parts, v):
                f(cx, x, out)
        return lower_flat_tuple
    fields = tuple((f.label, lowerer(f.t)) for f in t.fields)

    def lower_flat_record(cx, v, out):
        try:
            for label, f in fields:
                f(cx, v[label], out)
        except KeyError as exc:
            raise TypeError(f"record value lacks field {exc.args[0]!r}") from None
    return lower_flat_record


def _lower_coercion(have: str, want: str):
    """Passing a `have` value as the joined type `want`. Spec: `lower_flat_variant`."""
    if have == want or (have, want) == ("i32", "i64"):
        return None
    if have == "f32":           # as i32 or i64: the f32 bits
        return f32_to_bits
    if (have, want) == ("f64", "i64"):
        return f64_to_bits
    raise AssertionError(f"no coercion from {have} to {want}")   # excluded by `join`


def _lower_variant(t):
    joined = layout(t).payload_flat
    is_enum = isinstance(t, EnumType)
    index = variant_index(t)
    plans = {}
    for i, ct in index.values():
        if ct is None:
            plans[i] = (None, None, tuple(ZERO[f] for f in joined))
            continue
        have = layout(ct).flat
        coercions = [_lower_coercion(h, w) for h, w in zip(have, joined)]
        plan = None if not any(coercions) else tuple(c or (lambda x: x) for c in coercions)
        plans[i] = (lowerer(ct), plan, tuple(ZERO[f] for f in joined[len(have):]))

    def lower_flat_variant(cx, v, out):
        i, ct, payload = split_case(v, is_enum, index, t)
        out.append(i)
        lower_payload, plan, padding = plans[i]
        if lower_payload is not None:
            if plan is None:
                lower_payload(cx, payload, out)
            else:
                flat: list = []
                lower_payload(cx, payload, flat)
                out.extend([c(x) for c, x in zip(plan, flat)])
        out.extend(padding)
    return lower_flat_variant


def _lower_flags(t: FlagsType):
    lay = layout(t)
    bits = {label: 1 << k for k, label in enumerate(t.labels)}
    if lay.size == 0:
        return lambda cx, v, out: pack_flags_into_int(v, bits, t) and None
    if lay.chunks:
        chunks = lay.chunks

        def lower_flat_flags(cx, v, out):
            i = pack_flags_into_int(v, bits, t)
            out.extend([(i >> (32 * k)) & 0xFFFFFFFF for k in range(chunks)])
        return lower_flat_flags
    return lambda cx, v, out: out.append(pack_flags_into_int(v, bits, t))


# ---- whole parameter and result lists -------------------------------------------------------

def values_lifter(types, max_flat: int):
    """`lift_flat_values(cx, vals) -> list`: past `max_flat` flat values, `vals[0]` points at
    the values stored as a tuple. Spec: "Lifting and Lowering Values"."""
    types = tuple(types)
    if len(flatten_types(types)) > max_flat:
        tuple_type = TupleType(types)
        lay = layout(tuple_type)
        load_tuple = loader(tuple_type)

        def lift_spilled(cx, vals):
            ptr = vals[0]
            check_range(cx, ptr, lay.alignment, lay.size, "argument")
            return list(load_tuple(cx, ptr))
        return lift_spilled
    parts = tuple(zip(map(lifter, types), _flat_offsets(types)))
    if len(parts) == 1:
        (only, _), = parts
        return lambda cx, vals: [only(cx, vals, 0)]
    return lambda cx, vals: [f(cx, vals, k) for f, k in parts]


def values_lowerer(types, max_flat: int, out_param: bool = False):
    """`lower_flat_values(cx, values, out_ptr) -> list of core values`. Past `max_flat`, the
    values are stored as a tuple: at `out_ptr` when `out_param` (a result pointer the core
    caller passed; returns []), else in memory from `realloc` (returns [ptr])."""
    types = tuple(types)
    if len(flatten_types(types)) > max_flat:
        tuple_type = TupleType(types)
        lay = layout(tuple_type)
        store_tuple = storer(tuple_type)

        def lower_spilled(cx, values, out_ptr=None):
            if out_param:
                check_range(cx, out_ptr, lay.alignment, lay.size, "result")
                store_tuple(cx, tuple(values), out_ptr)
                return []
            ptr = cx.allocate(lay.alignment, lay.size)
            store_tuple(cx, tuple(values), ptr)
            return [ptr]
        return lower_spilled
    parts = tuple(map(lowerer, types))

    def lower_values(cx, values, out_ptr=None):
        out: list = []
        for f, v in zip(parts, values):
            f(cx, v, out)
        return out
    return lower_values


_lifter = type_cache(_build_lift)
_lowerer = type_cache(_build_lower)
