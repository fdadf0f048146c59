"""Syntax of a decoded component: immutable records with type *indices*, nothing validated yet.

Produced by `component/binary.py`, consumed by `component/validate.py` (which resolves every
index into the objects of `component/types.py`) and by the instantiation planner. A component
is the flat list of its definitions in binary order, because that order defines the index
spaces (Binary.md flattens sections the same way); a nested component is a `Component` inside
that list, a subtree, never inlined here. Every definition carries the byte offset where it
starts, for error messages.

Conventions:
  sort        -> str: "core func" | "core table" | "core memory" | "core global" | "core tag"
                 | "core type" | "core module" | "core instance" | "func" | "value" | "type"
                 | "component" | "instance"
  valtype     -> `types.PrimValType` (a primitive, shared with the resolved form since it has
                 no index) or an int type index
  core module -> raw bytes, decoded on demand by `pywamr.binary.decoder` (`CoreModule.decode`)

Deliberately holds no resolved types and checks nothing: index bounds, name rules and typing are
validation's job. Spec: Binary.md; Explainer.md "Component Definitions".
"""
from __future__ import annotations

from ..binary import ast as core_ast
from ..binary.decoder import decode_module
from ..record import field, record

CORE_SORTS = ("core func", "core table", "core memory", "core global", "core tag",
              "core type", "core module", "core instance")
SORTS = CORE_SORTS + ("func", "value", "type", "component", "instance")


@record
class SortIndex:
    sort: str
    index: int


# ---- core modules, core instances, core types ----------------------------------------------

@record
class CoreModule:
    """An embedded core module: its bytes (preamble included), where they start in the file,
    and (when the component decoder produced it) the decoded core module syntax."""
    data: bytes
    offset: int
    module: core_ast.Module | None = None

    def decode(self) -> core_ast.Module:
        """The core module syntax (decoded now if the decoder did not; raises DecodeError with
        offsets relative to the module's first byte)."""
        return self.module if self.module is not None else decode_module(self.data)


@record
class CoreInstantiate:
    """`(instantiate m (with name (instance i))*)`: args are (name, core instance index)."""
    module: int
    args: tuple[tuple[str, int], ...]


@record
class CoreInlineExports:
    """A core instance made of exports: (name, SortIndex with a core sort)."""
    exports: tuple[tuple[str, SortIndex], ...]


@record
class CoreInstance:
    expr: CoreInstantiate | CoreInlineExports
    offset: int


@record
class CoreExportDecl:
    """An export declaration of a core module type: desc as in `core_ast.Import.desc`."""
    name: str
    kind: str
    desc: object


@record
class CoreOuterAlias:
    """`(alias outer ct idx (type))` inside a core module type."""
    count: int
    index: int


@record
class CoreModuleTypeDef:
    """`(module decl*)`: decls are `core_ast.Import` (desc: a core type index for funcs),
    `CoreTypeDecl`, `CoreOuterAlias` and `CoreExportDecl`, in order."""
    decls: tuple


@record
class CoreTypeDecl:
    """A core type defined inside a core module type (a core FuncType or a module type)."""
    t: object


@record
class CoreType:
    """A core type definition: `t` is a `pywamr.binary.types.FuncType` or `CoreModuleTypeDef`."""
    t: object
    offset: int


# ---- component instances --------------------------------------------------------------------

@record
class Instantiate:
    """`(instantiate c (with name sortidx)*)`."""
    component: int
    args: tuple[tuple[str, SortIndex], ...]


@record
class InlineExports:
    """A component instance made of exports: (name, SortIndex); `attributes[i]` holds the
    name attributes of export i (see ExternName), empty when there are none."""
    exports: tuple[tuple[str, SortIndex], ...]
    attributes: tuple = ()


@record
class Instance:
    expr: Instantiate | InlineExports
    offset: int


# ---- aliases ---------------------------------------------------------------------------------

@record
class AliasExport:
    """`(alias export i "name" (sort))` of a component instance."""
    sort: str
    instance: int
    name: str
    offset: int


@record
class AliasCoreExport:
    """`(alias core export i "name" (core sort))` of a core instance."""
    sort: str
    instance: int
    name: str
    offset: int


@record
class AliasOuter:
    """`(alias outer ct idx (sort))`: `count` scopes outward, index `index` of `sort` there."""
    sort: str
    count: int
    index: int
    offset: int


# ---- value types (defvaltype) ----------------------------------------------------------------

@record
class RecordDef:
    fields: tuple[tuple[str, object], ...]


@record
class VariantDef:
    cases: tuple[tuple[str, object], ...]       # (label, valtype or None)


