"""Python values for component values: typed bindings built once per type.

Sits above the canonical ABI (`abi/`), whose values are plain and structural (records as
dicts, variants as (label, payload) pairs, flags as frozensets, handles as reps), and below the
component `Instance`/`Linker` API. For each WIT type this module builds, once, a `Converter`:
`to_abi(python_value)` checks a Python value and turns it into the ABI's value, `from_abi`
turns an ABI value into the Python value users see:

| WIT type      | Python value                                                            |
|---------------|-------------------------------------------------------------------------|
| record        | a dataclass generated from the type (snake_case fields); input: also a dict |
| variant       | one dataclass per case (`Shape.Circle(value)`), usable with `match`      |
| enum          | an `enum.Enum` (`Color.RED`, value "red")                               |
| flags         | an `enum.Flag` (`Perms.READ | Perms.EXEC`); input: also a set of labels  |
| option<T>     | None or the value; `Some(v)` only where T is itself an option           |
| result<T, E>  | `Ok(v)` / `Err(e)`                                                      |
| list<u8>      | bytes (input: any bytes-like object or list of ints)                    |
| list<T>       | list                                                                    |
| map<K, V>     | dict (input: any mapping); lifted pairs with a repeated key keep the last |
| tuple         | tuple                                                                   |
| char, string  | str                                                                     |
| own / borrow  | a `ResourceObject` for a guest resource; any Python object for a host one |

Wrong values raise `TypeError`/`ValueError` naming the expected WIT type; callers add the
parameter name. Resource conversion needs the runtime (handle ownership, host tables): it goes
through a `ResourceBridge` given when the converters are built.

Deliberately knows nothing of instances or plans: `instance.py` builds classes for resources
and wires functions.
"""
from __future__ import annotations

import dataclasses
import enum
import keyword
import math
import struct
from collections.abc import Mapping
from typing import Any

from .types import (BorrowType, EnumType, FlagsType, ListType, MapType, OptionType, OwnType,
                    PrimValType, RecordType, ResourceType, ResultType, TupleType, ValType,
                    VariantType)


# ---- names ---------------------------------------------------------------------------------

def snake(name: str) -> str:
    """A WIT (kebab-case) name as a Python identifier: `word-count` -> `word_count`."""
    out = name.replace("-", "_").replace(".", "_")
    if keyword.iskeyword(out) or out in ("self",):
        out += "_"
    if out and out[0].isdigit():
        out = "_" + out
    return out


def camel(name: str) -> str:
    """A WIT name as a class name: `http-request` -> `HttpRequest`."""
    parts = [p for p in name.replace(".", "-").split("-") if p]
    out = "".join(p[:1].upper() + p[1:] for p in parts) or "Value"
    return "_" + out if out[0].isdigit() else out


def upper(name: str) -> str:
    out = snake(name).rstrip("_").upper()
    return out if not keyword.iskeyword(out) else out + "_"


# ---- wrapper values --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, slots=True)
class Some:
    """`some(v)` of an option whose payload is itself an option (else plain `v` is used)."""
    value: Any


@dataclasses.dataclass(frozen=True, slots=True)
class Ok:
    value: Any = None


@dataclasses.dataclass(frozen=True, slots=True)
class Err:
    value: Any = None


