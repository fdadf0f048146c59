"""Native adapters for component-to-component calls whose two core functions are native (aot).

Sits beside `lift.py`, which calls `attach_native_adapter` for every `canon lower` of a
`canon lift`: when the callee's core function (and the `realloc`s and `post-return` the
types need) have native code, the lowered `Function` gets a function record whose code is a
native adapter (`aot/adapter.py`), so a native caller calls straight through it into the
callee, with no Python on the way. The `Function`'s Python `call` stays the Python adapter:
interpreter callers and the host use it, and the native adapter hands it any call whose
checks fail (it raises the exact trap) — see `aot/adapter.py` for what runs where. Both paths
read and write the same state: the instances' flag cells (`state.py`), the memories.

Handles (`own`/`borrow` parameters, an `own` result): the handle tables, borrow scopes and
lend counts are Python objects (`resources.py`), so a fused adapter moves each handle with one
call of a small Python function (`_HandleTransfer`, the context's handle record; a call that
lends also closes its borrow scope there, usually in the same trip) and does everything else
natively. Measured against the whole call through the Python bridge in BENCHMARKS.md.

Types fused natively (`kind_of`, `result_kind`): the scalars, enums, flags of 1 to 32 labels;
`string` in every pair of encodings (copied when both sides use the same one, else
transcoded: `transcode:<source>:<destination>`); variants, options and results whose
payloads are scalars, enums or flags (`variant(<payload kind>,...)`: the discriminant and
the joined payload, Spec: "Flattening"); `list<T>` of scalars (copied whole), and of
strings, enums, flags, such variants, and records and tuples of scalars, enums, flags and
such variants (`list:<element kind>`, element by element). These as parameters (at most 16
flat values; records and tuples of them flatten into their fields) and as the result, where
records and tuples of scalars, enums, flags and such variants are fused too
(`record(<kind>;...)`, read from and written to the return areas in memory).

Everything else keeps the Python adapter (the fallback, a core `Function` the native caller
reaches through the host-call callback): variants whose payload is not one scalar, enum or
flags (strings, lists, records, tuples, nested variants); records and tuples holding
strings, lists, records or tuples, as a result or a list element; lists of lists;
fixed-length lists; flags of more than 32 labels; handles inside lists, variants, options,
results or result records (only `own`/`borrow` parameters, also as fields of flattened
record and tuple parameters, and an `own` result are fused); spilled parameter lists; a
callee, `realloc` or `post-return` without native code; and every call when `PYWAMR_NATIVE_ADAPTERS=0`. At run time a fused adapter
still hands Python the calls its checks refuse (see `aot/adapter.py`), among them UTF-16
with surrogate pairs and Latin-1 strings tagged UTF-16, which are then exact but slower.

`adapter_descriptions(plan)` yields the description of every adapter a plan may need
(`compile-component` bundles store them with `adapter_artifact`; `install_adapter` loads one
back). Deliberately holds no IR and touches no LLVM: `aot/adapter.py` does.
"""
from __future__ import annotations

import ctypes
import os
import sys
import weakref

from ...runtime.objects import Function
from ..types import (BorrowType, EnumType, FlagsType, ListType, OptionType, OwnType,
                     PrimValType, RecordType, ResultType, TupleType, VariantType)
from .flat import values_lifter, values_lowerer
from .layout import flatten_types
from .options import MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, LiftLowerContext, realloc_trap

SCALARS = ("bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64",
           "char")


class Stats:
    """Counters for tests and benchmarks: adapters attached, and calls native adapters
    handed to Python (`slow_calls`: whole calls; `result_calls`: result conversions)."""
    attached = 0
    slow_calls = 0
    result_calls = 0


stats = Stats()


def enabled() -> bool:
    return os.environ.get("PYWAMR_NATIVE_ADAPTERS", "1") != "0"


STRING_KINDS = {"utf8": "string", "utf16": "string-utf16", "latin1+utf16": "string-latin1"}
ENCODING_NAMES = {"utf8": "utf8", "utf16": "utf16", "latin1+utf16": "latin1"}


