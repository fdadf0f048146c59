"""Type checking of resolved component types: resource substitution and extern subtyping.

Part of component validation: `validate.py` uses `is_subtype` for `instantiate` arguments and
export ascriptions, and `substitute` / `refresh_exports` to give an instantiated component's
exports their types (imported resources replaced by the arguments, exported abstract resources
replaced by fresh ones: resource types are generative). Works only on the objects of
`types.py`, never on indices. Spec: Explainer.md "Type Checking" (structural equality except
resources, subtyping of instance, component and module types by names).
"""
from __future__ import annotations

import copy

from ..binary.types import FuncType as CoreFuncType, extern_type_matches
from .types import (BorrowType, CaseType, ComponentType, CoreModuleType, EnumType, FieldType,
                    FlagsType, FuncType, FutureType, InstanceType, ListType, MapType, OptionType,
                    OwnType, RecordType, ResourceType, ResultType, StreamType, TupleType, TypeBound,
                    VariantType)


class TypeMismatch(Exception):
    """Raised inside the subtype check; validate turns it into a ValidationError."""


# ---- substitution -----------------------------------------------------------------------------

def substitute(t, mapping: dict, memo: dict | None = None):
    """`t` with every resource in `mapping` (ResourceType -> ResourceType) replaced, and every
    `(eq T)`-imported type bound to an argument (`mapping[id(T)] = (T, argument)`).

    Returns `t` itself when nothing changes, and the same new object for every occurrence of
    one original within a call (or within all calls sharing `memo`), so object identity (used
    for external visibility) is kept wherever possible; shared parts are visited once."""
    if not mapping or t is None:
        return t
    if memo is None:
        memo = {}
    return _substitute(t, mapping, memo)


def _substitute(t, mapping: dict, memo: dict):
    if t is None:
        return None
    if isinstance(t, ResourceType):
        return mapping.get(t, t)
    replaced = mapping.get(id(t))
    if replaced is not None and replaced[0] is t:
        return replaced[1]
    done = memo.get(id(t))
    if done is not None and done[0] is t:
        return done[1]
    result = _rebuild(t, mapping, memo)
    memo[id(t)] = (t, result)
    return result


def _rebuild(t, mapping: dict, memo: dict):
    def sub(x):
        return _substitute(x, mapping, memo)

    if isinstance(t, (OwnType, BorrowType)):
        r = mapping.get(t.resource, t.resource)
        return t if r is t.resource else type(t)(r)
    if isinstance(t, ListType):
        e = sub(t.elem)
        return t if e is t.elem else ListType(e, t.length)
    if isinstance(t, MapType):
        value = sub(t.value)        # keys are primitive: nothing to substitute
        return t if value is t.value else MapType(t.key, value)
    if isinstance(t, RecordType):
        fields = tuple(FieldType(f.label, sub(f.t)) for f in t.fields)
        return t if all(a.t is b.t for a, b in zip(fields, t.fields)) else RecordType(fields)
    if isinstance(t, VariantType):
        cases = tuple(CaseType(c.label, sub(c.t)) for c in t.cases)
        return t if all(a.t is b.t for a, b in zip(cases, t.cases)) else VariantType(cases)
    if isinstance(t, TupleType):
        elems = tuple(sub(e) for e in t.elems)
        return t if all(a is b for a, b in zip(elems, t.elems)) else TupleType(elems)
    if isinstance(t, (OptionType, StreamType, FutureType)):
        inner = sub(t.t)
        return t if inner is t.t else type(t)(inner)
    if isinstance(t, ResultType):
        ok, err = sub(t.ok), sub(t.error)
        return t if ok is t.ok and err is t.error else ResultType(ok, err)
    if isinstance(t, FuncType):
        params = tuple((n, sub(p)) for n, p in t.params)
        result = sub(t.result)
        if result is t.result and all(a[1] is b[1] for a, b in zip(params, t.params)):
            return t
        return FuncType(params, result, t.is_async)
    if isinstance(t, TypeBound):
        inner = sub(t.t)
        return t if inner is t.t else TypeBound(t.kind, inner)
    if isinstance(t, InstanceType):
        exports = _sub_items(t.exports, sub)
        return t if exports is t.exports else InstanceType(exports)
    if isinstance(t, ComponentType):
        imports, exports = _sub_items(t.imports, sub), _sub_items(t.exports, sub)
        if imports is t.imports and exports is t.exports:
            return t
        return ComponentType(imports, exports)
    return t


