"""The native state of one AOT instance: vmctx wiring, function records, table mirrors, and the
runtime operations native code leaves to Python.

Sits at the top of the AOT runtime (above `handles`, `bridge`, `entry`), called by `AotModule`
through the two steps of `runtime.interface.CompiledModule`: `define_functions` makes the
vmctx and the records of the module's functions, `link` points vmctx at the instance's
memories, tables and globals. Those are the shared runtime objects, used as they are:
  - each memory: its address and size are copied into its vmctx slots, refreshed by a grow
    hook (one per memory index);
  - a table: its `ElementStore` gets one `NativeElements` mirror (an array of handles that
    `table.get` and `call_indirect` read natively); every write goes through the store;
  - a numeric global: vmctx points at the global's own cell (`Global.address()`); a reference
    global has no cell and native code reaches it through `RT_GLOBAL_GET`/`RT_GLOBAL_SET`.
Table and bulk-memory instructions run the runtime layer's operations (`runtime_op`).
"""
from __future__ import annotations

import ctypes
import weakref

from ..binary.types import EXTERNREF, FUNCREF
from ..errors import LinkError
from ..runtime import instantiate as shared
from ..runtime.objects import Function
from . import vmctx
from .entry import lazy_entry_call, make_entry_call
from .handles import (U64, Pins, decode, has_record, instances, point_record, record_of,
                      register_record, type_id)