def kind_of(t, src_encoding: str, dst_encoding: str) -> str | None:
    """The adapter kind of a value going from a side with `src_encoding` to one with
    `dst_encoding` (caller to callee for parameters, back for the result), or None when it
    is not fused."""
    if isinstance(t, PrimValType):
        if t.name in SCALARS:
            return t.name
        if t.name == "string":
            if src_encoding == dst_encoding:
                return STRING_KINDS[src_encoding]
            return f"transcode:{ENCODING_NAMES[src_encoding]}:{ENCODING_NAMES[dst_encoding]}"
        return None
    if isinstance(t, EnumType):
        return f"enum:{len(t.labels)}" if t.labels else None
    if isinstance(t, FlagsType):
        return f"flags:{len(t.labels)}" if 1 <= len(t.labels) <= 32 else None
    if isinstance(t, ListType) and t.length is None:
        elem = _element_kind(t.elem, src_encoding, dst_encoding)
        return None if elem is None else "list:" + elem
    if isinstance(t, (VariantType, OptionType, ResultType)):
        return _variant_kind(t)
    return None


def _element_kind(t, src_encoding: str, dst_encoding: str) -> str | None:
    """The kind of a list's element: a scalar, enum, flags, string, variant of one-value
    payloads, or record/tuple of these (strings aside); lists of lists are not fused."""
    if isinstance(t, ListType):
        return None
    if isinstance(t, (RecordType, TupleType)):
        return result_kind(t, src_encoding, dst_encoding)
    return kind_of(t, src_encoding, dst_encoding)


def _single_kind(t) -> str | None:
    """The kind of `t` when it travels as one flat value (a variant's payload)."""
    kind = kind_of(t, "utf8", "utf8")
    return kind if kind is not None and (kind in SCALARS or kind.startswith(
        ("enum:", "flags:"))) else None


def _variant_kind(t) -> str | None:
    """`variant(<payload kind or nothing>,...)` for variants, options and results whose
    payloads are scalars, enums or flags (Spec: "Flattening", `flatten_variant`)."""
    if isinstance(t, OptionType):
        payloads = [None, t.t]
    elif isinstance(t, ResultType):
        payloads = [t.ok, t.error]
    else:
        payloads = [c.t for c in t.cases]
    if not payloads:
        return None
    kinds = []
    for p in payloads:
        k = None if p is None else _single_kind(p)
        if p is not None and k is None:
            return None
        kinds.append(k or "")
    return "variant(" + ",".join(kinds) + ")"


def result_kind(t, src_encoding: str, dst_encoding: str) -> str | None:
    """The kind of a result: as a parameter's, or `record(<field kind>;...)` for records and
    tuples of scalars, enums, flags and such variants."""
    if isinstance(t, (RecordType, TupleType)):
        fields = [f.t for f in t.fields] if isinstance(t, RecordType) else list(t.elems)
        kinds = []
        for f in fields:
            k = _single_kind(f) or (_variant_kind(f) if isinstance(
                f, (VariantType, OptionType, ResultType)) else None)
            if k is None:
                return None
            kinds.append(k)
        return "record(" + ";".join(kinds) + ")" if kinds else None
    return kind_of(t, src_encoding, dst_encoding)


def kinds_of(ft, caller_encoding: str, callee_encoding: str):
    """(parameter kinds, result kind) when every type of `ft` is fused, else None."""
    if len(flatten_types(ft.param_types)) > MAX_FLAT_PARAMS:
        return None
    params = []
    for t in ft.param_types:
        if not _param_kinds(t, caller_encoding, callee_encoding, params):
            return None
    params = tuple(params)
    result = None
    if isinstance(ft.result, OwnType):
        result = "own"
    elif ft.result is not None:
        result = result_kind(ft.result, callee_encoding, caller_encoding)
        if result is None:
            return None
    return params, result


def _param_kinds(t, caller_encoding: str, callee_encoding: str, out: list) -> bool:
    """Append the kinds of parameter type `t` to `out`: a record or tuple flattens into its
    fields' (Spec: "Flattening"), whose flat values the adapter converts one by one."""
    if isinstance(t, (RecordType, TupleType)):
        fields = [f.t for f in t.fields] if isinstance(t, RecordType) else list(t.elems)
        return all(_param_kinds(f, caller_encoding, callee_encoding, out) for f in fields)
    if isinstance(t, (OwnType, BorrowType)):
        out.append("own" if isinstance(t, OwnType) else "borrow")
        return True
    kind = kind_of(t, caller_encoding, callee_encoding)
    if kind is None:
        return False
    out.append(kind)
    return True


def _handle_types(types) -> list:
    """The `own`/`borrow` types among `types`, in the order of their flat values (records
    and tuples flatten into their fields, as `_param_kinds` walks them)."""
    out = []
    for t in types:
        if isinstance(t, (RecordType, TupleType)):
            out += _handle_types([f.t for f in t.fields] if isinstance(t, RecordType)
                                 else list(t.elems))
        elif isinstance(t, (OwnType, BorrowType)):
            out.append(t)
    return out