def _sub_items(items: tuple, sub) -> tuple:
    new = tuple((n, sub(e)) for n, e in items)
    return items if all(a[1] is b[1] for a, b in zip(new, items)) else new


def abstract_resources(t, out: list) -> list:
    """The resources that `(sub resource)` bounds inside `t` introduce, outermost first."""
    if isinstance(t, TypeBound):
        if t.kind == "sub-resource":
            out.append(t.t)
    elif isinstance(t, InstanceType):
        for _, e in t.exports:
            abstract_resources(e, out)
    return out


def refresh_exports(exports, mapping: dict, fresh: list | None = None) -> tuple:
    """Exports of a new instance: each exported abstract resource becomes a fresh resource
    type (generativity), and `mapping` (the import substitution) is applied. The fresh
    resources are appended to `fresh` when it is given."""
    mapping = dict(mapping)
    for _, e in exports:
        for r in abstract_resources(e, []):
            if r not in mapping:
                mapping[r] = ResourceType(r.name, rep=r.rep)
                if fresh is not None:
                    fresh.append(mapping[r])
    memo: dict = {}
    return tuple((n, substitute(e, mapping, memo)) for n, e in exports)


# ---- subtyping --------------------------------------------------------------------------------

def is_subtype(actual, expected, mapping: dict) -> None:
    """Check that an external of type `actual` can be used where `expected` is required.

    `mapping` maps the expected side's abstract resources to the actual resources they are
    bound to; it is extended as `(sub resource)` bounds are matched, and applied to the
    expected side before comparing. Raises TypeMismatch with a reason."""
    original = expected
    expected = substitute(expected, mapping)
    if isinstance(expected, TypeBound):
        _type_bound(actual, expected, mapping, original)
    elif isinstance(expected, FuncType):
        if not isinstance(actual, FuncType):
            raise TypeMismatch(f"expected func, found {_kind(actual)}")
        _func(actual, expected)
    elif isinstance(expected, InstanceType):
        if not isinstance(actual, InstanceType):
            raise TypeMismatch(f"expected instance, found {_kind(actual)}")
        _instance(actual, expected, mapping)
    elif isinstance(expected, ComponentType):
        if not isinstance(actual, ComponentType):
            raise TypeMismatch(f"expected component, found {_kind(actual)}")
        _component(actual, expected, mapping)
    elif isinstance(expected, CoreModuleType):
        if not isinstance(actual, CoreModuleType):
            raise TypeMismatch(f"expected module, found {_kind(actual)}")
        module_subtype(actual, expected)
    else:
        raise TypeMismatch(f"cannot match {_kind(actual)} against {_kind(expected)}")


def _kind(t) -> str:
    if isinstance(t, TypeBound):
        return "type"
    if isinstance(t, FuncType):
        return "func"
    if isinstance(t, InstanceType):
        return "instance"
    if isinstance(t, ComponentType):
        return "component"
    if isinstance(t, CoreModuleType):
        return "module"
    return type(t).__name__


def _type_bound(actual, expected: TypeBound, mapping: dict, original: TypeBound) -> None:
    if not isinstance(actual, TypeBound):
        raise TypeMismatch(f"expected type, found {_kind(actual)}")
    if expected.kind == "sub-resource":
        if not isinstance(actual.t, ResourceType):
            raise TypeMismatch("expected resource, found a defined type")
        mapping[expected.t] = actual.t
        return
    if isinstance(expected.t, ResourceType) or isinstance(actual.t, ResourceType):
        if actual.t is not expected.t:
            raise TypeMismatch("resource types are not the same")
        return
    if actual.t != expected.t:
        raise TypeMismatch("type mismatch in type export")
    # substitute the argument for later uses of the imported type (keyed by identity:
    # structurally equal types are distinct names); the pair keeps the key alive
    for bound in (original, expected):
        if bound.t is not actual.t:
            mapping[id(bound.t)] = (bound.t, actual.t)


