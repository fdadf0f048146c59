"""The canonical ABI, synchronous part: component values to and from core wasm.

Sits in `component`, over `types.py` (resolved types), `resources.py` (handle tables) and
`state.py` (per-instance flags), and under the instantiation plan and the Python bindings,
which call `canon_lift`, `canon_lower` and the resource built-ins. Modules, in the spec's
order: `options` (canonopts, `LiftLowerContext`), `layout` (alignment, elem_size, flattening,
cached per type), `strings`, `handles` (own/borrow), `load`, `store`, `flat` (flat lifting and
lowering, parameter/result lists), `lift` (`canon lift`/`canon lower`), `builtins`
(`resource.new/rep/drop`). Every converter is a closure built once per type and cached.

Component-level values (what `LiftedFunction(...)` takes and returns, what a host callee given
to `canon_lower` receives and returns):

- bool: bool (lowering takes any truthy value)
- s8 .. u64: int in the type's range
- f32, f64: float. f32 values are rounded to f32 when lowered; every NaN lifts as the
  canonical NaN and is lowered as it (0x7fc00000 / 0x7ff8000000000000)
- char: a str of one character (not a surrogate)
- string: str (no lone surrogates)
- list<T>, list<T, N>: list (lowering takes any sequence of the right length, bytes or
  bytearray for list<u8>)
- map<K, V>: a list of (key, value) tuples, in order, duplicate keys kept (the list of
  pairs it despecializes to; lowering also takes a dict, whose items it lowers)
- record: dict {label: value}
- tuple: tuple
- variant: a (label, payload) pair, payload None for a case without a type
- enum: the label (str)
- option<T>: ("none", None) or ("some", value), the variant it despecializes to
- result<T, E>: ("ok", value) or ("error", value), value None where the type is absent
- flags: frozenset of the labels that are set (lowering takes any iterable of labels)
- own<R>, borrow<R>: the resource's rep, an int in [0, 2**32) (bindings wrap it)

Guest misbehaviour traps (`pywamr.errors.Trap`); a malformed value from the host raises
`TypeError`/`ValueError` before anything is written. The async ABI (async function types and
options, stream, future, error-context and their built-ins) raises `NotSupported`.
Spec: ../reference/component-model/CanonicalABI.md.
"""
from .builtins import (call_destructor, canon_resource_drop, canon_resource_new,
                       canon_resource_rep, drop_resource, unsupported_builtin)
from .flat import lift_flat, lifter, lower_flat, lowerer, values_lifter, values_lowerer
from .layout import (Layout, align_to, alignment, contains_borrow, discriminant_type,
                     elem_size, flatten_functype, flatten_type, flatten_types, join, layout)
from .lift import LiftedFunction, canon_lift, canon_lower
from .load import load, loader
from .options import (MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, CanonicalOptions, LiftLowerContext)
from .store import store, storer

__all__ = [
    "CanonicalOptions", "LiftLowerContext", "MAX_FLAT_PARAMS", "MAX_FLAT_RESULTS",
    "Layout", "layout", "alignment", "elem_size", "align_to", "discriminant_type", "join",
    "flatten_type", "flatten_types", "flatten_functype", "contains_borrow",
    "load", "loader", "store", "storer", "lift_flat", "lower_flat", "lifter", "lowerer",
    "values_lifter", "values_lowerer",
    "LiftedFunction", "canon_lift", "canon_lower",
    "canon_resource_new", "canon_resource_rep", "canon_resource_drop", "call_destructor",
    "drop_resource", "unsupported_builtin",
]