def _in_memory(kind: str) -> bool:
    return kind.startswith(("string", "list:", "transcode:"))


def _result_in_memory(ft) -> bool:
    """Whether the result comes back through a return area (Spec: "Flattening")."""
    return len(flatten_types(ft.result_types)) > MAX_FLAT_RESULTS


def _native(function, handles) -> tuple[int, int] | None:
    """(code, vmctx) of a function with native code, else None."""
    if function is None:
        return None
    function = getattr(function, "__self__", function)     # a bound `Function.call`
    if not isinstance(function, Function):
        return None
    address = handles.record_of(function)
    record = (ctypes.c_uint64 * 2).from_address(address)
    return (record[0], record[1]) if record[0] else None


class _MemoryHook:
    """Keeps (base, size) of a memory in an adapter context current across grows; holds the
    context weakly and leaves the memory's hooks when it dies."""

    __slots__ = ("keeper", "slot", "__weakref__")

    def __init__(self, keeper, slot: int):
        self.keeper = weakref.ref(keeper)
        self.slot = slot

    def __call__(self, memory) -> None:
        keeper = self.keeper()
        if keeper is not None:
            keeper.context[self.slot] = memory.address()
            keeper.context[self.slot + 1] = len(memory.data)

    @staticmethod
    def install(memory, keeper, offset: int) -> None:
        hook = _MemoryHook(keeper, offset // 8)
        hook(memory)
        memory.grow_hooks = [h for h in memory.grow_hooks
                             if not (isinstance(h, _MemoryHook) and h.keeper() is None)] + [hook]


class _Keeper:
    """Everything the native record of one lowered function needs alive: the context block,
    the record, the Python fallbacks and the loaded code."""

    __slots__ = ("context", "record", "functions", "loaded", "__weakref__")


def attach_native_adapter(function: Function, inst, opts, lifted, ft) -> bool:
    """Give `function` (the `canon lower` of `lifted` into `inst`, whose Python `call` is the
    Python adapter) a native record when everything involved has native code. Returns
    whether it did."""
    handles = sys.modules.get("pywamr.aot.handles")
    if handles is None or not enabled():        # no native code in this process
        return False
    callee_opts = lifted.opts
    kinds = kinds_of(ft, opts.string_encoding, callee_opts.string_encoding)
    if kinds is None:
        return False
    params, result = kinds
    callee = _native(lifted.core_function, handles)
    if callee is None:
        return False
    memory_params = any(_in_memory(k) for k in params)
    memory_result = _result_in_memory(ft)
    post = _native(callee_opts.post_return, handles) if callee_opts.post_return else (0, 0)
    callee_realloc = _native(callee_opts.realloc, handles) if memory_params else (0, 0)
    caller_realloc = _native(opts.realloc, handles) if result is not None and \
        _in_memory(result) else (0, 0)
    if post is None or callee_realloc is None or caller_realloc is None:
        return False
    if (memory_params or memory_result) and (opts.memory is None or callee_opts.memory is None):
        return False
    from ...aot import adapter, vmctx
    entering = lifted.entering_set(inst)
    spec = adapter.AdapterSpec(params, result, len(entering), callee_opts.post_return is not None)
    loaded = adapter.compiled_adapter(spec, adapter.cache_of(lifted.core_function))

    keeper = _Keeper()
    keeper.loaded = loaded
    context = keeper.context = (ctypes.c_uint64 * (vmctx.adapter_context_size(len(entering))
                                                   // 8))()

    def put(offset: int, value: int) -> None:
        context[offset // 8] = value
    put(vmctx.ADAPTER_CALLER_FLAGS, inst.flags_address())
    put(vmctx.ADAPTER_CALLEE_FLAGS, lifted.inst.flags_address())
    for offset, pair in ((vmctx.ADAPTER_CALLEE_CODE, callee), (vmctx.ADAPTER_POST_RETURN, post),
                         (vmctx.ADAPTER_CALLER_REALLOC, caller_realloc),
                         (vmctx.ADAPTER_CALLEE_REALLOC, callee_realloc)):
        put(offset, pair[0])
        put(offset + 8, pair[1])
    for n, state in enumerate(entering):
        put(vmctx.ADAPTER_ENTERING + 8 * n, state.flags_address())
    if memory_params or memory_result:
        _MemoryHook.install(opts.memory, keeper, vmctx.ADAPTER_CALLER_MEMORY)
        _MemoryHook.install(callee_opts.memory, keeper, vmctx.ADAPTER_CALLEE_MEMORY)
    fallbacks = _fallbacks(function, inst, opts, lifted, ft, result)
    if spec.handles:
        fallbacks += (_HandleTransfer(inst, opts, lifted, ft).function(function.name),)
    keeper.functions = fallbacks
    for offset, f in zip((vmctx.ADAPTER_SLOW_RECORD, vmctx.ADAPTER_RESULT_RECORD,
                          vmctx.ADAPTER_TRAP_RECORD, vmctx.ADAPTER_HANDLE_RECORD), fallbacks):
        put(offset, handles.record_of(f))
    record = keeper.record = (ctypes.c_uint64 * (vmctx.RECORD_SIZE // 8))()
    record[vmctx.RECORD_CODE // 8] = loaded.address
    record[vmctx.RECORD_VMCTX // 8] = ctypes.addressof(context)
    record[vmctx.RECORD_TYPE_ID // 8] = handles.type_id(function.type)
    handles.register_record(function, ctypes.addressof(record), keeper)
    stats.attached += 1
    return True


def _fallbacks(function, inst, opts, lifted, ft, _result) -> tuple:
    """The three Python functions a native adapter may call: the whole call, the result's
    conversion, and a `realloc` trap."""
    from ...binary.types import I32, FuncType as CoreFuncType
    python_call = function.call

    def slow(*args):
        stats.slow_calls += 1
        return python_call(*args)

    callee_core = lifted.core_type
    lift_results = values_lifter(ft.result_types, MAX_FLAT_RESULTS)
    callee_cx = LiftLowerContext(lifted.opts, lifted.inst, peer=True)
    caller_cx = LiftLowerContext(opts, inst, None, lifted.opts.string_encoding, peer=True)
    if not _result_in_memory(ft):
        lower_flat = values_lowerer(ft.result_types, MAX_FLAT_RESULTS)

        def convert_result(value):
            stats.result_calls += 1
            return lower_flat(caller_cx, lift_results(callee_cx, [value]))[0]
        result_type = CoreFuncType(tuple(callee_core.results), tuple(callee_core.results))
    else:
        lower_results = values_lowerer(ft.result_types, MAX_FLAT_RESULTS, out_param=True)

        def convert_result(ret, retptr):
            stats.result_calls += 1
            value = lift_results(callee_cx, [ret])[0]
            lower_results(caller_cx, (value,), retptr)
        result_type = CoreFuncType((I32, I32), ())

    def trap(reason):
        from ...aot import adapter
        what = {adapter.TRAP_STRING_REALLOC_OUT_OF_BOUNDS: "string",
                adapter.TRAP_LIST_REALLOC_OUT_OF_BOUNDS: "list"}.get(reason, "value")
        raise realloc_trap(what, unaligned=reason == adapter.TRAP_REALLOC_UNALIGNED)

    return (Function(function.type, slow, function.name + " (python)", host=True),
            Function(result_type, convert_result, function.name + " (result)", host=True),
            Function(CoreFuncType((I32,), ()), trap, function.name + " (trap)", host=True))


class _HandleTransfer:
    """The handle record of one native adapter: what `canon lower` and `canon lift` do to
    handles, called by the adapter once per step (`aot.adapter.HANDLE_*`), on the same
    objects as the Python adapter (`lift.py`): the caller's `Subtask` lends `borrow`ed
    handles, the callee's `Task` counts the borrows it was given, `handles.py` moves them.

    A call that lends has a borrow scope, one per such call in flight through this adapter:
    a stack, pushed by BEGIN and popped by END (a call that trapped leaves its scope behind,
    as the Python path leaves its `Subtask`; its instances are poisoned). Spec:
    CanonicalABI.md, "`canon lower`", "`canon lift`", "Loading" (`lift_own`, `lift_borrow`),
    "Storing" (`lower_own`, `lower_borrow`)."""

    __slots__ = ("params", "result", "caller_cx", "callee_cx", "scopes", "steps", "begin",
                 "end", "flags")

    def __init__(self, inst, opts, lifted, ft):
        from ...aot import adapter
        from ..resources import Subtask, Task
        from .handles import lift_borrow, lift_own, lower_borrow, lower_own
        # each handle as the caller's type (lifted from its table) and the callee's (lowered
        # into its table), as the two halves of the Python path see them
        self.params = list(zip(_handle_types(ft.param_types),
                               _handle_types(lifted.ft.param_types)))
        self.result = (lifted.ft.result, ft.result) if isinstance(ft.result, OwnType) else None
        self.caller_cx = LiftLowerContext(opts, inst, None, lifted.opts.string_encoding,
                                          peer=True)
        self.callee_cx = LiftLowerContext(lifted.opts, lifted.inst, peer=True)
        self.scopes: list = [(None, None, self.caller_cx, self.callee_cx)]
        scopes, params = self.scopes, self.params

        def param(position: int, value: int) -> int:
            _, _, caller_cx, callee_cx = scopes[-1]
            source, destination = params[position]
            if isinstance(source, OwnType):
                return lower_own(callee_cx, lift_own(caller_cx, value, source), destination)
            return lower_borrow(callee_cx, lift_borrow(caller_cx, value, source), destination)

        def result(_position: int, value: int) -> int:
            _, task, caller_cx, callee_cx = scopes[-1]
            source, destination = self.result
            rep = lift_own(callee_cx, value, source)
            if task is not None:
                task.return_()
            return lower_own(caller_cx, rep, destination)

        def returned(_position: int, _value: int) -> int:
            task = scopes[-1][1]
            if task is not None:
                task.return_()
            return 0

        def begin() -> None:
            subtask, task = Subtask(), Task()
            scopes.append((subtask, task, self.caller_cx.with_scope(subtask),
                           self.callee_cx.with_scope(task)))

        def end() -> None:
            subtask = scopes.pop()[0]
            subtask.deliver_resolve()
        steps = {adapter.HANDLE_PARAM: param, adapter.HANDLE_RESULT: result,
                 adapter.HANDLE_RETURNED: returned,
                 adapter.HANDLE_NOTHING: lambda _position, _value: 0}
        self.steps = [steps.get(op & adapter.HANDLE_STEP) for op in range(32)]
        self.begin, self.end = begin, end
        self.flags = (adapter.HANDLE_BEGIN, adapter.HANDLE_END)

    def function(self, name: str) -> Function:
        from ...binary.types import I32, FuncType as CoreFuncType
        begin_flag, end_flag = self.flags
        steps, begin, end = self.steps, self.begin, self.end

        def call(op: int, position: int, value: int) -> int:
            if op & begin_flag:
                begin()
            out = steps[op](position, value)
            if op & end_flag:
                end()
            return out
        return Function(CoreFuncType((I32, I32, I32), (I32,)), call, name + " (handles)",
                        host=True)


def _disk_cache():
    if os.environ.get("PYWAMR_NO_CACHE"):
        return None
    from ...aot import AotCache
    return AotCache()


# ---- the hook for precompiled bundles ------------------------------------------------------------

def adapter_descriptions(plan) -> list[str]:
    """The descriptions of the native adapters instantiating `plan` may use: one per distinct
    `canon lower` of a `canon lift` whose types are fused natively (whether it is used also
    depends on the cores being native, known only at instantiation). Reentrance is counted
    as instantiation counts it (`ComponentInstance(..., donut_reentrance=False)`)."""
    from ...aot.adapter import AdapterSpec
    from ..plan import Lift, Lower, NewState, SlotRef
    from ..state import ComponentInstance
    states: dict = {}
    lifts: dict = {}
    out: list[str] = []
    for step in plan.steps:
        if isinstance(step, NewState):
            parent = None if step.parent is None else states[step.parent]
            states[step.slot] = ComponentInstance(parent, step.name, donut_reentrance=False)
        elif isinstance(step, Lift):
            lifts[step.slot] = step
        elif isinstance(step, Lower) and isinstance(step.callee, SlotRef) \
                and step.callee.slot in lifts:
            lift = lifts[step.callee.slot]
            kinds = kinds_of(step.functype, step.options.string_encoding,
                             lift.options.string_encoding)
            if kinds is None:
                continue
            entering = states[lift.state].entering_set(states[step.state])
            spec = AdapterSpec(kinds[0], kinds[1], len(entering),
                               lift.options.post_return is not None)
            if spec.description() not in out:
                out.append(spec.description())
    return out


_DEFAULT_CACHE = object()


def adapter_artifact(description: str, cache=_DEFAULT_CACHE) -> bytes:
    """The compiled artifact of an adapter (compiled now unless cached), for a bundle.
    `cache`: an `AotCache`, None for none, or by default the default on-disk cache."""
    from ...aot import adapter
    spec = adapter.AdapterSpec.from_description(description)
    if cache is _DEFAULT_CACHE:
        cache = _disk_cache()
    return adapter.compiled_adapter(spec, cache).artifact


def install_adapter(description: str, data: bytes) -> None:
    """Make a bundle's adapter artifact the one this process uses for `description`
    (`aot.ArtifactError` when it is stale, foreign or tampered with)."""
    from ...aot import adapter
    adapter.install_artifact(description, data)
