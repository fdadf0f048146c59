"""External visibility of types in imports and exports (the avoidance problem).

Part of component validation. Records, variants, enums, flags and resource handles used in
the type of an import or export must have an externally visible name: an import or export
introduced them, or an alias out of an imported or exported instance. The scope tracks those
names by object identity (`Scope.visible`); this module walks a type and checks it. Instance
type declarators defer the check until the type is imported or exported (an unexportable
instance type stays definable); component types check eagerly. Spec: Explainer.md "External
Visibility of Types".
"""
from __future__ import annotations

from ..errors import ValidationError
from .scope import NAMED_KINDS, Scope, _parts
from .types import BorrowType, ComponentType, InstanceType, OwnType, TypeBound


def check_visible(scope: Scope, t, how: str, sort: str, contents_only: bool = False) -> None:
    """Raise unless every named type in `t` is visible for an import (`how` "import": named
    by an import) or an export (named by an import or an export). `contents_only` checks
    what `t` refers to but not `t` itself (a type export names `t`)."""
    if scope.kind == "module-type":
        return
    if _invalid(scope, t, how, contents_only, frozenset()):
        message = f"{sort} not valid to be used as {how}"
        if scope.kind == "instance-type":
            scope.deferred.append(message)
            return
        raise ValidationError(message)


def _invalid(scope: Scope, t, how: str, contents_only: bool, extra) -> bool:
    allowed = ("import",) if how == "import" else ("import", "export")
    stack = list(_parts(t)) if contents_only else [t]
    seen: set = set()
    while stack:
        x = stack.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, NAMED_KINDS):
            if scope.visibility(x) in allowed or id(x) in extra:
                continue
            if isinstance(x, (OwnType, BorrowType)) and (
                    id(x.resource) in extra or scope.visible_resources.get(x.resource) in allowed):
                continue
            return True
        if isinstance(x, InstanceType):
            if _instance_invalid(scope, x, how, extra):
                return True
            continue
        if isinstance(x, ComponentType):
            continue        # component types were checked eagerly when defined
        stack.extend(_parts(x))
    return False


def _instance_invalid(scope: Scope, inst: InstanceType, how: str, extra) -> bool:
    if id(inst) in scope.unexportable:
        return True
    if how == "import":
        return False    # an imported instance type was checked by its own declarators
    named = set(extra)
    for _, e in inst.exports:
        if isinstance(e, TypeBound) and e.t is not None:
            named.add(id(e.t))        # the instance's type export names it (and a
                                      # resource's handles)
    frozen = frozenset(named)
    for _, e in inst.exports:
        if isinstance(e, TypeBound):
            if e.t is not None and _invalid(scope, e.t, how, True, frozen):
                return True
        elif _invalid(scope, e, how, False, frozen):
            return True
    return False
