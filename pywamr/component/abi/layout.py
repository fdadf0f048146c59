"""Static layout of component value types: alignment, size, flat types, offsets; once per type.

Sits between `component/types.py` (the resolved types) and the conversion builders (`load.py`,
`store.py`, `flat.py`), which read a type's `Layout` while building its closures, never per
value. `layout(t)` is cached per type object (types are frozen and hashable; resource handle
types hash by resource identity).

Pointers are i32 (`ptr_type` is fixed: 64-bit memories are not supported). Flags follow the
i32-chunk layout for more than 32 labels (one u32 per 32 labels, like earlier versions of the
spec; the current text caps flags at 32, for which both layouts agree); zero labels take no
bytes and no flat values. Stream, future and error-context types get their (i32) layout, but
every conversion of them is refused as not supported.

Deliberately knows nothing of memory or values. Spec: CanonicalABI.md, "Despecialization",
"Type Predicates", "Alignment", "Element Size", "Flattening".
"""
from __future__ import annotations

from ...binary.types import F32 as CORE_F32, F64 as CORE_F64, FuncType as CoreFuncType
from ...binary.types import I32 as CORE_I32, I64 as CORE_I64
from ..types import (BorrowType, EnumType, FlagsType, FuncType, ListType, MapType, OptionType,
                     OwnType, PrimValType, RecordType, ResultType, StreamType, FutureType,
                     TupleType, ValType, VariantType, despecialize, U8, U16, U32)
from .options import MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, PTR_SIZE

_PRIM_SIZES = {"bool": 1, "s8": 1, "u8": 1, "s16": 2, "u16": 2, "s32": 4, "u32": 4,
               "s64": 8, "u64": 8, "f32": 4, "f64": 8, "char": 4, "string": 2 * PTR_SIZE,
               "error-context": 4}
_PRIM_ALIGN = dict(_PRIM_SIZES, string=PTR_SIZE)
_PRIM_FLAT = {"bool": ("i32",), "s8": ("i32",), "u8": ("i32",), "s16": ("i32",),
              "u16": ("i32",), "s32": ("i32",), "u32": ("i32",), "s64": ("i64",),
              "u64": ("i64",), "f32": ("f32",), "f64": ("f64",), "char": ("i32",),
              "string": ("i32", "i32"), "error-context": ("i32",)}
CORE_TYPE = {"i32": CORE_I32, "i64": CORE_I64, "f32": CORE_F32, "f64": CORE_F64}


class Layout:
    """The static facts of one value type.

    `alignment`, `size` (the spec's `elem_size`) and `flat` (a tuple of "i32"/"i64"/"f32"/"f64")
    for every type; `offsets` of record/tuple fields; for variants `disc_size`,
    `payload_offset` (from the start of the variant) and `payload_flat` (the joined flat types
    after the discriminant); for flags with more than 16 labels the number of u32 `chunks`
    (fewer labels use one u8 or u16, and `chunks` is 0)."""

    __slots__ = ("t", "alignment", "size", "flat", "offsets", "disc_size", "payload_offset",
                 "payload_flat", "chunks")

    def __init__(self, t, alignment: int, size: int, flat: tuple[str, ...]):
        self.t = t
        self.alignment = alignment
        self.size = size
        self.flat = flat
        self.offsets: tuple[int, ...] = ()
        self.disc_size = 0
        self.payload_offset = 0
        self.payload_flat: tuple[str, ...] = ()
        self.chunks = 0

    def __repr__(self) -> str:
        return f"<Layout {self.t} align={self.alignment} size={self.size} flat={self.flat}>"


def layout(t: ValType) -> Layout:
    """The cached `Layout` of `t`."""
    return _layout(t)


