"""`record`: immutable, slotted record classes that are cheap to define.

Sits in the component layer, used by `component/ast.py`, whose fifty syntax records are
imported by every component run. `@dataclass(frozen=True, slots=True)` generates and compiles
(`exec`) the source of about seven methods per class and then rebuilds the class for its
slots; for the syntax records that was the largest single cost of starting a cached component
run. `record` gives the same behaviour from shared, already compiled methods: a keyword- or
positional-argument constructor with defaults (a `dataclasses.field(default_factory=...)`
default calls its factory), `==` and `hash` over the fields in order (instances of one class
only), a dataclass-like `repr`, `__match_args__`, pickling and copying, and no assignment
after construction (`dataclasses.FrozenInstanceError`).

Deliberately not supported (refused when defining a class): inheritance between records,
fields without annotations, and `dataclasses` introspection (`fields`, `replace`); resolved
types, which are introspected and replaced, stay dataclasses.
"""
from __future__ import annotations

from dataclasses import MISSING, Field, FrozenInstanceError

_set = object.__setattr__


def record(cls: type) -> type:
    """Make `cls` (a class with annotated fields, some with defaults) a frozen record."""
    if cls.__bases__ != (object,):
        raise TypeError(f"record {cls.__name__}: records do not inherit")
    names = tuple(cls.__dict__.get("__annotations__", {}))
    defaults, factories = {}, {}
    for name in names:
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, Field):
            if value.default_factory is not MISSING:
                factories[name] = value.default_factory
            elif value.default is not MISSING:
                defaults[name] = value.default
        elif value is not MISSING:
            defaults[name] = value
    namespace = {key: value for key, value in cls.__dict__.items()
                 if key not in names and key not in ("__dict__", "__weakref__")}
    namespace.update(__slots__=names, __match_args__=names, _record_fields=names,
                     _record_defaults=defaults, _record_factories=factories,
                     __init__=_init, __repr__=_repr, __eq__=_eq, __hash__=_hash,
                     __setattr__=_frozen, __delattr__=_frozen, __reduce__=_reduce)
    return type(cls)(cls.__name__, (object,), namespace)


def _init(self, *args, **kwargs):
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
    return tuple(getattr(self, name) for name in self._record_fields)


def _repr(self) -> str:
    inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._record_fields)
    return f"{type(self).__qualname__}({inner})"


def _eq(self, other):
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self) -> int:
    return hash(_values(self))


def _frozen(self, name, value=None):
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _reduce(self):
    return type(self), _values(self)