class ComponentError(Exception):
    """Raised by a call whose function returns `result<T, E>` when it returns `err(e)`;
    `.value` is `e` as a Python value."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


# ---- type names for messages and classes -----------------------------------------------------

class TypeNames:
    """WIT names of the named types of a component (records, variants, enums, flags,
    resources), by object identity; generated classes are cached here too, so each named type
    gets one class per component."""

    def __init__(self):
        self.names: dict[int, tuple[object, str]] = {}
        self.classes: dict[int, object] = {}
        self.converters: dict = {}

    def add(self, t, name: str) -> None:
        self.names.setdefault(id(t), (t, name))

    def name_of(self, t) -> str | None:
        entry = self.names.get(id(t))
        return entry[1] if entry is not None and entry[0] is t else None


def wit_type(t, names: TypeNames | None = None) -> str:
    """The WIT spelling of a type, for messages (named types by name)."""
    if names is not None:
        name = names.name_of(t)
        if name is not None:
            return name
    if isinstance(t, PrimValType):
        return t.name
    if isinstance(t, ListType):
        inner = wit_type(t.elem, names)
        return f"list<{inner}>" if t.length is None else f"list<{inner}, {t.length}>"
    if isinstance(t, MapType):
        return f"map<{wit_type(t.key, names)}, {wit_type(t.value, names)}>"
    if isinstance(t, TupleType):
        return "tuple<" + ", ".join(wit_type(e, names) for e in t.elems) + ">"
    if isinstance(t, OptionType):
        return f"option<{wit_type(t.t, names)}>"
    if isinstance(t, ResultType):
        ok = "_" if t.ok is None else wit_type(t.ok, names)
        if t.error is None:
            return "result" if t.ok is None else f"result<{ok}>"
        return f"result<{ok}, {wit_type(t.error, names)}>"
    if isinstance(t, RecordType):
        return "record { " + ", ".join(f"{f.label}: {wit_type(f.t, names)}"
                                       for f in t.fields) + " }"
    if isinstance(t, VariantType):
        return "variant { " + ", ".join(
            c.label if c.t is None else f"{c.label}({wit_type(c.t, names)})"
            for c in t.cases) + " }"
    if isinstance(t, EnumType):
        return "enum { " + ", ".join(t.labels) + " }"
    if isinstance(t, FlagsType):
        return "flags { " + ", ".join(t.labels) + " }"
    if isinstance(t, (OwnType, BorrowType)):
        inner = (names.name_of(t.resource) if names else None) or t.resource.name
        return inner if isinstance(t, OwnType) else f"borrow<{inner}>"
    return str(t)


# ---- resources -------------------------------------------------------------------------------

class ResourceBridge:
    """How resource handles become Python values; implemented by the component instance.

    `own_to_abi(rt, value)` and `borrow_to_abi(rt, value)` return the rep to pass;
    `own_from_abi(rt, rep)` and `borrow_from_abi(rt, rep)` the Python value to hand out."""

    def own_to_abi(self, rt: ResourceType, value) -> int:
        raise NotImplementedError

    def borrow_to_abi(self, rt: ResourceType, value) -> int:
        raise NotImplementedError

    def own_from_abi(self, rt: ResourceType, rep: int):
        raise NotImplementedError

    def borrow_from_abi(self, rt: ResourceType, rep: int):
        raise NotImplementedError


# ---- converters ------------------------------------------------------------------------------

class Converter:
    __slots__ = ("t", "wit", "to_abi", "from_abi", "py_type")

    def __init__(self, t, wit, to_abi, from_abi, py_type=None):
        self.t = t
        self.wit = wit
        self.to_abi = to_abi
        self.from_abi = from_abi
        self.py_type = py_type     # the generated class, for records, variants, enums, flags


def _identity(v):
    return v


_INT_RANGES = {"s8": (-2**7, 2**7), "u8": (0, 2**8), "s16": (-2**15, 2**15), "u16": (0, 2**16),
               "s32": (-2**31, 2**31), "u32": (0, 2**32), "s64": (-2**63, 2**63),
               "u64": (0, 2**64)}


def _bad(wit: str, value, why: str = "") -> TypeError:
    got = type(value).__name__
    return TypeError(f"expected {wit}, got {got} {value!r:.60}" + (f" ({why})" if why else ""))


def _prim(t: PrimValType) -> Converter:
    name = t.name
    if name == "bool":
        def to_abi(v):
            if not isinstance(v, bool):
                raise _bad("bool", v)
            return v
        return Converter(t, name, to_abi, bool)
    if name in _INT_RANGES:
        lo, hi = _INT_RANGES[name]

        def to_abi(v):
            if not isinstance(v, int) or isinstance(v, bool):
                raise _bad(name, v)
            if not lo <= v < hi:
                raise ValueError(f"expected {name}, got {v} (out of range)")
            return v
        return Converter(t, name, to_abi, _identity)
    if name in ("f32", "f64"):
        def to_abi(v):
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise _bad(name, v)
            return float(v)
        if name == "f32":
            def from_abi(v):
                return v if math.isnan(v) else struct.unpack("<f", struct.pack("<f", v))[0]
            return Converter(t, name, to_abi, from_abi)
        return Converter(t, name, to_abi, _identity)
    if name == "char":
        def to_abi(v):
            if not isinstance(v, str) or len(v) != 1:
                raise _bad("char (a str of one character)", v)
            if 0xD800 <= ord(v) <= 0xDFFF:
                raise ValueError(f"expected char, got the surrogate {v!r}")
            return v
        return Converter(t, name, to_abi, _identity)
    if name == "string":
        def to_abi(v):
            if not isinstance(v, str):
                raise _bad("string", v)
            return v

        def from_abi(v):
            return v if type(v) is str else str(v)      # the ABI may hand a str subclass
        return Converter(t, name, to_abi, from_abi)
    from ..errors import NotSupported
    raise NotSupported(f"values of type {name} are not supported")


def converter(t: ValType, names: TypeNames, bridge: ResourceBridge | None = None,
              _cache: dict | None = None) -> Converter:
    """The converter of `t` (built once per type and names table)."""
    cache = _cache if _cache is not None else names.converters
    key = (id(t), id(bridge))
    hit = cache.get(key)
    if hit is not None and hit.t is t:
        return hit
    conv = _build(t, names, bridge, cache)
    cache[key] = conv
    return conv


def _build(t, names, bridge, cache) -> Converter:
    sub = lambda u: converter(u, names, bridge, cache)  # noqa: E731
    wit = wit_type(t, names)
    if isinstance(t, PrimValType):
        return _prim(t)
    if isinstance(t, ListType):
        return _list(t, wit, sub(t.elem))
    if isinstance(t, MapType):
        return _map(t, wit, sub(t.key), sub(t.value))
    if isinstance(t, TupleType):
        return _tuple(t, wit, [sub(e) for e in t.elems])
    if isinstance(t, RecordType):
        return _record(t, wit, names, [(f.label, sub(f.t)) for f in t.fields])
    if isinstance(t, VariantType):
        return _variant(t, wit, names, [(c.label, None if c.t is None else sub(c.t))
                                        for c in t.cases])
    if isinstance(t, EnumType):
        return _enum(t, wit, names)
    if isinstance(t, FlagsType):
        return _flags(t, wit, names)
    if isinstance(t, OptionType):
        return _option(t, wit, sub(t.t))
    if isinstance(t, ResultType):
        return _result(t, wit, None if t.ok is None else sub(t.ok),
                       None if t.error is None else sub(t.error))
    if isinstance(t, (OwnType, BorrowType)):
        return _handle(t, wit, bridge)
    from ..errors import NotSupported
    raise NotSupported(f"values of type {wit} are not supported")


def _list(t, wit, elem: Converter) -> Converter:
    length = t.length
    is_bytes = isinstance(t.elem, PrimValType) and t.elem.name == "u8"

    def check_length(v):
        if length is not None and len(v) != length:
            raise ValueError(f"expected {wit} of {length} elements, got {len(v)}")

    if is_bytes:
        def to_abi(v):
            if isinstance(v, (bytes, bytearray, memoryview)):
                check_length(v)
                return bytes(v)
            if isinstance(v, (list, tuple)):
                check_length(v)
                try:
                    return bytes(v)
                except (ValueError, TypeError):
                    raise _bad(wit, v, "elements must be ints in [0, 256)") from None
            raise _bad(wit, v)
        return Converter(t, wit, to_abi, bytes)
    elem_to, elem_from = elem.to_abi, elem.from_abi

    def to_abi(v):
        if isinstance(v, (str, bytes, dict)) or not hasattr(v, "__iter__"):
            raise _bad(wit, v)
        out = [elem_to(x) for x in v]
        check_length(out)
        return out

    def from_abi(v):
        return [elem_from(x) for x in v]
    return Converter(t, wit, to_abi, from_abi)


def _map(t, wit, key: Converter, value: Converter) -> Converter:
    """map<K, V> as a dict. Lowering takes any mapping (its keys are unique, so the pairs
    lowered are too); lifting builds a dict in the order of the pairs, so where the guest
    repeats a key its *last* pair gives the value, as the Explainer allows bindings to do
    ("Specialized value types": a map carries no guarantee of unique keys)."""
    key_to, key_from = key.to_abi, key.from_abi
    value_to, value_from = value.to_abi, value.from_abi

    def to_abi(v):
        if not isinstance(v, Mapping):
            raise _bad(wit, v, "a dict")
        out = []
        for k, x in v.items():
            try:
                k_abi = key_to(k)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"key {k!r:.60}: {exc}") from None
            try:
                out.append((k_abi, value_to(x)))
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"value of key {k!r:.60}: {exc}") from None
        return out

    def from_abi(v):
        return {key_from(k): value_from(x) for k, x in v}
    return Converter(t, wit, to_abi, from_abi)


def _tuple(t, wit, elems: list[Converter]) -> Converter:
    tos = [c.to_abi for c in elems]
    froms = [c.from_abi for c in elems]
    n = len(elems)

    def to_abi(v):
        if not isinstance(v, (tuple, list)) or len(v) != n:
            raise _bad(wit, v, f"a tuple of {n}")
        return tuple(f(x) for f, x in zip(tos, v))

    def from_abi(v):
        return tuple(f(x) for f, x in zip(froms, v))
    return Converter(t, wit, to_abi, from_abi)


def _record(t, wit, names: TypeNames, fields) -> Converter:
    cls = names.classes.get(id(t))
    if cls is None or getattr(cls, "__wit_type__", None) is not t:
        cls_name = camel(names.name_of(t) or "record")
        cls = dataclasses.make_dataclass(
            cls_name, [(snake(label), Any) for label, _ in fields], slots=True)
        cls.__wit_type__ = t
        cls.__doc__ = f"WIT {wit}"
        names.classes[id(t)] = cls
    plan = [(label, snake(label), c.to_abi, c.from_abi) for label, c in fields]
    field_names = {py for _, py, _, _ in plan} | {label for label, _, _, _ in plan}

    def to_abi(v):
        out = {}
        if isinstance(v, dict):
            extra = set(v) - field_names
            if extra:
                raise ValueError(f"unknown field {sorted(extra)[0]!r} for {wit}")
            for label, py, to, _ in plan:
                if py in v:
                    x = v[py]
                elif label in v:
                    x = v[label]
                else:
                    raise ValueError(f"missing field {py!r} of {wit}")
                out[label] = _field(to, x, py)
            return out
        if not dataclasses.is_dataclass(v) or isinstance(v, type):
            raise _bad(wit, v)
        for label, py, to, _ in plan:
            try:
                x = getattr(v, py)
            except AttributeError:
                raise ValueError(f"missing field {py!r} of {wit}") from None
            out[label] = _field(to, x, py)
        return out

    def from_abi(v):
        return cls(*[fr(v[label]) for label, _, _, fr in plan])
    return Converter(t, wit, to_abi, from_abi, cls)


def _field(to, x, name):
    try:
        return to(x)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"field {name!r}: {exc}") from None


def _variant(t, wit, names: TypeNames, cases) -> Converter:
    base = names.classes.get(id(t))
    if base is None or getattr(base, "__wit_type__", None) is not t:
        base = type(camel(names.name_of(t) or "variant"), (), {"__slots__": (),
                                                                "__doc__": f"WIT {wit}"})
        base.__wit_type__ = t
        for label, conv in cases:
            spec = [("value", Any)] if conv is not None else []
            case_cls = dataclasses.make_dataclass(camel(label), spec, bases=(base,),
                                                  frozen=True, slots=True)
            case_cls.__wit_label__ = label
            case_cls.__qualname__ = f"{base.__name__}.{case_cls.__name__}"
            setattr(base, camel(label), case_cls)
        names.classes[id(t)] = base
    by_class = {}
    by_label = {}
    for label, conv in cases:
        case_cls = getattr(base, camel(label))
        to = conv.to_abi if conv is not None else None
        fr = conv.from_abi if conv is not None else None
        by_class[case_cls] = (label, to)
        by_label[label] = (case_cls, fr)

    def to_abi(v):
        entry = by_class.get(type(v))
        if entry is None:
            raise _bad(wit, v, f"one of {', '.join(base.__name__ + '.' + camel(l) for l in by_label)}")
        label, to = entry
        return (label, None if to is None else _field(to, v.value, label))

    def from_abi(v):
        label, payload = v
        case_cls, fr = by_label[label]
        return case_cls() if fr is None else case_cls(fr(payload))
    return Converter(t, wit, to_abi, from_abi, base)


def _enum(t, wit, names: TypeNames) -> Converter:
    cls = names.classes.get(id(t))
    if cls is None or getattr(cls, "__wit_type__", None) is not t:
        cls = enum.Enum(camel(names.name_of(t) or "enum"), [(upper(l), l) for l in t.labels])
        cls.__wit_type__ = t
        names.classes[id(t)] = cls
    labels = set(t.labels)

    def to_abi(v):
        if isinstance(v, cls):
            return v.value
        if isinstance(v, str) and v in labels:
            return v
        raise _bad(wit, v)

    def from_abi(v):
        return cls(v)
    return Converter(t, wit, to_abi, from_abi, cls)


def _flags(t, wit, names: TypeNames) -> Converter:
    cls = names.classes.get(id(t))
    if cls is None or getattr(cls, "__wit_type__", None) is not t:
        cls = enum.Flag(camel(names.name_of(t) or "flags"),
                        [(upper(l), 1 << i) for i, l in enumerate(t.labels)])
        cls.__wit_type__ = t
        names.classes[id(t)] = cls
    label_of = {cls[upper(l)]: l for l in t.labels}
    members = [(cls[upper(l)], l) for l in t.labels]
    labels = set(t.labels)

    def to_abi(v):
        if isinstance(v, cls):
            return frozenset(l for m, l in members if m in v)
        if isinstance(v, (set, frozenset, list, tuple)):
            out = set()
            for x in v:
                if isinstance(x, cls) and x in label_of:
                    out.add(label_of[x])
                elif isinstance(x, str) and x in labels:
                    out.add(x)
                else:
                    raise _bad(wit, v, f"unknown flag {x!r}")
            return frozenset(out)
        raise _bad(wit, v)

    def from_abi(v):
        out = cls(0)
        for m, l in members:
            if l in v:
                out |= m
        return out
    return Converter(t, wit, to_abi, from_abi, cls)


def _is_optionlike(t) -> bool:
    return isinstance(t, OptionType)


def _option(t, wit, inner: Converter) -> Converter:
    to, fr = inner.to_abi, inner.from_abi
    if _is_optionlike(t.t):
        def to_abi(v):
            if v is None:
                return ("none", None)
            if not isinstance(v, Some):
                raise _bad(wit, v, "None or Some(...) for a nested option")
            return ("some", to(v.value))

        def from_abi(v):
            return None if v[0] == "none" else Some(fr(v[1]))
        return Converter(t, wit, to_abi, from_abi)

    def to_abi(v):
        return ("none", None) if v is None else ("some", to(v))

    def from_abi(v):
        return None if v[0] == "none" else fr(v[1])
    return Converter(t, wit, to_abi, from_abi)


def _result(t, wit, ok: Converter | None, err: Converter | None) -> Converter:
    def to_abi(v):
        if isinstance(v, Ok):
            return ("ok", None if ok is None else ok.to_abi(v.value))
        if isinstance(v, Err):
            return ("error", None if err is None else err.to_abi(v.value))
        raise _bad(wit, v, "Ok(...) or Err(...)")

    def from_abi(v):
        label, payload = v
        if label == "ok":
            return Ok(None if ok is None else ok.from_abi(payload))
        return Err(None if err is None else err.from_abi(payload))
    return Converter(t, wit, to_abi, from_abi)


def _handle(t, wit, bridge: ResourceBridge | None) -> Converter:
    rt = t.resource
    own = isinstance(t, OwnType)
    if bridge is None:
        def no_bridge(v):
            from ..errors import NotSupported
            raise NotSupported(f"resource values ({wit}) need a component instance")
        return Converter(t, wit, no_bridge, no_bridge)
    if own:
        return Converter(t, wit, lambda v: bridge.own_to_abi(rt, v),
                         lambda rep: bridge.own_from_abi(rt, rep))
    return Converter(t, wit, lambda v: bridge.borrow_to_abi(rt, v),
                     lambda rep: bridge.borrow_from_abi(rt, rep))
