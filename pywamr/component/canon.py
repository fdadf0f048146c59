"""Validation of canonical definitions: lift, lower, resource built-ins, and their options.

Part of component validation (`validate.py` calls `validate_canon` for each definition of the
canon section). Computes the core function type a lift expects and a lower produces with a
small `flatten_functype` of its own (same rules as `abi/`'s, Spec: CanonicalABI.md
"Flattening"), capped so that huge types cannot make validation slow. Async, stream, future,
error-context and thread built-ins are refused here as not supported, naming the built-in.
Spec: CanonicalABI.md "canonopt Validation", "canon lift", "canon lower",
"canon resource.new / drop / rep".
"""
from __future__ import annotations

from dataclasses import dataclass

from ..binary.types import F32, F64, FuncType as CoreFuncType, I32, I64, MemoryType
from ..errors import NotSupported, ValidationError
from . import ast
from .scope import Scope
from .subtype import children
from .types import (BorrowType, FlagsType, FuncType, FutureType, ListType, MapType, OwnType,
                    PrimValType, RecordType, ResourceType, StreamType, ValType, VariantType,
                    despecialize)

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1

_PRIM_FLAT = {"bool": I32, "s8": I32, "u8": I32, "s16": I32, "u16": I32, "s32": I32,
              "u32": I32, "char": I32, "s64": I64, "u64": I64, "f32": F32, "f64": F64,
              "error-context": I32}


@dataclass(frozen=True, slots=True)
class CanonOptions:
    """Resolved canonical options: indices into the core func / memory index spaces."""
    string_encoding: str = "utf8"
    memory: int | None = None
    realloc: int | None = None
    post_return: int | None = None
    is_async: bool = False
    callback: int | None = None


@dataclass(frozen=True, slots=True)
class CanonInfo:
    """What validation learned about one canon definition: the component function type
    (lift and lower), the core function type (of the lifted callee, or of the new core
    function), the options, and the resource of a resource built-in."""
    func_type: FuncType | None
    core_type: CoreFuncType
    options: CanonOptions | None = None
    resource: ResourceType | None = None


# ---- flattening ---------------------------------------------------------------------------------

class _TooMany(Exception):
    pass


def flatten_type(t: ValType, out: list, cap: int) -> None:
    """Append the flat core types of `t` to `out`; raise _TooMany past `cap` values."""
    t = despecialize(t)
    if isinstance(t, PrimValType):
        if t.name == "string":
            out += (I32, I32)
        else:
            out.append(_PRIM_FLAT[t.name])
    elif isinstance(t, ListType):
        if t.length is None:
            out += (I32, I32)
        else:
            for _ in range(t.length):
                flatten_type(t.elem, out, cap)
                if len(out) > cap:
                    break
    elif isinstance(t, RecordType):
        for f in t.fields:
            flatten_type(f.t, out, cap)
            if len(out) > cap:
                break
    elif isinstance(t, VariantType):
        out.append(I32)     # the discriminant (u8, u16 or u32: all flatten to i32)
        payload: list = []
        for c in t.cases:
            if c.t is None:
                continue
            flat: list = []
            flatten_type(c.t, flat, cap)
            for i, ft in enumerate(flat):
                if i < len(payload):
                    payload[i] = _join(payload[i], ft)
                else:
                    payload.append(ft)
        out += payload
    elif isinstance(t, (FlagsType, OwnType, BorrowType, StreamType, FutureType)):
        out.append(I32)
    else:
        raise ValidationError(f"cannot flatten {type(t).__name__}")
    if len(out) > cap:
        raise _TooMany


def _join(a: int, b: int) -> int:
    if a == b:
        return a
    if {a, b} == {I32, F32}:
        return I32
    return I64


def flatten_types(ts, cap: int) -> list | None:
    """The flat core types of `ts`, or None when there are more than `cap`."""
    out: list = []
    try:
        for t in ts:
            flatten_type(t, out, cap)
    except _TooMany:
        return None
    return out


def flatten_functype(ft: FuncType, context: str) -> CoreFuncType:
    """Spec: CanonicalABI.md "Flattening" `flatten_functype`, synchronous ABI."""
    params = flatten_types(ft.param_types, MAX_FLAT_PARAMS)
    results = flatten_types(ft.result_types, MAX_FLAT_RESULTS)
    if params is None:
        params = [I32]
    if results is None:
        if context == "lift":
            results = [I32]
        else:
            params = params + [I32]
            results = []
    return CoreFuncType(tuple(params), tuple(results))


def _needs_memory(ts) -> bool:
    """Does any of `ts` contain a string or a (variable-length) list?"""
    seen = set()
    stack = list(ts)
    while stack:
        t = stack.pop()
        if t is None or id(t) in seen:
            continue
        seen.add(id(t))
        if isinstance(t, PrimValType) and t.name == "string":
            return True
        if isinstance(t, MapType):
            return True             # a list of pairs in memory
        if isinstance(t, ListType):
            if t.length is None:
                return True
            stack.append(t.elem)
        elif isinstance(t, (StreamType, FutureType)) or \
                (isinstance(t, PrimValType) and t.name == "error-context"):
            continue
        else:
            stack.extend(children(t))
    return False


def _unsupported(ts) -> str | None:
    seen = set()
    stack = list(ts)
    while stack:
        t = stack.pop()
        if t is None or id(t) in seen:
            continue
        seen.add(id(t))
        if isinstance(t, StreamType):
            return "stream types"
        if isinstance(t, FutureType):
            return "future types"
        if isinstance(t, PrimValType) and t.name == "error-context":
            return "error-context types"
        stack.extend(children(t))
    return None


