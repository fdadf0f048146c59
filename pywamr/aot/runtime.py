"""The Python side of native code: the process context, callbacks, reference handles, native
mirrors of tables and globals, and the instances of a loaded module.

Sits above `codegen` (which gave us code addresses) and beside the shared `runtime/`
objects: an AOT instance's exports are ordinary `Function`/`Memory`/`Table`/`Global` objects
(globals and tables adopted into cell-backed / mirrored forms), so they link with interpreter
instances and host code. Every entry from Python goes through a generated trampoline
(`entry_<sig>`); traps come back as a non-zero status and are raised here as `Trap`, and an
exception from a host callback is kept in `_pending` and re-raised by the Python caller.
"""
from __future__ import annotations

import bisect
import ctypes
import weakref

from ..binary.types import EXTERNREF, F32, F64, FUNCREF, I32, I64, FuncType
from ..errors import Trap, TrapCode
from ..runtime import instantiate as shared
from ..runtime.numerics import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from ..runtime.objects import Function, Global, Table
from . import vmctx

U64 = ctypes.c_uint64

# ---- the process context and callbacks ------------------------------------------------------

_ctx = (U64 * (vmctx.CTX_SIZE // 8))()
CTX_ADDRESS = ctypes.addressof(_ctx)
_pending: list[BaseException] = []     # exception of a failed host call, awaiting re-raise
# vmctx address -> instance; weak: an instance lives as long as its InstanceState, its
# functions or anything that pins it (see `Pins`), never because of this registry
_instances: "weakref.WeakValueDictionary[int, AotInstance]" = weakref.WeakValueDictionary()

ENTRY = ctypes.PYFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_HOST_CALL = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p)
_RUNTIME = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint64,
                            ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64)


