"""Index spaces of one component validation scope, and the resolved core types they hold.

Part of component validation. A `Scope` is a component definition, a component type or an
instance type (or a core module type, which uses only its core type space); scopes chain to
their parent for outer aliases. Index spaces grow in definition order, as Explainer.md "Index
Spaces" says. The scope also remembers which type objects have an externally visible name
(Explainer.md "External Visibility of Types"): named types are tracked by object identity,
since the resolved types of `types.py` compare structurally.

Deliberately holds no rules: `validate.py`, `resolve.py` and `canon.py` apply them.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import NotSupported, ValidationError
from .names import NameSet
from .types import (BorrowType, ComponentType, EnumType, FlagsType, FuncType, InstanceType,
                    OwnType, RecordType, ResourceType, TypeBound, VariantType)

NAMED_KINDS = (RecordType, VariantType, EnumType, FlagsType, OwnType, BorrowType)

SPACE_OF_SORT = {
    "core func": "core_funcs", "core table": "core_tables", "core memory": "core_memories",
    "core global": "core_globals", "core type": "core_types", "core module": "core_modules",
    "core instance": "core_instances", "func": "funcs", "value": "values", "type": "types",
    "component": "components", "instance": "instances",
}


@dataclass(frozen=True, slots=True)
class CoreInstanceType:
    """The exports of a core instance: (name, kind, core type); kind is "func" | "table" |
    "memory" | "global", the type a `pywamr.binary.types` object."""
    exports: tuple = ()

    def export(self, name: str):
        for n, kind, t in self.exports:
            if n == name:
                return kind, t
        return None


class Scope:
    __slots__ = ("kind", "parent", "core_funcs", "core_tables", "core_memories",
                 "core_globals", "core_types", "core_modules", "core_instances", "funcs",
                 "values", "types", "components", "instances", "imports", "exports",
                 "import_names", "export_names", "resource_names", "visible", "defined_resources",
                 "exported_resources", "names", "index_visibility", "instance_visibility",
                 "deferred", "unexportable", "resource_aliases", "sizes", "visible_resources")

    def __init__(self, kind: str, parent: Scope | None = None, names: dict | None = None):
        self.kind = kind                 # "component" | "component-type" | "instance-type"
        self.parent = parent             # | "module-type"
        self.core_funcs: list = []
        self.core_tables: list = []
        self.core_memories: list = []
        self.core_globals: list = []
        self.core_types: list = []
        self.core_modules: list = []
        self.core_instances: list = []
        self.funcs: list = []
        self.values: list = []
        self.types: list = []
        self.components: list = []
        self.instances: list = []
        self.imports: list = []          # (name, extern type)
        self.exports: list = []
        self.import_names = NameSet("import")
        self.export_names = NameSet("export")
        # ("import" | "export", label) -> the resource a plain-named type import/export names
        self.resource_names: dict[tuple[str, str], ResourceType] = {}
        # id(type object) -> (object, "import" | "export"): types with an external name
        self.visible: dict[int, tuple] = {}
        self.visible_resources: dict = {}    # ResourceType -> "import" | "export"
        self.defined_resources: set = set()      # ResourceTypes defined by this component
        self.exported_resources: set = set()
        self.resource_aliases: dict = {}         # see ValidatedComponent.resource_aliases
        # id(value type) -> (type, (elem_size, alignment)), shared by nested scopes
        self.sizes: dict = parent.sizes if parent is not None else {}
        self.names = names or {}
        self.index_visibility: dict[int, str] = {}   # type index -> "import" | "export"
        self.instance_visibility: dict[int, str] = {}   # instance index -> the same
        self.deferred: list[str] = []    # visibility errors an instance type defers
        # id(instance type) -> (instance type, reason): definable, not importable/exportable
        self.unexportable: dict = parent.unexportable if parent is not None else {}

    def space(self, sort: str) -> list:
        attribute = SPACE_OF_SORT.get(sort)
        if attribute is None:       # "core tag": exception handling is not supported
            raise NotSupported(f"the {sort} sort (exception handling) is not supported")
        return getattr(self, attribute)

    def get(self, sort: str, index: int, what: str | None = None):
        space = self.space(sort)
        if index >= len(space):
            raise ValidationError(f"unknown {what or sort} {index}: {sort} index out of bounds")
        return space[index]

    def depth_scopes(self, count: int) -> Scope:
        scope = self
        for _ in range(count):
            scope = scope.parent
            if scope is None:
                raise ValidationError(f"invalid outer alias count of {count}")
        return scope

    def name_of(self, sort: str, index: int, default: str) -> str:
        return self.names.get(sort, {}).get(index, default)

    # ---- external visibility --------------------------------------------------------------
    def make_visible(self, t, how: str) -> None:
        """Mark the named types inside `t` (records, variants, enums, flags, handles) as
        having an external name introduced by an import or an export (`how`), and the
        resources inside it as named (their handles, wherever built, are then visible)."""
        stack = [t]
        seen: set = set()
        while stack:
            x = stack.pop()
            if x is None or id(x) in seen:
                continue
            seen.add(id(x))
            if isinstance(x, NAMED_KINDS) and id(x) not in self.visible:
                self.visible[id(x)] = (x, how)
            if isinstance(x, (OwnType, BorrowType)):
                self.name_resource(x.resource, how)
            elif isinstance(x, ResourceType):
                self.name_resource(x, how)
            else:
                stack.extend(_parts(x))
                if isinstance(x, TypeBound) and isinstance(x.t, ResourceType):
                    self.name_resource(x.t, how)

    def name_resource(self, r: ResourceType, how: str) -> None:
        """A resource with an external name: imported, or exported when it is not defined
        here (a defined resource is named only through the index its export introduces,
        Explainer.md "External Visibility of Types")."""
        if how == "export" and r in self.defined_resources:
            return
        if self.visible_resources.get(r) != "import":
            self.visible_resources[r] = how

    def mark_one(self, t, how: str) -> None:
        if isinstance(t, NAMED_KINDS):
            self.visible[id(t)] = (t, how)

    def visibility(self, t):
        entry = self.visible.get(id(t))
        return None if entry is None or entry[0] is not t else entry[1]


def _parts(t) -> tuple:
    from .subtype import children
    if isinstance(t, FuncType):
        return tuple(p for _, p in t.params) + ((t.result,) if t.result is not None else ())
    if isinstance(t, TypeBound):
        return (t.t,) if not isinstance(t.t, ResourceType) else ()
    if isinstance(t, InstanceType):
        return tuple(e for _, e in t.exports)
    if isinstance(t, ComponentType):
        return tuple(e for _, e in t.imports) + tuple(e for _, e in t.exports)
    return children(t)
