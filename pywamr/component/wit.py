"""Render resolved component types as WIT text (for `pywamr inspect` and error messages).

Sits on top of `types.py` and the `ComponentType` that validation produces; used by
`cli/inspect.py`. Prints a component's imports and exports as a `world`: functions as
`name: func(...) -> T;`, interface instances as `interface { ... }` blocks holding their type
definitions, resources (with constructors, methods and static functions grouped under them) and
functions. A defined type prints by the name an export gave it when there is one, otherwise
in full. Deliberately a reader's view, not a WIT round-trip: packages and `use` statements are
not reconstructed. Spec: WIT.md.
"""
from __future__ import annotations

from ..binary.types import FuncType as CoreFuncType, valtype_name
from .names import ParsedName, parse_extern_name
from .types import (BorrowType, ComponentType, CoreModuleType, EnumType, FlagsType, FuncType,
                    FutureType, InstanceType, ListType, MapType, OptionType, OwnType, PrimValType,
                    RecordType, ResourceType, ResultType, StreamType, TupleType, TypeBound,
                    VariantType)

INDENT = "  "
_NAMED = (RecordType, VariantType, EnumType, FlagsType)


class Names:
    """Names of types in scope: by identity first, then by structural equality."""

    def __init__(self, parent: Names | None = None):
        self.parent = parent
        self.by_id: dict[int, str] = {}
        self.by_value: dict = {}
        self.resources: dict[int, str] = {}
        self.keep: list = []

    def add(self, t, name: str) -> None:
        self.keep.append(t)
        if isinstance(t, ResourceType):
            self.resources.setdefault(id(t), name)
            return
        self.by_id.setdefault(id(t), name)
        try:
            self.by_value.setdefault(t, name)
        except TypeError:
            pass

    def lookup(self, t) -> str | None:
        scope = self
        while scope is not None:
            if isinstance(t, ResourceType):
                name = scope.resources.get(id(t))
            else:
                name = scope.by_id.get(id(t))
                if name is None:
                    try:
                        name = scope.by_value.get(t)
                    except TypeError:
                        name = None
            if name is not None:
                return name
            scope = scope.parent
        return None


def valtype(t, names: Names) -> str:
    """A value type as WIT: named types by name, others spelled out."""
    if t is None:
        return "_"
    if isinstance(t, PrimValType):
        return t.name
    name = names.lookup(t) if isinstance(t, _NAMED + (ListType, MapType, TupleType, OptionType,
                                                         ResultType)) else None
    if name is not None:
        return name
    return _spelled(t, names)


def _spelled(t, names: Names) -> str:
    """A type spelled out at its top (its parts by name where they have one)."""
    if isinstance(t, PrimValType):
        return t.name
    if isinstance(t, ListType):
        inner = valtype(t.elem, names)
        return f"list<{inner}>" if t.length is None else f"list<{inner}, {t.length}>"
    if isinstance(t, MapType):
        return f"map<{valtype(t.key, names)}, {valtype(t.value, names)}>"
    if isinstance(t, TupleType):
        return f"tuple<{', '.join(valtype(e, names) for e in t.elems)}>"
    if isinstance(t, OptionType):
        return f"option<{valtype(t.t, names)}>"
    if isinstance(t, ResultType):
        if t.ok is None and t.error is None:
            return "result"
        if t.error is None:
            return f"result<{valtype(t.ok, names)}>"
        return f"result<{valtype(t.ok, names)}, {valtype(t.error, names)}>"
    if isinstance(t, (OwnType, BorrowType)):
        kind = "own" if isinstance(t, OwnType) else "borrow"
        return f"{kind}<{resource_name(t.resource, names)}>"
    if isinstance(t, StreamType):
        return "stream" if t.t is None else f"stream<{valtype(t.t, names)}>"
    if isinstance(t, FutureType):
        return "future" if t.t is None else f"future<{valtype(t.t, names)}>"
    return _anonymous(t, names)


def resource_name(r: ResourceType, names: Names) -> str:
    return names.lookup(r) or r.name


def _anonymous(t, names: Names) -> str:
    """A record/variant/enum/flags with no name in scope, spelled inline."""
    body = ", ".join(_members(t, names))
    kind = {RecordType: "record", VariantType: "variant", EnumType: "enum",
            FlagsType: "flags"}.get(type(t), type(t).__name__)
    return f"{kind} {{ {body} }}"


def _members(t, names: Names) -> list[str]:
    if isinstance(t, RecordType):
        return [f"{f.label}: {valtype(f.t, names)}" for f in t.fields]
    if isinstance(t, VariantType):
        return [c.label if c.t is None else f"{c.label}({valtype(c.t, names)})"
                for c in t.cases]
    return list(t.labels)


def func_signature(ft: FuncType, names: Names, skip_self: bool = False) -> str:
    params = ft.params[1:] if skip_self else ft.params
    text = "(" + ", ".join(f"{n}: {valtype(t, names)}" for n, t in params) + ")"
    if ft.result is not None:
        text += f" -> {valtype(ft.result, names)}"
    return ("async func" if ft.is_async else "func") + text