class NativeElements:
    """The native mirror of a table's `ElementStore` (runtime/tables.py): a descriptor
    (elements address, size; see vmctx.py) and an array of handles. `pins` keeps every value
    ever stored alive: native code may have copied its handle anywhere."""

    __slots__ = ("elem_type", "pins", "desc", "array")

    def __init__(self, elem_type: int):
        self.elem_type = elem_type
        self.pins = Pins()
        self.desc = (U64 * (vmctx.TABLE_DESC_SIZE // 8))()
        self.array = None

    @classmethod
    def of(cls, table) -> "NativeElements":
        """The mirror of `table` (made and filled on first use, then shared)."""
        return table.elements.attach_mirror(lambda store: cls(table.type.elem))

    @property
    def desc_address(self) -> int:
        return ctypes.addressof(self.desc)

    def _encode(self, value) -> int:
        return self.pins.encode(self.elem_type, value) if value is not None else 0

    def resize(self, items: list) -> None:
        n = len(items)
        if self.array is None or len(self.array) < n:
            self.array = (U64 * max(n, 4, 2 * n if self.array is not None else n))()
        self.refresh(items, 0, n)
        self.desc[vmctx.TABLE_ELEMENTS // 8] = ctypes.addressof(self.array)
        self.desc[vmctx.TABLE_SIZE // 8] = n

    def refresh(self, items: list, start: int, stop: int) -> None:
        array = self.array
        encode = self._encode
        for i in range(start, stop):
            array[i] = encode(items[i])


class _GrowHook:
    """Memory grow hook refreshing an instance's vmctx slots of one memory index. Holds the
    instance weakly, so that a memory shared with (imported by) many instances does not keep
    them alive, and takes itself off the memory's hooks when the instance dies. The hooks list
    is replaced, never changed in place: a grow may be iterating over it."""

    __slots__ = ("instance", "base_slot", "size_slot", "__weakref__")

    def __init__(self, inst, memory, index: int):
        self.base_slot = vmctx.memory_base(index) // 8
        self.size_slot = vmctx.memory_size(index) // 8
        self_ref = weakref.ref(self)
        memory_ref = weakref.ref(memory)

        def forget(_, self_ref=self_ref, memory_ref=memory_ref):
            mem, hook = memory_ref(), self_ref()
            if mem is not None and hook is not None:
                mem.grow_hooks = [h for h in mem.grow_hooks if h is not hook]
        self.instance = weakref.ref(inst, forget)

    def __call__(self, mem) -> None:
        inst = self.instance()
        if inst is not None:
            inst.vm[self.base_slot] = mem.address()
            inst.vm[self.size_slot] = len(mem.data)

    @staticmethod
    def install(memory, inst, index: int) -> None:
        """Keep vmctx's slots of memory `index` in step with `memory` (one hook per index: a
        module may import the same memory under two indices)."""
        hook = _GrowHook(inst, memory, index)
        hook(memory)
        memory.grow_hooks = [h for h in memory.grow_hooks
                             if not (isinstance(h, _GrowHook) and h.instance() is None)] + [hook]


class AotInstance:
    """Native state of one instance: vmctx, function records and the arrays vmctx points to.

    Lifetime: owned by its InstanceState (`engine_data`), which its Functions reference, so it
    lives while the instance, any of its functions, or an importer of them is reachable; the
    registries only hold it weakly. It holds `loaded` (the AotModule, owner of the JIT code),
    so the code outlives every instance using it."""

    def __init__(self, loaded, state: shared.InstanceState):
        self.loaded = loaded
        self.module = loaded.module
        self.state = state
        func_types = loaded.func_types
        self.pins = Pins()      # references passed in from Python (arguments, host results)
        self.vm = (U64 * (vmctx.vmctx_size(len(self.module.memory_types())) // 8))()
        self.vm_address = ctypes.addressof(self.vm)
        n_funcs = len(func_types)
        self.funcs = (U64 * max(n_funcs, 1))()
        self.records = (U64 * max(1, len(loaded.defined) * (vmctx.RECORD_SIZE // 8)))()
        self.type_ids = (U64 * max(len(self.module.types), 1))(
            *[type_id(ft) for ft in self.module.types])
        self.vm[vmctx.FUNCS // 8] = ctypes.addressof(self.funcs)
        self.vm[vmctx.TYPE_IDS // 8] = ctypes.addressof(self.type_ids)
        self.tables = self.globals = None
        instances[self.vm_address] = self

    def define_functions(self, state: shared.InstanceState, *,
                         lazy: bool = True) -> list[Function]:
        """The module's functions (records in vmctx FUNCS, `Function` objects). With `lazy`,
        each function's Python entry callable is made on its first call from Python (a run
        calls few of its functions from Python: `_start`, or one export; making them all
        costs a start-up ~40 us each); `adopt` asks for them at once, as it installs them."""
        loaded = self.loaded
        first = loaded.num_imported_funcs
        words = vmctx.RECORD_SIZE // 8
        base = ctypes.addressof(self.records)
        for i, f in enumerate(state.funcs[:first]):
            self.funcs[i] = record_of(f)
        out = []
        for i in range(first, len(loaded.func_types)):
            ft = loaded.func_types[i]
            code = loaded.c_addresses[i - first]
            slot = (i - first) * words
            self.records[slot + vmctx.RECORD_CODE // 8] = code
            self.records[slot + vmctx.RECORD_VMCTX // 8] = self.vm_address
            self.records[slot + vmctx.RECORD_TYPE_ID // 8] = type_id(ft)
            self.records[slot + vmctx.RECORD_TAIL_CODE // 8] = loaded.tail_addresses[i - first]
            address = base + slot * 8
            entry = loaded.entry_address(ft)
            f = Function(ft, None, self.module.func_name(i), state, i)
            if lazy:
                f.call = lazy_entry_call(ft, entry, code, self.vm_address, self.pins, f)
            else:
                f.call = make_entry_call(ft, entry, code, self.vm_address, self.pins)
            register_record(f, address)
            self.funcs[i] = address
            out.append(f)
        return out

    def adopt(self, state: shared.InstanceState) -> list:
        """Run an instance that another engine made on this native code: the tiered engine's
        switch. Makes the records of the module's functions (as `define_functions`), links
        vmctx (as `link`) and takes over the instance's existing `Function` objects, so that
        tables, exports and `ref.func` keep their identities: a function whose funcref handle
        was never made gets its native record as its handle; one whose handle already exists
        (a record some native mirror or earlier per-function switch may hold) keeps it,
        pointed at this native code in place. Returns the native entry callables of the
        module's functions, in index order; the caller installs them as the functions' `call`."""
        first = self.loaded.num_imported_funcs
        native = self.define_functions(state, lazy=False)
        base = ctypes.addressof(self.records)
        words = vmctx.RECORD_SIZE // 8
        for k, (existing, fresh) in enumerate(zip(state.funcs[first:], native)):
            if not has_record(existing):
                register_record(existing, base + k * words * 8)
            else:
                handle = record_of(existing)
                point_record(handle, self.loaded.c_addresses[k], self.vm_address,
                             self.loaded.tail_addresses[k])
                self.funcs[first + k] = handle      # ref.func gives the existing handle
        self.link(state)
        return [f.call for f in native]

    def adopt_functions(self, state: shared.InstanceState, skip=frozenset()) -> dict:
        """Run some functions of an instance that another engine made on this partial
        module's native code (`aot.compile_functions`): the tiered engine's per-function
        switch. Each compiled function keeps its `Function` object and its funcref handle: a
        handle that already exists (a record some table mirror, global or native code may
        hold) is pointed at the native code in place, so every holder calls natively from
        now on; else this module's record becomes the handle. The functions the code reaches
        by index get their handles (whatever tier they run on) in vmctx FUNCS. Links vmctx
        (as `link`); returns {function index: native entry callable}. Functions in `skip`
        (already on better native code) are left as they are."""
        loaded = self.loaded
        words = vmctx.RECORD_SIZE // 8
        base = ctypes.addressof(self.records)
        calls = {}
        for k, i in enumerate(loaded.defined):
            if i in skip:
                continue
            ft = loaded.func_types[i]
            code, tail = loaded.c_addresses[k], loaded.tail_addresses[k]
            slot = k * words
            self.records[slot + vmctx.RECORD_CODE // 8] = code
            self.records[slot + vmctx.RECORD_VMCTX // 8] = self.vm_address
            self.records[slot + vmctx.RECORD_TYPE_ID // 8] = type_id(ft)
            self.records[slot + vmctx.RECORD_TAIL_CODE // 8] = tail
            function = state.funcs[i]
            if has_record(function):
                point_record(record_of(function), code, self.vm_address, tail)
            else:
                register_record(function, base + slot * 8)
            calls[i] = make_entry_call(ft, loaded.entry_address(ft), code, self.vm_address,
                                       self.pins)
        for i in loaded.referenced:
            self.funcs[i] = record_of(state.funcs[i])
        self.link(state)
        return calls

    def osr_entry(self, index: int):
        """A Python callable entering function `index`'s OSR entry (`osr.py`) for this
        instance (made by `adopt_functions`): it takes the interpreter's values of every
        local and the loop id, converted as call arguments are, and returns the function's
        results."""
        ft = self.loaded.osr_types[index]
        return make_entry_call(ft, self.loaded.entry_address(ft),
                               self.loaded.osr_addresses[index], self.vm_address, self.pins)

    def link(self, state: shared.InstanceState) -> None:
        """Point vmctx at every memory, the tables' mirrors and the globals' cells."""
        for index, memory in enumerate(state.memories):
            _GrowHook.install(memory, self, index)
        self.tables = (U64 * max(len(state.tables), 1))(
            *[NativeElements.of(t).desc_address for t in state.tables])
        self.vm[vmctx.TABLES // 8] = ctypes.addressof(self.tables)
        cells = []
        for index, g in enumerate(state.globals):
            address = g.address()
            if address is None and g.type.valtype not in (FUNCREF, EXTERNREF):
                raise LinkError(f"global {index} has no native cell: a private global "
                                f"(Global.private) cannot be used by native code")
            cells.append(address or 0)
        self.globals = (U64 * max(len(cells), 1))(*cells)
        self.vm[vmctx.GLOBALS // 8] = ctypes.addressof(self.globals)

    # -- runtime helper operations (vmctx.RT_*) ----------------------------------------------
    def runtime_op(self, op: int, a: int, b: int, c: int, d: int) -> int:
        state = self.state
        if op == vmctx.RT_MEMORY_GROW:
            return state.memories[b].grow(a) & 0xFFFFFFFF
        if op == vmctx.RT_MEMORY_INIT:
            shared.memory_init(state, a >> 32, a & 0xFFFFFFFF, b, c, d)
        elif op == vmctx.RT_DATA_DROP:
            shared.data_drop(state, a)
        elif op == vmctx.RT_ELEM_DROP:
            shared.elem_drop(state, a)
        elif op == vmctx.RT_TABLE_INIT:
            shared.table_init(state, a & 0xFFFFFFFF, a >> 32, b, c, d)
        elif op == vmctx.RT_TABLE_COPY:
            shared.table_copy(state, a & 0xFFFFFFFF, a >> 32, b, c, d)
        elif op == vmctx.RT_GLOBAL_GET:
            g = state.globals[a]
            return self.pins.encode(g.type.valtype, g.value)
        elif op == vmctx.RT_GLOBAL_SET:
            g = state.globals[a]
            g.value = decode(g.type.valtype, b)
        else:
            table = state.tables[a]
            store = table.elements
            value = decode(table.type.elem, c)
            if op == vmctx.RT_TABLE_SET:
                store.set(b, value)
            elif op == vmctx.RT_TABLE_GROW:
                return store.grow(b, value) & 0xFFFFFFFF
            elif op == vmctx.RT_TABLE_FILL:
                store.fill(b, value, d)
            else:
                raise AssertionError(f"unknown runtime op {op}")
        return 0
