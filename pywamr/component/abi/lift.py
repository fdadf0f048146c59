"""`canon lift` and `canon lower`: component functions over core functions and back (sync).

Sits at the top of `component/abi`, over `flat.py`; the instantiation plan calls
`canon_lift` for each `canon lift` definition and `canon_lower` for each `canon lower`.

- `canon_lift(opts, inst, core_function, ft)` returns a `LiftedFunction`: called with
  component values (`f(*args)`, the host as caller) it checks and clears `may_enter`, lowers the
  arguments into the callee (spilling past 16 flat values into memory from `realloc`), calls the
  core function, lifts the result (through the returned pointer past 1 flat value), checks that
  the callee dropped every borrow it was given, hands the result to the caller, runs
  `post-return` with `may_leave` cleared, and restores `may_enter`. A malformed argument from
  the host (`TypeError`/`ValueError` while lowering) restores `may_enter` and re-raises; what
  was already lowered (memory from `realloc`, handles) stays with the callee.
- `canon_lower(opts, inst, callee, ft)` returns a core `Function` (internal representation in
  and out) to import into a core module: it traps unless `may_leave`, lifts the arguments out of
  the caller's memory (or the spilled tuple), calls `callee` (a `LiftedFunction`, entered with
  this instance as the caller, or any Python callable taking and returning component values),
  lowers the result into the caller's memory (through the caller's result pointer past 1 flat
  value) and gives back the lent handles.

A `canon lower` of a `canon lift` (a call between two components) gets the fused scalar
adapter `_fused_call` when it can, else the general path; on aot, when both core functions
are native and the types allow, `native.py` also gives the lowered `Function` a native
adapter that native callers call directly (the Python adapter stays its fallback).

Everything that depends only on the types (flat signatures, converters, whether a borrow scope
is needed) is computed here once per definition. A trap leaves the instance flags as they were
(the instance stays poisoned). Deliberately refuses async function types and async options.
Spec: CanonicalABI.md, "Embedding" (`Store.lift`, `Store.lower`), "`canon lift`",
"`canon lower`".
"""
from __future__ import annotations

from ...errors import NotSupported, Trap, TrapCode
from ...runtime.objects import Function
from ...runtime.trapping import call_guarded
from ..resources import Subtask, Task
from ..state import MAY_LEAVE, enter, leave
from ..types import FuncType
from .flat import values_lifter, values_lowerer
from .load import CANONICAL_NAN, convert_i32_to_char
from .store import char_to_i32
from .layout import contains_async_value, contains_borrow, flatten_functype, flatten_types, \
    needs_memory
from .options import MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, CanonicalOptions, LiftLowerContext


def _check_supported(ft: FuncType, opts: CanonicalOptions) -> None:
    if ft.is_async:
        raise NotSupported("async component function types are not supported")
    if any(contains_async_value(t) for t in ft.param_types + ft.result_types):
        raise NotSupported("stream and future values (async ABI) are not supported")
    if opts.async_ or opts.callback is not None:
        raise NotSupported("the async canonical ABI is not supported")


def _check_options(opts: CanonicalOptions, ft: FuncType, context: str) -> None:
    """The `canonopt` requirements of `lift(T)`/`lower(T)` (validation checks them too; this
    keeps a misuse of the API from failing in the middle of a call)."""
    params, results = ft.param_types, ft.result_types
    spill_params = len(flatten_types(params)) > MAX_FLAT_PARAMS
    spill_results = len(flatten_types(results)) > MAX_FLAT_RESULTS
    memory = spill_params or spill_results or any(needs_memory(t) for t in params + results)
    if memory and opts.memory is None:
        raise ValueError(f"`canon {context}` of {ft} needs the `memory` option")
    lowered_into_guest = params if context == "lift" else results
    realloc = any(needs_memory(t) for t in lowered_into_guest) or (
        context == "lift" and spill_params)
    if realloc and opts.realloc is None:
        raise ValueError(f"`canon {context}` of {ft} needs the `realloc` option")
    if any(contains_borrow(t) for t in results):
        raise ValueError(f"{ft}: a result cannot contain a `borrow`")
    if context == "lower" and opts.post_return is not None:
        raise ValueError("`post-return` is only allowed on `canon lift`")