@record
class ListDef:
    elem: object
    length: int | None = None                    # fixed-length list when not None


@record
class TupleDef:
    elems: tuple


@record
class FlagsDef:
    labels: tuple[str, ...]


@record
class EnumDef:
    labels: tuple[str, ...]


@record
class OptionDef:
    t: object


@record
class ResultDef:
    ok: object = None
    error: object = None


@record
class OwnDef:
    type_index: int


@record
class BorrowDef:
    type_index: int


@record
class StreamDef:
    t: object = None


@record
class FutureDef:
    t: object = None


@record
class MapDef:
    """`(map k v)` (the maps proposal); validation checks that `key` is a `keytype`."""
    key: object
    value: object


# ---- function, resource, component and instance types ----------------------------------------

@record
class FuncTypeDef:
    params: tuple[tuple[str, object], ...]
    result: object = None                        # valtype or None
    is_async: bool = False


@record
class ResourceTypeDef:
    """`(resource (rep i32) (dtor f)?)`: rep is a core value type (an int, i32 = 0x7f)."""
    rep: int
    dtor: int | None = None


@record
class TypeBoundDef:
    """`(eq i)` (kind "eq", index i) or `(sub resource)` (kind "sub-resource")."""
    kind: str
    index: int | None = None


@record
class ExternDesc:
    """The type part of an import, export or declaration.

    sort: "core module" | "func" | "value" | "type" | "component" | "instance"; `index` is the
    (core) type index, except for "type" where `bound` says what is declared."""
    sort: str
    index: int | None = None
    bound: TypeBoundDef | None = None


@record
class ExternName:
    """An import/export name with its attributes: (kind, value) pairs, kind one of
    "implements", "versionsuffix", "external-id"."""
    name: str
    attributes: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.name


@record
class ImportDecl:
    name: ExternName
    desc: ExternDesc


@record
class ExportDecl:
    name: ExternName
    desc: ExternDesc


@record
class ComponentTypeDef:
    """`(component decl*)`: decls are CoreType, Type, alias and ImportDecl / ExportDecl."""
    decls: tuple


@record
class InstanceTypeDef:
    """`(instance decl*)`: decls are CoreType, Type, alias and ExportDecl."""
    decls: tuple


@record
class Type:
    """A type definition: `t` is a PrimValType, a *Def value type, FuncTypeDef,
    ComponentTypeDef, InstanceTypeDef or ResourceTypeDef."""
    t: object
    offset: int


# ---- canonical definitions -------------------------------------------------------------------

@record
class CanonOption:
    """kind: "string-encoding" (value "utf8" | "utf16" | "latin1+utf16"), "memory", "realloc",
    "post-return", "callback" (value a core index), "async" (value None)."""
    kind: str
    value: object = None


@record
class CanonLift:
    core_func: int
    options: tuple[CanonOption, ...]
    type_index: int
    offset: int


@record
class CanonLower:
    func: int
    options: tuple[CanonOption, ...]
    offset: int


@record
class CanonResourceNew:
    type_index: int
    offset: int


@record
class CanonResourceDrop:
    type_index: int
    offset: int
    is_async: bool = False


@record
class CanonResourceRep:
    type_index: int
    offset: int


@record
class CanonUnsupported:
    """A canon built-in of a proposal pywamr does not run (async, stream, future,
    error-context, threads): decoded so the file parses; it defines one core function, and
    every later phase refuses it as not supported, naming `name`."""
    name: str
    offset: int
    immediates: tuple = ()


# ---- start, imports, exports -----------------------------------------------------------------

@record
class Start:
    func: int
    args: tuple[int, ...]
    results: int
    offset: int


@record
class Import:
    name: ExternName
    desc: ExternDesc
    offset: int


@record
class Export:
    name: ExternName
    target: SortIndex
    desc: ExternDesc | None
    offset: int


@record
class Component:
    """A component: `definitions` in binary order (see the module docstring); `customs` are
    the custom sections as (name, payload); `offset` is where the preamble starts in the file
    (0 for the outermost), `size` its length in bytes."""
    definitions: tuple
    customs: tuple[tuple[str, bytes], ...] = ()
    offset: int = 0
    size: int = 0
    names: dict = field(default_factory=dict)     # from the component-name section, if any

    def of_type(self, cls) -> list:
        return [d for d in self.definitions if isinstance(d, cls)]


CANON_DEFINES_CORE_FUNC = (CanonLower, CanonResourceNew, CanonResourceDrop, CanonResourceRep,
                           CanonUnsupported)