# ---- options ------------------------------------------------------------------------------------

def options(scope: Scope, opts, context: str) -> CanonOptions:
    values: dict = {}
    for opt in opts:
        key = opt.kind
        if key in values:
            what = "string encoding" if key == "string-encoding" else f"`{key}`"
            raise ValidationError(f"canonical option {what} is specified more than once")
        values[key] = opt.value
    if "async" in values or "callback" in values:
        raise NotSupported("async canonical options (`async`, `callback`) are not supported")
    memory = values.get("memory")
    if memory is not None:
        mt = scope.get("core memory", memory, "memory")
        if not isinstance(mt, MemoryType):
            raise ValidationError(f"core memory index {memory} is not a memory")
    realloc = values.get("realloc")
    if realloc is not None:
        rt = scope.get("core func", realloc, "function")
        if rt != CoreFuncType((I32, I32, I32, I32), (I32,)):
            raise ValidationError("canonical option `realloc` uses a core function with an "
                                  "incorrect signature")
        if memory is None:
            raise ValidationError("canonical option `realloc` requires a `memory`")
    post_return = values.get("post-return")
    if post_return is not None:
        if context != "lift":
            raise ValidationError("canonical option `post-return` cannot be specified for "
                                  "lowerings")
        scope.get("core func", post_return, "function")
    return CanonOptions(values.get("string-encoding", "utf8"), memory, realloc, post_return)


def _require(opts: CanonOptions, memory: bool, realloc: bool) -> None:
    if memory and opts.memory is None:
        raise ValidationError("canonical option `memory` is required")
    if realloc and opts.realloc is None:
        raise ValidationError("canonical option `realloc` is required")


# ---- the definitions ----------------------------------------------------------------------------

def validate_canon(scope: Scope, canon) -> CanonInfo:
    if isinstance(canon, ast.CanonLift):
        return _lift(scope, canon)
    if isinstance(canon, ast.CanonLower):
        return _lower(scope, canon)
    if isinstance(canon, (ast.CanonResourceNew, ast.CanonResourceDrop, ast.CanonResourceRep)):
        return _resource_builtin(scope, canon)
    if isinstance(canon, ast.CanonUnsupported):
        raise NotSupported(f"the canonical built-in `{canon.name}` is not supported (it "
                           "belongs to the async, error-context or threads proposals)")
    raise ValidationError(f"unexpected canonical definition {type(canon).__name__}")


def _check_supported(ft: FuncType) -> None:
    if ft.is_async:
        raise NotSupported("async function types are not supported")
    what = _unsupported(ft.param_types + ft.result_types)
    if what:
        raise NotSupported(f"{what} (async proposal) are not supported in lifted or lowered "
                           "functions")


def _lift(scope: Scope, canon: ast.CanonLift) -> CanonInfo:
    ft = scope.get("type", canon.type_index)
    if not isinstance(ft, FuncType):
        raise ValidationError(f"type index {canon.type_index} is not a function type")
    core = scope.get("core func", canon.core_func, "core function")
    opts = options(scope, canon.options, "lift")
    _check_supported(ft)
    expected = flatten_functype(ft, "lift")
    if core != expected:
        raise ValidationError(f"lowered parameter types `{list(core.params)}` do not match "
                              f"parameter types `{list(expected.params)}` of core function "
                              f"{canon.core_func}" if core.params != expected.params else
                              f"lowered result types `{list(core.results)}` do not match "
                              f"result types `{list(expected.results)}` of core function "
                              f"{canon.core_func}")
    params_spill = flatten_types(ft.param_types, MAX_FLAT_PARAMS) is None
    results_spill = flatten_types(ft.result_types, MAX_FLAT_RESULTS) is None
    param_mem = _needs_memory(ft.param_types)
    result_mem = _needs_memory(ft.result_types)
    _require(opts, memory=param_mem or result_mem or params_spill or results_spill,
             realloc=param_mem or params_spill)
    if opts.post_return is not None:
        pt = scope.core_funcs[opts.post_return]
        if pt != CoreFuncType(expected.results, ()):
            raise ValidationError("canonical option `post-return` uses a core function with "
                                  "an incorrect signature")
    return CanonInfo(ft, expected, opts)


def _lower(scope: Scope, canon: ast.CanonLower) -> CanonInfo:
    ft = scope.get("func", canon.func, "function")
    opts = options(scope, canon.options, "lower")
    _check_supported(ft)
    params_spill = flatten_types(ft.param_types, MAX_FLAT_PARAMS) is None
    results_spill = flatten_types(ft.result_types, MAX_FLAT_RESULTS) is None
    param_mem = _needs_memory(ft.param_types)
    result_mem = _needs_memory(ft.result_types)
    _require(opts, memory=param_mem or result_mem or params_spill or results_spill,
             realloc=result_mem)
    core = flatten_functype(ft, "lower")
    scope.core_funcs.append(core)
    return CanonInfo(ft, core, opts)


def _resource_builtin(scope: Scope, canon) -> CanonInfo:
    r = scope.get("type", canon.type_index)
    if not isinstance(r, ResourceType):
        raise ValidationError(f"type index {canon.type_index} is not a resource type")
    if isinstance(canon, ast.CanonResourceDrop):
        if canon.is_async:
            raise NotSupported("async `resource.drop` is not supported")
        core = CoreFuncType((I32,), ())
    else:
        if r not in scope.defined_resources:
            raise ValidationError(f"type index {canon.type_index} is not a local resource")
        core = CoreFuncType((I32,), (I32,))
    scope.core_funcs.append(core)
    return CanonInfo(None, core, None, r)