def align_to(ptr: int, alignment: int) -> int:
    return -(-ptr // alignment) * alignment


def alignment(t: ValType) -> int:
    """Spec: "Alignment"."""
    return layout(t).alignment


def elem_size(t: ValType) -> int:
    """Spec: "Element Size"."""
    return layout(t).size


def flatten_type(t: ValType) -> tuple[str, ...]:
    """Spec: "Flattening" (`flatten_type`)."""
    return layout(t).flat


def flatten_types(ts) -> tuple[str, ...]:
    return tuple(f for t in ts for f in layout(t).flat)


def discriminant_type(cases) -> PrimValType:
    """The smallest unsigned integer type numbering the cases. Spec: "Alignment"."""
    n = len(cases)
    if not 0 < n < (1 << 32):
        raise ValueError(f"a variant needs between 1 and 2**32-1 cases, not {n}")
    if n <= 1 << 8:
        return U8
    if n <= 1 << 16:
        return U16
    return U32


def join(a: str, b: str) -> str:
    """The tightest core type both flat types fit in. Spec: "Flattening" (`join`)."""
    if a == b:
        return a
    if (a == "i32" and b == "f32") or (a == "f32" and b == "i32"):
        return "i32"
    return "i64"


def contains(t, predicate) -> bool:
    """Spec: "Type Predicates" (`contains`)."""
    if t is None:
        return False
    if predicate(t):
        return True
    d = despecialize(t)
    if isinstance(d, (ListType, StreamType, FutureType)):
        return contains(d.elem if isinstance(d, ListType) else d.t, predicate)
    if isinstance(d, RecordType):
        return any(contains(f.t, predicate) for f in d.fields)
    if isinstance(d, VariantType):
        return any(contains(c.t, predicate) for c in d.cases)
    return False


def contains_borrow(t) -> bool:
    return contains(t, lambda u: isinstance(u, BorrowType))


def contains_handle(t) -> bool:
    return contains(t, lambda u: isinstance(u, (OwnType, BorrowType)))


def contains_async_value(t) -> bool:
    return contains(t, lambda u: isinstance(u, (StreamType, FutureType)))


def needs_memory(t) -> bool:
    """Whether lifting or lowering `t` touches memory (a string or variable-length list)."""
    return contains(t, lambda u: (isinstance(u, PrimValType) and u.name == "string")
                    or (isinstance(u, ListType) and u.length is None)
                    or isinstance(u, MapType))


def flatten_functype(ft: FuncType, context: str) -> CoreFuncType:
    """The core function type of a lifted ("lift") or lowered ("lower") function.

    Spec: "Flattening" (`flatten_functype`, synchronous case)."""
    flat_params = flatten_types(ft.param_types)
    flat_results = flatten_types(ft.result_types)
    if len(flat_params) > MAX_FLAT_PARAMS:
        flat_params = ("i32",)
    if len(flat_results) > MAX_FLAT_RESULTS:
        if context == "lift":
            flat_results = ("i32",)
        else:
            flat_params += ("i32",)
            flat_results = ()
    return CoreFuncType(tuple(CORE_TYPE[f] for f in flat_params),
                        tuple(CORE_TYPE[f] for f in flat_results))


# ---- computing one layout -------------------------------------------------------------------

def _compute(t) -> Layout:
    if isinstance(t, PrimValType):
        return Layout(t, _PRIM_ALIGN[t.name], _PRIM_SIZES[t.name], _PRIM_FLAT[t.name])
    if isinstance(t, (OwnType, BorrowType, StreamType, FutureType)):
        return Layout(t, 4, 4, ("i32",))
    if isinstance(t, ListType):
        return _compute_list(t)
    if isinstance(t, FlagsType):
        return _compute_flags(t)
    if isinstance(t, (TupleType, EnumType, OptionType, ResultType, MapType)):
        inner = layout(despecialize(t))
        result = Layout(t, inner.alignment, inner.size, inner.flat)
        for name in ("offsets", "disc_size", "payload_offset", "payload_flat"):
            setattr(result, name, getattr(inner, name))
        return result
    if isinstance(t, RecordType):
        return _compute_record(t, [f.t for f in t.fields])
    if isinstance(t, VariantType):
        return _compute_variant(t)
    raise TypeError(f"not a component value type: {t!r}")


def _compute_list(t: ListType) -> Layout:
    if t.length is None:
        return Layout(t, PTR_SIZE, 2 * PTR_SIZE, ("i32", "i32"))
    e = layout(t.elem)
    return Layout(t, e.alignment, t.length * e.size, e.flat * t.length)


def _compute_record(t, field_types) -> Layout:
    size = 0
    align = 1
    offsets = []
    flat: list[str] = []
    for ft in field_types:
        f = layout(ft)
        size = align_to(size, f.alignment)
        offsets.append(size)
        size += f.size
        align = max(align, f.alignment)
        flat.extend(f.flat)
    result = Layout(t, align, align_to(size, align), tuple(flat))
    result.offsets = tuple(offsets)
    return result


def _compute_variant(t: VariantType) -> Layout:
    disc = layout(discriminant_type(t.cases))
    max_case_align = 1
    max_case_size = 0
    payload: list[str] = []
    for c in t.cases:
        if c.t is None:
            continue
        c_layout = layout(c.t)
        max_case_align = max(max_case_align, c_layout.alignment)
        max_case_size = max(max_case_size, c_layout.size)
        for i, f in enumerate(c_layout.flat):
            if i < len(payload):
                payload[i] = join(payload[i], f)
            else:
                payload.append(f)
    align = max(disc.alignment, max_case_align)
    payload_offset = align_to(disc.size, max_case_align)
    result = Layout(t, align, align_to(payload_offset + max_case_size, align),
                    ("i32",) + tuple(payload))
    result.disc_size = disc.size
    result.payload_offset = payload_offset
    result.payload_flat = tuple(payload)
    return result


def _compute_flags(t: FlagsType) -> Layout:
    n = len(t.labels)
    if n == 0:
        return Layout(t, 1, 0, ())
    if n <= 8:
        return Layout(t, 1, 1, ("i32",))
    if n <= 16:
        return Layout(t, 2, 2, ("i32",))
    chunks = -(-n // 32)
    result = Layout(t, 4, 4 * chunks, ("i32",) * chunks)
    result.chunks = chunks
    return result


def type_cache(build):
    """A function `get(t)` returning `build(t)`, built once per type and kept (the table is
    cleared past 50,000 types, so hostile components cannot grow it without bound)."""
    table: dict = {}

    def get(t):
        try:
            return table[t]
        except KeyError:
            pass
        if len(table) > 50_000:
            table.clear()
        result = table[t] = build(t)
        return result
    return get


_layout = type_cache(_compute)