class LiftedFunction:
    """A component function made by `canon lift`. `f(*args)` calls it from the host and
    returns the result value (None without a result); `invoke(caller, args, on_resolve,
    src_encoding)` is the general entry: `caller` is the calling `ComponentInstance` (None: the
    host), `on_resolve(result)`, when given, consumes the result before `post-return` runs, and
    `src_encoding` is the string encoding the arguments were lifted with ("utf8" for the
    host's strings; it decides the `realloc` pattern of string lowering)."""

    __slots__ = ("ft", "opts", "inst", "core_function", "core_type", "name", "_call",
                 "_lower_params", "_lift_results", "_cx", "_borrows", "_post_return",
                 "_n_results", "_n_params", "_entering", "_peer_cx")

    def __init__(self, opts: CanonicalOptions, inst, core_function, ft: FuncType,
                 name: str = "lifted"):
        _check_supported(ft, opts)
        _check_options(opts, ft, "lift")
        self.ft = ft
        self.opts = opts
        self.inst = inst
        self.core_function = core_function
        self.core_type = flatten_functype(ft, "lift")
        self.name = name
        self._call = core_function.call if isinstance(core_function, Function) else core_function
        self._lower_params = values_lowerer(ft.param_types, MAX_FLAT_PARAMS)
        self._lift_results = values_lifter(ft.result_types, MAX_FLAT_RESULTS)
        self._n_results = len(self.core_type.results)
        self._n_params = len(ft.params)
        self._cx = LiftLowerContext(opts, inst)
        self._peer_cx = LiftLowerContext(opts, inst, peer=True)    # called by a component
        self._borrows = any(contains_borrow(t) for t in ft.param_types)
        post = opts.post_return
        self._post_return = None if post is None else (
            post.call if isinstance(post, Function) else post)
        self._entering: dict = {}

    def __call__(self, *args):
        return call_guarded(self.invoke, (None, args, None))

    def entering_set(self, caller) -> tuple:
        try:
            return self._entering[caller]
        except KeyError:
            result = self._entering[caller] = self.inst.entering_set(caller)
            return result

    def invoke(self, caller, args, on_resolve=None, src_encoding: str = "utf8"):
        if len(args) != self._n_params:
            raise TypeError(f"{self.name} expects {self._n_params} arguments, got {len(args)}")
        entering = self._entering.get(caller)
        if entering is None:
            entering = self.entering_set(caller)
        enter(entering)
        task = Task() if self._borrows else None
        cx = self._cx if caller is None else self._peer_cx
        if task is not None or src_encoding != "utf8":
            cx = cx.copy(task, src_encoding)
        try:
            flat_args = self._lower_params(cx, args)
        except (TypeError, ValueError):
            leave(entering)         # a malformed host value: refused, the callee not poisoned
            raise
        ret = self._call(*flat_args)
        if not self._n_results:
            flat_results = []
        elif type(ret) is tuple:
            flat_results = list(ret)
        else:
            flat_results = [ret]
        result = self._lift_results(cx, flat_results)
        if task is not None:
            task.return_()
        value = result[0] if result else None
        if on_resolve is not None:
            on_resolve(value)
        post_return = self._post_return
        if post_return is not None:
            inst = self.inst
            inst.flags[MAY_LEAVE] = 0
            post_return(*flat_results)
            inst.flags[MAY_LEAVE] = 1
        leave(entering)
        return value

    def __repr__(self) -> str:
        return f"<LiftedFunction {self.name} {self.ft}>"


def canon_lift(opts: CanonicalOptions, inst, core_function, ft: FuncType,
               name: str = "lifted") -> LiftedFunction:
    """Spec: "`canon lift`" (synchronous)."""
    return LiftedFunction(opts, inst, core_function, ft, name)


def _scalar_bridge(name: str):
    """For a scalar type, what lifting a flat value on one side and lowering it on the other
    does to it, as one function of the flat value (Spec: "Flat Lifting", "Flat Lowering");
    None when it is the identity, False when the type is not a scalar."""
    if name == "bool":
        return lambda v: 1 if v else 0
    if name in ("u8", "u16"):
        mask = 0xFF if name == "u8" else 0xFFFF
        return lambda v: v & mask
    if name in ("s8", "s16"):
        bits = 8 if name == "s8" else 16
        mask, sign = (1 << bits) - 1, 1 << (bits - 1)
        return lambda v: (((v & mask) ^ sign) - sign) & 0xFFFFFFFF
    if name in ("u32", "s32", "u64", "s64"):
        return None
    if name in ("f32", "f64"):
        return lambda v: v if v == v else CANONICAL_NAN
    if name == "char":
        return lambda v: char_to_i32(convert_i32_to_char(v))
    return False


