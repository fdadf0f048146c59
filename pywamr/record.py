"""`record`: immutable, slotted record classes that are cheap to define and cheap to import.

Sits at the bottom of the package (beside `errors`), used by the syntax and type records of
`binary/` (imported by every run), the validator's results, the engine registry, the WASI
requests and the component layer's syntax (`component/ast.py`, fifty records), types and plan.
`@dataclass(frozen=True, slots=True)` generates and compiles (`exec`) the source of about
seven methods per class and then rebuilds the class for its slots (about 0.5 ms a class), and
importing `dataclasses` imports `inspect` (with `ast`, `dis`, `tokenize`): together the largest
cost of starting a cached run. `record` gives the same behaviour from shared, already compiled
methods and closures (nothing is compiled per class), and this module imports nothing but
`operator` and `sys`: a keyword- or positional-argument constructor with defaults (a
`field(default_factory=...)` default calls its factory; `dataclasses.field` is understood
too), `==` and `hash` over the fields in order
(instances of one class only), a dataclass-like `repr`, `__match_args__`, pickling and
copying, and no assignment after construction (`FrozenInstanceError`, an AttributeError).

A record may derive from one record (its fields come first) and from plain classes. Not
supported: `dataclasses` introspection (`fields`, `dataclasses.replace`): use
`record_items(r)`, `replace(r, **changes)` and `copy.copy(r)`.
"""
from __future__ import annotations

import sys
from operator import attrgetter


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class FrozenInstanceError(AttributeError):
    """An assignment to (or deletion of) a field of a record."""


class Field:
    """A field's default given by `field(default=...)` or `field(default_factory=...)`."""
    __slots__ = ("default", "default_factory")

    def __init__(self, default, default_factory):
        self.default = default
        self.default_factory = default_factory


def field(*, default=MISSING, default_factory=MISSING) -> Field:
    """A field default for a record: a value, or a factory called for every instance."""
    if default is not MISSING and default_factory is not MISSING:
        raise ValueError("a field has a default or a default_factory, not both")
    return Field(default, default_factory)


def _field_default(value):
    """(default, factory) of a class attribute given to a field: one of ours, a
    `dataclasses.field` (understood when `dataclasses` is loaded: it made the value), or a
    plain default value. MISSING where there is none."""
    if isinstance(value, Field):
        return value.default, value.default_factory
    dataclasses = sys.modules.get("dataclasses")
    if dataclasses is not None and isinstance(value, dataclasses.Field):
        default = MISSING if value.default is dataclasses.MISSING else value.default
        factory = (MISSING if value.default_factory is dataclasses.MISSING
                   else value.default_factory)
        return default, factory
    return value, MISSING


_set = object.__setattr__


def record(cls: type | None = None, *, eq: bool = True):
    """Make `cls` (a class with annotated fields, some with defaults) a frozen record; its
    fields follow those of a record base class. `eq=False` leaves `==` and `hash` to the
    class (its own methods, or identity)."""
    if cls is None:
        return lambda c: record(c, eq=eq)
    inherited = ()
    defaults, factories = {}, {}
    for base in cls.__bases__:
        if hasattr(base, "_record_fields"):
            if inherited:
                raise TypeError(f"record {cls.__name__}: one record base at most")
            inherited = base._record_fields
            defaults.update(base._record_defaults)
            factories.update(base._record_factories)
    own = tuple(cls.__dict__.get("__annotations__", {}))
    for name in own:
        default, factory = _field_default(cls.__dict__.get(name, MISSING))
        if factory is not MISSING:
            factories[name] = factory
        elif default is not MISSING:
            defaults[name] = default
    names = inherited + own
    values = _getter(names)
    namespace = {key: value for key, value in cls.__dict__.items()
                 if key not in own and key not in ("__dict__", "__weakref__")}
    namespace.update(__slots__=own, __match_args__=names, _record_fields=names,
                     _record_values=values, _record_defaults=defaults,
                     _record_factories=factories, __init__=_initializer(names),
                     __repr__=_repr, __setattr__=_frozen, __delattr__=_frozen,
                     __reduce__=_reduce)
    if eq:
        namespace.setdefault("__eq__", _equality(values))
        namespace.setdefault("__hash__", _hasher(values))
    return type(cls)(cls.__name__, cls.__bases__, namespace)


def _initializer(names: tuple):
    """The class's `__init__`: a closure over its field names (no source is compiled), with
    a fast path for the usual call that gives every field positionally."""
    count = len(names)

    def __init__(self, *args, **kwargs):
        if not kwargs and len(args) == count:
            for name, value in zip(names, args):
                _set(self, name, value)
        else:
            _init_general(self, *args, **kwargs)
    return __init__


def _equality(values):
    """The class's `__eq__`: field values in order, instances of the same class only."""
    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return values(self) == values(other)
    return __eq__


def _hasher(values):
    """The class's `__hash__`: of the field values in order."""
    def __hash__(self) -> int:
        return hash(values(self))
    return __hash__


def _getter(names: tuple):
    """A function from a record to the tuple of its field values (C speed: attrgetter)."""
    if not names:
        return lambda self: ()
    if len(names) == 1:
        get = attrgetter(names[0])
        return lambda self: (get(self),)
    return attrgetter(*names)


def _init_general(self, *args, **kwargs):
    """Construction with keywords, defaults and factories (and the errors argument mistakes
    get)."""
    names = self._record_fields
    if len(args) > len(names):
        raise TypeError(f"{type(self).__name__}() takes {len(names)} arguments, "
                        f"got {len(args)}")
    for name, value in zip(names, args):
        _set(self, name, value)
    for name in names[len(args):]:
        if name in kwargs:
            _set(self, name, kwargs.pop(name))
        elif name in self._record_defaults:
            _set(self, name, self._record_defaults[name])
        elif name in self._record_factories:
            _set(self, name, self._record_factories[name]())
        else:
            raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
    if kwargs:
        raise TypeError(f"{type(self).__name__}() got unexpected or repeated arguments "
                        f"{', '.join(map(repr, kwargs))}")


def _values(self) -> tuple:
    return type(self)._record_values(self)


def _repr(self) -> str:
    inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._record_fields)
    return f"{type(self).__qualname__}({inner})"


def _frozen(self, name, value=None):
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def is_record(obj) -> bool:
    return hasattr(type(obj), "_record_fields")


def record_items(obj) -> tuple:
    """(field name, value) pairs of a record, in field order."""
    return tuple(zip(obj._record_fields, _values(obj)))


def _reduce(self):
    return type(self), _values(self)


def replace(obj, **changes):
    """A copy of the record `obj` with the fields in `changes` set (as `dataclasses.replace`)."""
    values = dict(record_items(obj))
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {', '.join(sorted(unknown))}")
    values.update(changes)
    return type(obj)(**values)
