"""The one interface between a compiled module of any engine and everything above the engines.

Sits in the runtime layer, under both engines: `interp.InterpModule` and `aot.AotModule`
implement `CompiledModule`; the instantiation driver (`instantiate.instantiate_module`), the
embedding API (engine layer) and a component instantiation plan (component layer) use only
this protocol and the shared runtime objects, never an engine's own classes.

An instance is an `InstanceState` (instantiate.py): index spaces of `Function`, `Table`,
`Memory` and `Global` objects (objects.py) plus its exports by name. Calls go through
`Function.call`, memory through `Memory.data`, tables through `Table.elements` (an
`ElementStore`), globals through `Global.value`; those objects are the same for both engines,
so the exports of an instance of one engine can be the imports of an instance of the other.

Deliberately not here: choosing an engine (engine layer registry), resolving imports by name
(the engine layer's Linker or a component plan), and engine-specific extras such as saving a
precompiled artifact.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..binary import ast
    from .instantiate import InstanceState
    from .objects import Function


@runtime_checkable
class CompiledModule(Protocol):
    """A validated module prepared by one engine, ready to be instantiated any number of times.

    The driver calls, for each new instance, in this order:
      1. `define_functions(state)` once `state` holds the imports and the module's own tables
         and memories (not yet its globals): return a `Function` for each function the module
         defines, in index order. The functions may refer to `state` lazily; the engine keeps
         its per-instance data in `state.engine_data`.
      2. `link(state)` once every index space is complete (globals evaluated, element and data
         segments captured, exports filled): wire the engine's code to the instance.
    Segment initialisation and the start function follow, run by the driver.
    """

    engine_name: str
    """The name the engine is registered under ("interp", "aot")."""

    module: "ast.Module"
    """The module's syntax (imports, exports, types): read-only."""

    private_globals: bool
    """True when only the engine's Python code reads the globals the module defines and does
    not export: the driver then stores them as plain values (`Global.private`). False when
    native code reads globals through their cells (`Global.address()`)."""

    def function_name(self, index: int) -> str:
        """Display name of function `index` (name section, else a generated one)."""

    def define_functions(self, state: "InstanceState") -> "list[Function]":
        """The module's own functions for a new instance (step 1 above)."""

    def link(self, state: "InstanceState") -> None:
        """Finish a new instance once its index spaces are complete (step 2 above)."""