def _fused_call(inst, lifted: LiftedFunction, ft: FuncType):
    """A component-to-component call of scalars only (no memory, no handles, nothing
    spilled), fused into one adapter: the caller's flat arguments become the callee's
    directly, with the same checks, reentrance rules and post-return as the general path
    (`canon_lower` over `LiftedFunction.invoke`), without building component values. None
    when the types need the general path."""
    from ..types import PrimValType
    types = ft.param_types + ft.result_types
    if not all(isinstance(t, PrimValType) for t in types) or \
            len(ft.param_types) > MAX_FLAT_PARAMS:
        return None
    params = [_scalar_bridge(t.name) for t in ft.param_types]
    result = _scalar_bridge(ft.result.name) if ft.result is not None else None
    if any(p is False for p in params) or result is False:
        return None
    entering = lifted.entering_set(inst)
    call, post_return, callee = lifted._call, lifted._post_return, lifted.inst
    has_result = ft.result is not None
    plan = [(i, p) for i, p in enumerate(params) if p is not None]
    flags, callee_flags = inst.flags, callee.flags

    def fused(*args):
        if not flags[MAY_LEAVE]:
            raise Trap(TrapCode.CANNOT_LEAVE_COMPONENT)
        if plan:
            args = list(args)
            for i, p in plan:
                args[i] = p(args[i])
        enter(entering)
        ret = call(*args)
        value = (ret if result is None else result(ret)) if has_result else None
        if post_return is not None:
            callee_flags[MAY_LEAVE] = 0
            post_return(*((ret,) if has_result else ()))
            callee_flags[MAY_LEAVE] = 1
        leave(entering)
        return value
    return fused


def canon_lower(opts: CanonicalOptions, inst, callee, ft: FuncType,
                name: str = "lowered") -> Function:
    """Spec: "`canon lower`" (synchronous). Returns a core `Function` of type
    `flatten_functype(ft, "lower")`."""
    _check_supported(ft, opts)
    _check_options(opts, ft, "lower")
    core_type = flatten_functype(ft, "lower")
    n_params = len(flatten_types(ft.param_types))
    n_args = n_params if n_params <= MAX_FLAT_PARAMS else 1     # where the result pointer is
    lift_params = values_lifter(ft.param_types, MAX_FLAT_PARAMS)
    spill_results = len(flatten_types(ft.result_types)) > MAX_FLAT_RESULTS
    lower_results = values_lowerer(ft.result_types, MAX_FLAT_RESULTS, out_param=spill_results)
    has_result = ft.result is not None
    lifted = callee if isinstance(callee, LiftedFunction) else None
    if lifted is not None:
        fused = _fused_call(inst, lifted, ft)
        if fused is not None:
            return _with_native_adapter(Function(core_type, fused, name, host=True), inst,
                                        opts, lifted, ft)
    encoding = opts.string_encoding
    # the results are lowered from strings lifted by the callee (the host's are UTF-8)
    base_cx = LiftLowerContext(opts, inst, None,
                               lifted.opts.string_encoding if lifted is not None else "utf8",
                               peer=lifted is not None)
    borrows = any(contains_borrow(t) for t in ft.param_types)

    flags = inst.flags

    def lowered(*flat_args):
        if not flags[MAY_LEAVE]:
            raise Trap(TrapCode.CANNOT_LEAVE_COMPONENT)
        subtask = Subtask() if borrows else None
        cx = base_cx if subtask is None else base_cx.with_scope(subtask)
        args = lift_params(cx, flat_args)
        out_ptr = flat_args[n_args] if spill_results else None
        flat_results = None

        def on_resolve(result):
            nonlocal flat_results
            flat_results = lower_results(cx, (result,) if has_result else (), out_ptr)

        if lifted is not None:
            lifted.invoke(inst, args, on_resolve, encoding)
        else:
            on_resolve(callee(*args))
        if subtask is not None:
            subtask.deliver_resolve()
        if not flat_results:
            return None
        return flat_results[0]

    function = Function(core_type, lowered, name, host=True)
    if lifted is not None:
        _with_native_adapter(function, inst, opts, lifted, ft)
    return function


def _with_native_adapter(function: Function, inst, opts, lifted, ft) -> Function:
    """`function` (the Python adapter), given a native adapter when both core functions
    are native and the types allow (`native.py`)."""
    from .native import attach_native_adapter
    attach_native_adapter(function, inst, opts, lifted, ft)
    return function
