"""Host functions and the context they run in: `Caller` and `HostFunction`.

Sits in the runtime layer so that every instantiator (the engine layer's Linker, a component
instantiation plan, WASI hosts) defines host functions the same way. A `HostFunction` is a
definition (signature + Python callable); `bind(caller)` makes the runtime `Function` one
importing instance calls. When the definition asks for it, the callable receives that
instance's `Caller` first: its explicit window on the instance that imported it.

The caller is the importing instance (fixed when it is instantiated), not found by looking at
the call stack: a host function that one instance re-exports to another still sees the
instance that imported it from the host. Deliberately not here: any particular host API (WASI
lives in the wasi package and only uses `Caller`).
"""
from __future__ import annotations

from ..binary.types import FuncType, NAME_TO_VALTYPE
from .numerics import from_internal, to_internal
from .objects import Function, Memory


class Caller:
    """What a host function sees of the instance that imported it.

    `memory` is that instance's memory 0 (the one it defines or imports, whatever it exports),
    or None when it has none: a host API then reports its own error for a memory access (WASI:
    errno `fault`), it must not raise a Python exception into the guest."""

    __slots__ = ("state",)

    def __init__(self, state=None):
        self.state = state          # the InstanceState, set by `attach` before any code runs

    def attach(self, state) -> None:
        self.state = state

    @property
    def memory(self) -> Memory | None:
        state = self.state
        if state is None or not state.memories:
            return None
        return state.memories[0]

    def get_export(self, name: str):
        """An export of the calling instance by name (a runtime object), or None."""
        return self.state.exports.get(name) if self.state is not None else None


def functype_of(spec) -> FuncType:
    """A FuncType from a FuncType or a (params, results) pair of type names or codes."""
    if isinstance(spec, FuncType):
        return spec
    params, results = spec
    convert = lambda types: tuple(NAME_TO_VALTYPE[t] if isinstance(t, str) else t  # noqa: E731
                                  for t in types)
    return FuncType(convert(params), convert(results))


class HostFunction:
    """A host function definition, bound to a `Caller` once per importing instance.

    - `context`: call `fn(caller, *args)` instead of `fn(*args)`.
    - `raw`: arguments and results in the internal representation (unsigned ints, see
      objects.py) instead of Python values (signed ints)."""

    __slots__ = ("functype", "fn", "context", "raw", "name")

    def __init__(self, functype, fn, *, context: bool = False, raw: bool = False,
                 name: str = "host"):
        self.functype = functype_of(functype)
        self.fn = fn
        self.context = context
        self.raw = raw
        self.name = name

    def bind(self, caller: Caller) -> Function:
        ft = self.functype
        fn = self.fn
        wants_caller = self.context
        if self.raw:
            call = (lambda *args: fn(caller, *args)) if wants_caller else fn
        else:
            params, results = ft.params, ft.results

            def call(*args):
                py_args = [from_internal(t, a) for t, a in zip(params, args)]
                out = fn(caller, *py_args) if wants_caller else fn(*py_args)
                if not results:
                    return None
                if len(results) == 1:
                    return to_internal(results[0], out)
                return tuple(to_internal(t, v) for t, v in zip(results, out))
        return Function(ft, call, self.name, host=True)