def _func(actual: FuncType, expected: FuncType) -> None:
    if len(actual.params) != len(expected.params):
        raise TypeMismatch("expected %d parameters, found %d"
                           % (len(expected.params), len(actual.params)))
    for (an, at), (en, et) in zip(actual.params, expected.params):
        if an != en:
            raise TypeMismatch(f"expected parameter named `{en}`, found `{an}`")
        if at != et:
            raise TypeMismatch(f"type mismatch in function parameter `{en}`")
    if (actual.result is None) != (expected.result is None):
        raise TypeMismatch("expected %s result, found %s" % (
            "a" if expected.result is not None else "no",
            "one" if actual.result is not None else "none"))
    if actual.result != expected.result:
        raise TypeMismatch("type mismatch with result type")
    if actual.is_async != expected.is_async:
        raise TypeMismatch("async and sync function types differ")


def _instance(actual: InstanceType, expected: InstanceType, mapping: dict) -> None:
    have = dict(actual.exports)
    for name, et in expected.exports:
        at = have.get(name)
        if at is None:
            raise TypeMismatch(f"type mismatch in instance export `{name}`: missing export")
        try:
            is_subtype(at, et, mapping)
        except TypeMismatch as e:
            raise TypeMismatch(f"type mismatch in instance export `{name}`: {e}") from None


def _component(actual: ComponentType, expected: ComponentType, mapping: dict) -> None:
    # imports are contravariant: every import of `actual` must be satisfiable by what
    # `expected` promises to supply under the same name
    provided = dict(expected.imports)
    back: dict = {}
    for name, at in actual.imports:
        et = provided.get(name)
        if et is None:
            raise TypeMismatch(f"type mismatch in import `{name}`: missing import")
        try:
            is_subtype(substitute(et, mapping), at, back)
        except TypeMismatch as e:
            raise TypeMismatch(f"type mismatch in import `{name}`: {e}") from None
    have = {n: substitute(t, back) for n, t in actual.exports}
    for name, et in expected.exports:
        at = have.get(name)
        if at is None:
            raise TypeMismatch(f"type mismatch in export `{name}`: missing export")
        try:
            is_subtype(at, et, mapping)
        except TypeMismatch as e:
            raise TypeMismatch(f"type mismatch in export `{name}`: {e}") from None


def module_subtype(actual: CoreModuleType, expected: CoreModuleType) -> None:
    """A module type is a subtype when it imports no more and exports no less."""
    wanted = {(m, n): t for m, n, t in expected.imports}
    for m, n, t in actual.imports:
        et = wanted.get((m, n))
        if et is None:
            raise TypeMismatch(f"type mismatch in import `{m}::{n}`: missing import")
        if not core_extern_matches(et, t):
            raise TypeMismatch(f"type mismatch in import `{m}::{n}`")
    have = dict(actual.exports)
    for n, t in expected.exports:
        at = have.get(n)
        if at is None:
            raise TypeMismatch(f"type mismatch in export `{n}`: missing export")
        if not core_extern_matches(at, t):
            raise TypeMismatch(f"type mismatch in export `{n}`")


def core_extern_matches(actual, expected) -> bool:
    if isinstance(actual, CoreFuncType) or isinstance(expected, CoreFuncType):
        return actual == expected
    return extern_type_matches(actual, expected)


def contains_borrow(t) -> bool:
    if isinstance(t, BorrowType):
        return True
    return any(contains_borrow(c) for c in children(t))


def children(t) -> tuple:
    """The value types directly inside `t`."""
    if isinstance(t, ListType):
        return (t.elem,)
    if isinstance(t, MapType):
        return (t.key, t.value)
    if isinstance(t, RecordType):
        return tuple(f.t for f in t.fields)
    if isinstance(t, VariantType):
        return tuple(c.t for c in t.cases if c.t is not None)
    if isinstance(t, TupleType):
        return t.elems
    if isinstance(t, (OptionType, StreamType, FutureType)):
        return () if t.t is None else (t.t,)
    if isinstance(t, ResultType):
        return tuple(x for x in (t.ok, t.error) if x is not None)
    return ()


def copy_type(t):
    """A new object equal to `t`, for a type export that introduces a new named type."""
    if isinstance(t, (RecordType, VariantType, ListType, MapType, TupleType, OptionType,
                      ResultType, EnumType, FlagsType)):
        return copy.copy(t)
    if isinstance(t, (OwnType, BorrowType)):
        return type(t)(t.resource)
    return t
