"""The live state of one WASI 0.2 host: the shared WASI context and the host resource types.

Sits in `pywamr.wasi.p2`, under the per-package modules (`cli`, `io`, `clocks`, `random`,
`filesystem`), which define their functions on the component `Linker` with `raw=True` (the
canonical ABI's values: records as dicts, variants as (label, payload), handles as reps).
A `P2Host` owns one `WasiContext` (context.py): the standard streams, the preopened
directories of the preview-1 sandbox, the clocks and the random source, so preview 1 and
0.2 share one implementation of each. Resource values are Python objects kept in the
`HostTable` of their resource type; `new` hands one to the guest, `get` finds one by rep,
`new_child` hands one out as the child of another (a pollable of the stream or socket it was
subscribed from: the WIT lets a host trap when the parent is dropped first, and wasmtime does).

Deliberately holds no interface logic and no path resolution (that is `fs.py`).
"""
from __future__ import annotations

from ...errors import Trap, TrapCode
from ..config import WasiConfig
from ..context import WasiContext

VERSION = "0.2.12"
"""The WASI version the host defines; imports of any 0.2.x resolve to it (semver)."""

MAX_LIST = 64 << 20
"""The largest list (random bytes, a read) the host builds for one call; beyond, a trap."""


def interface(name: str) -> str:
    """`wasi:cli/stdout` -> `wasi:cli/stdout@0.2.12`."""
    return f"{name}@{VERSION}"


class P2Host:
    """One guest's WASI 0.2 state: `context` (shared with preview 1's design), resource types
    by WIT name, and helpers moving host objects across the resource boundary."""

    def __init__(self, linker, config: WasiConfig | None = None):
        self.linker = linker
        self.config = config if config is not None else WasiConfig()
        self.context = WasiContext(self.config)
        self.types: dict[str, object] = {}
        # child resources alive, by (parent kind, parent rep); and each child's parent
        self.children: dict[tuple[str, int], set[tuple[str, int]]] = {}
        self.parents: dict[tuple[str, int], tuple[str, int]] = {}

    def close(self) -> None:
        """Release the host resources of the context (preopened directories, files)."""
        self.context.close_all()

    # ---- definitions ------------------------------------------------------------------------
    def resource(self, iface: str, name: str, cls) -> None:
        """Define resource `name` of interface `iface` with Python class `cls`. Dropping one
        that still has children (`new_child`) traps, as the WIT allows and wasmtime does."""
        rt = self.types[name] = self.linker.define_resource(interface(iface), name, cls)
        release = rt.dtor

        def dtor(rep: int) -> None:
            key = (name, rep)
            if self.children.get(key):
                kinds = sorted({kind for kind, _ in self.children[key]})
                raise Trap(TrapCode.HOST, f"resource has children: {name} dropped while its "
                                          f"{', '.join(kinds)} child resources are alive")
            self.children.pop(key, None)
            parent = self.parents.pop(key, None)
            if parent is not None:
                self.children[parent].discard(key)
            release(rep)
        rt.dtor = dtor

    def func(self, iface: str, name: str, fn) -> None:
        """Define `name` of interface `iface`, taking and returning canonical ABI values."""
        self.linker.define_func(interface(iface), name, fn, raw=True)

    # ---- resources ----------------------------------------------------------------------------
    def new(self, kind: str, obj) -> int:
        """Hand `obj` to the guest as a fresh own<kind>: its rep."""
        return self.types[kind].host_table.add(obj)

    def new_child(self, kind: str, obj, parent_kind: str, parent_rep: int) -> int:
        """Hand `obj` to the guest as an own<kind> that is a child of the `parent_kind`
        resource `parent_rep`: the parent cannot be dropped while the child lives."""
        rep = self.new(kind, obj)
        self.children.setdefault((parent_kind, parent_rep), set()).add((kind, rep))
        self.parents[(kind, rep)] = (parent_kind, parent_rep)
        return rep

    def get(self, kind: str, rep: int):
        """The object behind a (borrowed or owned) rep of resource `kind`."""
        return self.types[kind].host_table.get(rep)


def check_length(length: int, what: str) -> int:
    """A length the guest asked the host to materialise, bounded so that no guest can make the
    host allocate without limit."""
    if length > MAX_LIST:
        raise Trap(TrapCode.HOST, f"{what}: length {length} exceeds the host limit of {MAX_LIST}")
    return length
