"""Component Model types, resolved: the structural shapes that validation produces and the
canonical ABI, the plan and the Python bindings consume.

Sits above the core layers and below everything else under `pywamr/component`. The decoder
produces syntax with type *indices*; validation resolves those into the objects defined here, so
no later phase ever looks up a type index again. Value types are frozen records (`record.py`) compared
structurally, except resource types, whose identity is the object itself (two `resource`
definitions are distinct types even when their shapes match, as the Explainer says).

Deliberately holds no layout (size, alignment, flat types): `abi/layout.py` computes those once
per type and caches them. Spec: Explainer.md "Type Definitions"; CanonicalABI.md "Despecialization".
"""
from __future__ import annotations

from ..record import record

PRIMITIVE_NAMES = ("bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64",
                   "f32", "f64", "char", "string", "error-context")


class ValType:
    """Base of every component value type."""
    __slots__ = ()


@record
class PrimValType(ValType):
    name: str       # one of PRIMITIVE_NAMES

    def __str__(self) -> str:
        return self.name


BOOL, S8, U8, S16, U16, S32, U32, S64, U64, F32, F64, CHAR, STRING, ERROR_CONTEXT = (
    PrimValType(n) for n in PRIMITIVE_NAMES)
PRIMITIVES = {t.name: t for t in (BOOL, S8, U8, S16, U16, S32, U32, S64, U64, F32, F64, CHAR,
                                  STRING, ERROR_CONTEXT)}


@record
class ListType(ValType):
    elem: ValType
    length: int | None = None       # fixed-length list (`list<T, N>`) when not None


@record
class MapType(ValType):
    """`map<K, V>` (the Component Model maps proposal): a list of key/value pairs, with no
    guarantee of unique keys or of order. `key` is one of `MAP_KEY_NAMES` (validation checks)."""
    key: ValType
    value: ValType


# the primitive types a map key may have (Explainer.md, `keytype`)
MAP_KEY_NAMES = frozenset(("bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64",
                           "char", "string"))


@record
class FieldType:
    label: str
    t: ValType


@record
class RecordType(ValType):
    fields: tuple[FieldType, ...]


@record
class TupleType(ValType):
    elems: tuple[ValType, ...]


@record
class CaseType:
    label: str
    t: ValType | None = None


@record
class VariantType(ValType):
    cases: tuple[CaseType, ...]


@record
class EnumType(ValType):
    labels: tuple[str, ...]


@record
class OptionType(ValType):
    t: ValType


@record
class ResultType(ValType):
    ok: ValType | None = None
    error: ValType | None = None


@record
class FlagsType(ValType):
    labels: tuple[str, ...]


class ResourceType:
    """A resource type. Identity is the object: never compared structurally.

    `name` is for messages only. `dtor` is the core function (or None) that `resource.drop` of an
    owned handle calls with the rep, set when a component defines the resource; `rep` is the
    representation type (only `i32` exists today). `instance` is the component instance that
    defined it (None for host resources); set by instantiation, used for the may-enter rules.
    `host_class` is set for a resource the host implements (its values are Python objects of
    that class, kept in `host_table` by rep)."""

    __slots__ = ("name", "dtor", "rep", "instance", "host_class", "host_table", "__weakref__")

    def __init__(self, name: str = "resource", *, dtor=None, rep: str = "i32", instance=None,
                 host_class=None):
        self.name = name
        self.dtor = dtor
        self.rep = rep
        self.instance = instance
        self.host_class = host_class
        self.host_table = None      # a host resource's objects by rep (see component/instance)

    def __repr__(self) -> str:
        return f"<resource {self.name} at {id(self):#x}>"


@record(eq=False)
class _HandleBase(ValType):
    resource: ResourceType

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.resource is other.resource

    def __hash__(self) -> int:
        return hash((type(self).__name__, id(self.resource)))


@record(eq=False)
class OwnType(_HandleBase):
    pass


@record(eq=False)
class BorrowType(_HandleBase):
    pass


@record
class StreamType(ValType):
    t: ValType | None       # async only: recognised, refused as not supported by the ABI


@record
class FutureType(ValType):
    t: ValType | None


@record
class FuncType:
    """A component function type: named parameters, and at most one (unnamed) result."""
    params: tuple[tuple[str, ValType], ...]
    result: ValType | None = None
    is_async: bool = False

    @property
    def param_types(self) -> tuple[ValType, ...]:
        return tuple(t for _, t in self.params)

    @property
    def result_types(self) -> tuple[ValType, ...]:
        return () if self.result is None else (self.result,)


# ---- extern descriptors of component and instance types -------------------------------------

@record
class CoreModuleType:
    """A core module's type: imports as (module, name, core extern type), exports as (name,
    core extern type); the core extern types are those of `pywamr.binary.types`."""
    imports: tuple = ()
    exports: tuple = ()


@record
class InstanceType:
    """A component instance's type: exports by name, each an extern type (FuncType, ValType,
    TypeBound, InstanceType, ComponentType or CoreModuleType)."""
    exports: tuple[tuple[str, object], ...] = ()

    def export(self, name: str):
        for n, t in self.exports:
            if n == name:
                return t
        return None


@record
class ComponentType:
    imports: tuple[tuple[str, object], ...] = ()
    exports: tuple[tuple[str, object], ...] = ()


@record(eq=False)
class TypeBound:
    """An imported or exported type: `(eq T)` carries the type, `(sub resource)` a fresh
    abstract resource (the ResourceType that instantiation substitutes)."""
    kind: str                  # "eq" | "sub-resource"
    t: object = None           # the ValType or ResourceType it is bound to


# ---- despecialization -----------------------------------------------------------------------

def despecialize(t: ValType) -> ValType:
    """Spec: CanonicalABI.md "Despecialization": tuple, enum, option and result become records
    and variants, and a map the list of (key, value) tuples, so the ABI handles only the
    general shapes."""
    if isinstance(t, TupleType):
        return RecordType(tuple(FieldType(str(i), e) for i, e in enumerate(t.elems)))
    if isinstance(t, EnumType):
        return VariantType(tuple(CaseType(label, None) for label in t.labels))
    if isinstance(t, OptionType):
        return VariantType((CaseType("none", None), CaseType("some", t.t)))
    if isinstance(t, ResultType):
        return VariantType((CaseType("ok", t.ok), CaseType("error", t.error)))
    if isinstance(t, MapType):
        return ListType(TupleType((t.key, t.value)))
    return t