def _set_status(n: int) -> None:
    _ctx[vmctx.CTX_RT_STATUS // 8] = n


def _host_call(vm_address, record, buffer) -> int:
    try:
        function = _function_by_record[record]
        inst = _instances.get(vm_address)
        pins = inst.pins if inst is not None else _process_pins
        ft = function.type
        buf = (U64 * max(len(ft.params), len(ft.results), 1)).from_address(buffer)
        args = [_DECODE[t](buf[i]) for i, t in enumerate(ft.params)]
        out = function.call(*args)
        results = ft.results
        if len(results) == 1:
            buf[0] = pins.encode(results[0], out)
        elif results:
            for i, (t, v) in enumerate(zip(results, out)):
                buf[i] = pins.encode(t, v)
        return 0
    except BaseException as exc:  # kept and re-raised by the Python caller of native code
        _pending.append(exc)
        return 1


def _runtime_call(vm_address, op, a, b, c, d) -> int:
    try:
        return _instances[vm_address].runtime_op(op, a, b, c, d)
    except Trap as trap:
        _set_status(vmctx.TRAP_NUMBER[trap.code])
        return 0
    except BaseException as exc:
        _pending.append(exc)
        _set_status(vmctx.HOST_TRAP)
        return 0


_host_call_callback = _HOST_CALL(_host_call)
_runtime_callback = _RUNTIME(_runtime_call)


def symbol_imports() -> dict[str, int]:
    """Addresses the generated code imports by name (one set for the whole process)."""
    from .codegen import libc_address
    return {
        vmctx.CTX_SYMBOL: CTX_ADDRESS,
        vmctx.HOST_CALL_SYMBOL: ctypes.cast(_host_call_callback, ctypes.c_void_p).value,
        vmctx.RUNTIME_SYMBOL: ctypes.cast(_runtime_callback, ctypes.c_void_p).value,
        "_setjmp": libc_address("_setjmp"),
        "_longjmp": libc_address("_longjmp"),
    }


def raise_trap(status: int):
    """Turn the status of a trampoline into the Python exception it stands for."""
    _set_status(0)
    if status == vmctx.HOST_TRAP and _pending:
        exc = _pending.pop()
        _pending.clear()
        raise exc
    code = vmctx.trap_from_number(status)
    count = min(_ctx[vmctx.CTX_BT_COUNT // 8], vmctx.BT_DEPTH)
    _ctx[vmctx.CTX_BT_COUNT // 8] = 0
    base = vmctx.CTX_BT // 8
    frames = backtrace([_ctx[base + i] for i in range(count)])
    if not frames:
        func = ctypes.c_int32(_ctx[vmctx.CTX_TRAP_FUNC // 8] & 0xFFFFFFFF).value
        inst = _instances.get(_ctx[vmctx.CTX_TRAP_VMCTX // 8])
        if inst is not None and func >= 0:
            frames.append(inst.module.func_name(func))
    raise Trap(code, frames=frames)


# ---- code ranges: native return address -> wasm function -------------------------------------

_code_ranges: dict[int, list] = {}     # id(owner) -> [(start, end, module, func index)]
_sorted_ranges: list | None = None     # all of them by start address (rebuilt on change)


def register_code(owner, module, ranges) -> None:
    """Make the code of a loaded module's functions known to `backtrace`: `ranges` holds
    (start, end, function index); dropped when `owner` (which keeps the code alive) dies."""
    global _sorted_ranges
    key = id(owner)
    _code_ranges[key] = [(start, end, module, index) for start, end, index in ranges]
    _sorted_ranges = None
    weakref.finalize(owner, _forget_code, key)


def _forget_code(key: int) -> None:
    global _sorted_ranges
    _code_ranges.pop(key, None)
    _sorted_ranges = None


def backtrace(return_addresses) -> list[str]:
    """Names of the wasm functions containing the given return addresses; addresses in
    helpers (record calls, host code) are skipped."""
    global _sorted_ranges
    if not return_addresses:
        return []
    if _sorted_ranges is None:
        _sorted_ranges = sorted(r for rs in _code_ranges.values() for r in rs)
    starts = [r[0] for r in _sorted_ranges]
    names = []
    for address in return_addresses:
        address -= 1            # inside the call: a noreturn call may end its function
        i = bisect.bisect_right(starts, address) - 1
        if i >= 0:
            start, end, module, index = _sorted_ranges[i]
            if address < end:
                names.append(module.func_name(index))
    return names


# ---- reference handles ------------------------------------------------------------------------
#
# A funcref handle is the address of a function record; an externref handle is id(object).
# Lifetimes: a defined function's record lives in its AotInstance (`records`), which the
# Function keeps alive through `function.instance.engine_data`; the record of any other
# function (host, interpreter) is a small buffer held in `_record_by_function`, a weak-keyed
# map, so it lives exactly as long as the Function. Both maps below are weak: what keeps a
# value alive while native code may hold its handle is a `Pins` object of whatever stores the
# handle (an instance, a table, a global cell), so nothing here grows with instances.

_type_ids: dict[FuncType, int] = {}
# function -> (record address, record buffer or None); the value never refers to the key
_record_by_function: "weakref.WeakKeyDictionary[Function, tuple]" = weakref.WeakKeyDictionary()
_function_by_record: "weakref.WeakValueDictionary[int, Function]" = \
    weakref.WeakValueDictionary()
_externs: dict[int, list] = {}      # id(object) -> [object, number of Pins holding it]


def _release_externs(externs: dict) -> None:
    for key in externs:
        entry = _externs.get(key)
        if entry is not None:
            entry[1] -= 1
            if entry[1] <= 0:
                del _externs[key]


class Pins:
    """Strong references to the values whose handles one holder (an instance, a table, a
    global cell) may have passed to native code. Native code can copy a handle anywhere the
    holder's code can reach, so a Pins only grows, and lives as long as its holder."""

    __slots__ = ("functions", "externs", "__weakref__")

    def __init__(self):
        self.functions: dict[int, Function] = {}
        self.externs: dict[int, object] = {}
        weakref.finalize(self, _release_externs, self.externs)

    def function(self, function: Function | None) -> int:
        if function is None:
            return 0
        self.functions[id(function)] = function
        return record_of(function)

    def extern(self, obj) -> int:
        if obj is None:
            return 0
        key = id(obj)
        if key not in self.externs:
            self.externs[key] = obj
            entry = _externs.get(key)
            if entry is None:
                _externs[key] = [obj, 1]
            else:
                entry[1] += 1
        return key

    def encode(self, valtype: int, value) -> int:
        if valtype == FUNCREF:
            return self.function(value)
        if valtype == EXTERNREF:
            return self.extern(value)
        return _ENCODE[valtype](value)


def live_counts() -> dict[str, int]:
    """Sizes of the process-wide registries (for tests and leak hunting)."""
    return {"instances": len(_instances), "records": len(_function_by_record),
            "foreign_records": len(_record_by_function), "externs": len(_externs),
            "code": len(_code_ranges)}


def type_id(ft: FuncType) -> int:
    tid = _type_ids.get(ft)
    if tid is None:
        tid = _type_ids[ft] = len(_type_ids) + 1
    return tid


def register_record(function: Function, address: int, buffer=None) -> None:
    """`buffer` owns the record unless the function's instance does (then None)."""
    _record_by_function[function] = (address, buffer)
    _function_by_record[address] = function


def record_of(function: Function | None) -> int:
    """The funcref handle of a function: the address of its record (0 for null). The caller
    must keep `function` alive as long as native code may use the handle (see `Pins`)."""
    if function is None:
        return 0
    entry = _record_by_function.get(function)
    if entry is not None:
        return entry[0]
    record = (U64 * (vmctx.RECORD_SIZE // 8))()
    record[vmctx.RECORD_TYPE_ID // 8] = type_id(function.type)
    address = ctypes.addressof(record)
    register_record(function, address, record)
    return address


def function_of(handle: int) -> Function | None:
    return _function_by_record[handle] if handle else None


def extern_handle(obj) -> int:
    """An externref handle pinned for the life of the process (prefer `Pins.extern`)."""
    return _process_pins.extern(obj)


def extern_of(handle: int):
    return _externs[handle][0] if handle else None


def _process_function(function) -> int:
    return _process_pins.function(function)


_ENCODE = {
    I32: lambda v: v, I64: lambda v: v, F32: f32_to_bits, F64: f64_to_bits,
    FUNCREF: _process_function, EXTERNREF: extern_handle,
}
_process_pins = Pins()      # last resort for a handle made with no holder (kept for ever)
_DECODE = {
    I32: lambda b: b & 0xFFFFFFFF, I64: lambda b: b,
    F32: lambda b: f32_from_bits(b & 0xFFFFFFFF), F64: f64_from_bits,
    FUNCREF: function_of, EXTERNREF: extern_of,
}


def encode(valtype: int, value) -> int:
    return _ENCODE[valtype](value)


def decode(valtype: int, bits: int):
    return _DECODE[valtype](bits)


# ---- globals ----------------------------------------------------------------------------------

_global_slot = Global.value     # the base class's slot: holds the ctypes cell in AotGlobal
_REF_TYPES = (FUNCREF, EXTERNREF)


class _Cell(U64 * 1):
    """The native cell of a global. For a reference global, `pins` keeps alive every value
    stored from Python, and `owners` every instance whose code may store into it (native
    `global.set` copies a handle the writer's pins or functions keep alive)."""


def _new_cell(valtype: int) -> _Cell:
    cell = _Cell()
    if valtype in _REF_TYPES:
        cell.pins = Pins()
        cell.owners = []
    else:
        cell.pins = None
    return cell


class AotGlobal(Global):
    """A global whose value lives in an 8-byte native cell that generated code reads directly;
    `.value` converts to and from the internal representation."""

    __slots__ = ()

    def __init__(self, globaltype, value):
        self.type = globaltype
        _global_slot.__set__(self, _new_cell(globaltype.valtype))
        self.value = value

    @property
    def value(self):
        return decode(self.type.valtype, _global_slot.__get__(self)[0])

    @value.setter
    def value(self, v):
        cell = _global_slot.__get__(self)
        pins = cell.pins
        cell[0] = _ENCODE[self.type.valtype](v) if pins is None else \
            pins.encode(self.type.valtype, v)

    @property
    def cell_address(self) -> int:
        return ctypes.addressof(_global_slot.__get__(self))

    def add_writer(self, inst) -> None:
        """Keep `inst` alive as long as this global: its code may store its handles here."""
        if self.type.mutable and self.type.valtype in _REF_TYPES:
            owners = _global_slot.__get__(self).owners
            if not any(o is inst for o in owners):
                owners.append(inst)


def adopt_global(g: Global) -> AotGlobal:
    """Make a plain runtime Global cell-backed in place, so that every holder of the object
    (an interpreter instance, host code) and native code see the same value."""
    if isinstance(g, AotGlobal):
        return g
    value = g.value
    g.__class__ = AotGlobal
    _global_slot.__set__(g, _new_cell(g.type.valtype))
    g.value = value
    return g


# ---- tables -----------------------------------------------------------------------------------

class MirroredList(list):
    """The element list of a table, kept in step with a native array of reference handles
    described by `desc` (elements address, size) that generated code reads."""

    def __init__(self, items, elem_type: int):
        super().__init__(items)
        self.elem_type = elem_type
        self.pins = Pins()      # every value ever stored: native code may have copied it
        self.desc = (U64 * 2)()
        self.array = None
        self.resync()

    @property
    def desc_address(self) -> int:
        return ctypes.addressof(self.desc)

    def _encode(self, v) -> int:
        return self.pins.function(v) if self.elem_type == FUNCREF else self.pins.extern(v)

    def resync(self) -> None:
        n = len(self)
        if self.array is None or len(self.array) < n:
            self.array = (U64 * max(n, 4, 2 * n if self.array is not None else n))()
        array = self.array
        encode_ = self._encode
        for i, v in enumerate(self):
            array[i] = encode_(v)
        self.desc[0] = ctypes.addressof(array)
        self.desc[1] = n

    def __setitem__(self, index, value):
        super().__setitem__(index, value)
        if isinstance(index, slice):
            self.resync_range(index)
        else:
            if index < 0:
                index += len(self)
            self.array[index] = self._encode(value)

    def resync_range(self, index: slice) -> None:
        if len(self) != self.desc[1] or len(self.array) < len(self):
            self.resync()
            return
        start, stop, step = index.indices(len(self))
        encode_ = self._encode
        array = self.array
        for i in range(start, stop, step):
            array[i] = encode_(list.__getitem__(self, i))

    def extend(self, items):
        super().extend(items)
        self.resync()

    def append(self, item):
        super().append(item)
        self.resync()

    def __delitem__(self, index):
        super().__delitem__(index)
        self.resync()

    def insert(self, index, item):
        super().insert(index, item)
        self.resync()

    def __iadd__(self, items):
        super().extend(items)
        self.resync()
        return self


def adopt_table(table: Table) -> MirroredList:
    if not isinstance(table.elements, MirroredList):
        table.elements = MirroredList(table.elements, table.type.elem)
    return table.elements


def new_table(tabletype, init) -> Table:
    table = Table(tabletype, init)
    adopt_table(table)
    return table


# ---- instances ------------------------------------------------------------------------------

_CALL_TEMPLATE = """\
def call({params}):
{stores}    status = entry(vm, code, buffer_address)
    if status:
        raise_trap(status)
{ret}
"""

_STORE = {I32: "{a}", I64: "{a}", F32: "f32_to_bits({a})", F64: "f64_to_bits({a})",
          FUNCREF: "record_of({a})", EXTERNREF: "extern_handle({a})"}
_LOAD = {I32: "buffer[{i}] & 0xFFFFFFFF", I64: "buffer[{i}]",
         F32: "f32_from_bits(buffer[{i}] & 0xFFFFFFFF)", F64: "f64_from_bits(buffer[{i}])",
         FUNCREF: "function_of(buffer[{i}])", EXTERNREF: "extern_of(buffer[{i}])"}


def make_entry_call(ft: FuncType, entry_address: int, code_address: int, vm_address: int,
                    pins: Pins):
    """A Python callable taking and returning internal representations, entering native code
    through the signature's trampoline; reference arguments are pinned in `pins` (the callee
    instance's: its code may keep them)."""
    n = max(len(ft.params), len(ft.results), 1)
    buffer = (U64 * n)()
    params = ", ".join(f"a{i}" for i in range(len(ft.params)))
    stores = "".join(f"    buffer[{i}] = {_STORE[t].format(a=f'a{i}')}\n"
                     for i, t in enumerate(ft.params))
    loads = [_LOAD[t].format(i=i) for i, t in enumerate(ft.results)]
    if not loads:
        ret = "    return None"
    elif len(loads) == 1:
        ret = f"    return {loads[0]}"
    else:
        ret = f"    return ({', '.join(loads)},)"
    namespace = {
        "entry": ENTRY(entry_address), "vm": vm_address, "code": code_address,
        "buffer": buffer, "buffer_address": ctypes.addressof(buffer), "raise_trap": raise_trap,
        "f32_to_bits": f32_to_bits, "f64_to_bits": f64_to_bits, "f32_from_bits": f32_from_bits,
        "f64_from_bits": f64_from_bits, "record_of": pins.function, "extern_handle": pins.extern,
        "function_of": function_of, "extern_of": extern_of,
    }
    exec(_CALL_TEMPLATE.format(params=params, stores=stores, ret=ret), namespace)
    return namespace["call"]


class _GrowHook:
    """Memory grow hook refreshing an instance's vmctx. Holds the instance weakly, so that a
    memory shared with (imported by) many instances does not keep them alive, and takes
    itself off the memory's hooks when the instance dies. The hooks list is replaced, never
    changed in place: a grow may be iterating over it."""

    __slots__ = ("instance", "__weakref__")

    def __init__(self, inst, memory):
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
            inst.vm[vmctx.MEM_BASE // 8] = mem.address()
            inst.vm[vmctx.MEM_SIZE // 8] = len(mem.data)

    @staticmethod
    def install(memory, inst) -> None:
        hook = _GrowHook(inst, memory)
        hook(memory)
        memory.grow_hooks = [h for h in memory.grow_hooks
                             if not (isinstance(h, _GrowHook) and h.instance() is None)] + [hook]


class AotInstance:
    """Native state of one instance: vmctx, function records and the arrays vmctx points to.

    Lifetime: owned by its InstanceState (`engine_data`), which its Functions reference, so it
    lives while the instance, any of its functions, or an importer of them is reachable;
    the registries only hold it weakly. It holds `loaded` (the AotModule, owner of the JIT
    code), so the code outlives every instance using it."""

    def __init__(self, loaded, state: shared.InstanceState):
        self.loaded = loaded
        self.module = loaded.module
        self.state = state
        module = self.module
        func_types = loaded.func_types
        self.pins = Pins()      # references passed in from Python (arguments, host results)
        self.vm = (U64 * (vmctx.VMCTX_SIZE // 8))()
        self.vm_address = ctypes.addressof(self.vm)
        n_funcs = len(func_types)
        self.funcs = (U64 * max(n_funcs, 1))()
        self.records = (U64 * max(1, (n_funcs - loaded.num_imported_funcs)
                                  * (vmctx.RECORD_SIZE // 8)))()
        self.type_ids = (U64 * max(len(module.types), 1))(
            *[type_id(ft) for ft in module.types])
        self.vm[vmctx.FUNCS // 8] = ctypes.addressof(self.funcs)
        self.vm[vmctx.TYPE_IDS // 8] = ctypes.addressof(self.type_ids)
        _instances[self.vm_address] = self

    def define_functions(self, state: shared.InstanceState) -> list[Function]:
        loaded = self.loaded
        first = loaded.num_imported_funcs
        words = vmctx.RECORD_SIZE // 8
        base = ctypes.addressof(self.records)
        for i, f in enumerate(state.funcs[:first]):
            self.funcs[i] = record_of(f)
        out = []
        for i in range(first, len(loaded.func_types)):
            ft = loaded.func_types[i]
            code = loaded.code_addresses[i - first]
            slot = (i - first) * words
            self.records[slot + vmctx.RECORD_CODE // 8] = code
            self.records[slot + vmctx.RECORD_VMCTX // 8] = self.vm_address
            self.records[slot + vmctx.RECORD_TYPE_ID // 8] = type_id(ft)
            address = base + slot * 8
            call = make_entry_call(ft, loaded.entry_address(ft), code, self.vm_address,
                                   self.pins)
            f = Function(ft, call, self.module.func_name(i), state, i)
            register_record(f, address)
            self.funcs[i] = address
            out.append(f)
        return out

    def finish(self, state: shared.InstanceState) -> None:
        """Point vmctx at memories, tables and globals once `allocate` has made them."""
        if state.memories:
            _GrowHook.install(state.memories[0], self)
        self.tables = (U64 * max(len(state.tables), 1))(
            *[adopt_table(t).desc_address for t in state.tables])
        self.vm[vmctx.TABLES // 8] = ctypes.addressof(self.tables)
        cells = []
        for g in state.globals:
            g = adopt_global(g)
            g.add_writer(self)
            cells.append(g.cell_address)
        self.globals = (U64 * max(len(cells), 1))(*cells)
        self.vm[vmctx.GLOBALS // 8] = ctypes.addressof(self.globals)

    # -- runtime helper operations -----------------------------------------------------------
    def runtime_op(self, op: int, a: int, b: int, c: int, d: int) -> int:
        state = self.state
        if op == vmctx.RT_MEMORY_GROW:
            old = state.memories[0].grow(a)
            return old & 0xFFFFFFFF
        if op == vmctx.RT_MEMORY_INIT:
            shared.memory_init(state, 0, a, b, c, d)
            return 0
        if op == vmctx.RT_DATA_DROP:
            state.datas[a] = b""
            return 0
        if op == vmctx.RT_ELEM_DROP:
            state.elems[a] = []
            return 0
        if op == vmctx.RT_TABLE_INIT:
            shared.table_init(state, a & 0xFFFFFFFF, a >> 32, b, c, d)
            return 0
        if op == vmctx.RT_TABLE_COPY:
            dst_table = state.tables[a & 0xFFFFFFFF].elements
            src_table = state.tables[a >> 32].elements
            if c + d > len(src_table) or b + d > len(dst_table):
                raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
            if d:
                dst_table[b:b + d] = src_table[c:c + d]
            return 0
        table = state.tables[a]
        elements = table.elements
        value = decode(table.type.elem, c)
        if op == vmctx.RT_TABLE_SET:
            if b >= len(elements):
                raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
            elements[b] = value
            return 0
        if op == vmctx.RT_TABLE_GROW:
            return table.grow(b, value) & 0xFFFFFFFF
        if op == vmctx.RT_TABLE_FILL:
            if b + d > len(elements):
                raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
            if d:
                elements[b:b + d] = [value] * d
            return 0
        raise AssertionError(f"unknown runtime op {op}")


def instantiate(loaded, imports: shared.Imports) -> shared.InstanceState:
    holder = {}

    def define_functions(state):
        inst = AotInstance(loaded, state)
        holder["instance"] = inst
        return inst.define_functions(state)

    state = shared.allocate(loaded.module, imports, define_functions, new_table=new_table,
                            new_global=AotGlobal)
    inst = holder.get("instance")
    if inst is None:        # allocate always defines functions, even when there are none
        raise AssertionError("allocate did not call define_functions")
    inst.finish(state)
    state.engine_data = inst
    return state