def type_definition(name: str, t, names: Names) -> str:
    """`record name { ... }` and the like, `resource name;`, or `type name = T;`."""
    if isinstance(t, ResourceType):
        return f"resource {name};"
    if isinstance(t, _NAMED):
        kind = {RecordType: "record", VariantType: "variant", EnumType: "enum",
                FlagsType: "flags"}[type(t)]
        members = _members(t, names)
        if not members:
            return f"{kind} {name} {{}}"
        return f"{kind} {name} {{ " + ", ".join(members) + " }"
    return f"type {name} = {_spelled(t, names)};"


def _item_lines(name: str, ext, names: Names, depth: int) -> list[str]:
    pad = INDENT * depth
    if isinstance(ext, FuncType):
        return [f"{pad}{name}: {func_signature(ext, names)};"]
    if isinstance(ext, InstanceType):
        return [f"{pad}{name}: interface {{"] + instance_body(ext, names, depth + 1) + \
            [f"{pad}}}"]
    if isinstance(ext, ComponentType):
        return [f"{pad}{name}: component {{"] + component_body(ext, names, depth + 1) + \
            [f"{pad}}}"]
    if isinstance(ext, CoreModuleType):
        return [f"{pad}{name}: core module {{"] + core_module_lines(ext, depth + 1) + \
            [f"{pad}}}"]
    if isinstance(ext, TypeBound):
        return [pad + type_definition(name, ext.t, names)]
    return [f"{pad}{name}: {ext!r};"]


def instance_body(inst: InstanceType, outer: Names, depth: int) -> list[str]:
    """Type definitions, resources (with their functions) and functions of an instance."""
    names = Names(outer)
    for name, ext in inst.exports:
        if isinstance(ext, TypeBound):
            names.add(ext.t, name)
    grouped: dict[str, list] = {}
    plain = []
    for name, ext in inst.exports:
        parsed = _parse(name)
        if parsed is not None and parsed.kind in ("constructor", "method", "static") \
                and isinstance(ext, FuncType):
            grouped.setdefault(parsed.resource, []).append((parsed, ext))
        else:
            plain.append((name, ext))
    pad = INDENT * depth
    lines = []
    for name, ext in plain:
        if isinstance(ext, TypeBound) and isinstance(ext.t, ResourceType) and name in grouped:
            lines.append(f"{pad}resource {name} {{")
            for parsed, ft in grouped.pop(name):
                lines.append(INDENT * (depth + 1) + _resource_function(parsed, ft, names))
            lines.append(f"{pad}}}")
        else:
            lines += _item_lines(name, ext, names, depth)
    for resource, funcs in grouped.items():      # functions of a resource not in this scope
        for parsed, ft in funcs:
            lines.append(f"{pad}// {resource}: " + _resource_function(parsed, ft, names))
    return lines


def _resource_function(parsed: ParsedName, ft: FuncType, names: Names) -> str:
    if parsed.kind == "constructor":
        sig = func_signature(ft, names)
        return "constructor" + sig[len("func"):sig.index(")") + 1] + ";"
    if parsed.kind == "method":
        return f"{parsed.label}: {func_signature(ft, names, skip_self=True)};"
    return f"{parsed.label}: static {func_signature(ft, names)};"


def _parse(name: str):
    try:
        return parse_extern_name(name)
    except Exception:       # noqa: BLE001 - a name validation accepted but we cannot split
        return None


def component_body(ct: ComponentType, outer: Names, depth: int) -> list[str]:
    """`import name: ...;` / `export name: ...;` lines (annotated function names such as
    `[method]r.m` are printed as they are: a world has no resource blocks of its own)."""
    names = Names(outer)
    lines = []
    pad = INDENT * depth
    for kind, items in (("import", ct.imports), ("export", ct.exports)):
        for name, ext in items:
            if isinstance(ext, TypeBound):
                names.add(ext.t, name)
            item = _item_lines(name, ext, names, 0)
            lines.append(f"{pad}{kind} {item[0]}")
            lines += [pad + line for line in item[1:]]
    return lines


def world(ct: ComponentType, name: str = "root") -> str:
    """The imports and exports of a component type as a WIT world."""
    return "\n".join([f"world {name} {{"] + component_body(ct, Names(), 1) + ["}"]) + "\n"


def core_module_lines(mt: CoreModuleType, depth: int) -> list[str]:
    """`import "m" "n" (func (param i32));` / `export "n" (memory 1);` lines."""
    pad = INDENT * depth
    lines = [f'{pad}(import "{m}" "{n}" {core_type(t)})' for m, n, t in mt.imports]
    lines += [f'{pad}(export "{n}" {core_type(t)})' for n, t in mt.exports]
    return lines


def core_type(t) -> str:
    """A core extern type in the text format (empty param/result lists left out)."""
    if isinstance(t, CoreFuncType):
        text = "(func"
        if t.params:
            text += " (param " + " ".join(valtype_name(p) for p in t.params) + ")"
        if t.results:
            text += " (result " + " ".join(valtype_name(r) for r in t.results) + ")"
        return text + ")"
    return str(t)
