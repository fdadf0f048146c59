"""Native adapters between two components' core functions: descriptions, compilation, caches.

Sits in the AOT backend over `adapter_ir` (the IR text of an adapter, which reuses
`translate`'s glue: the trap function, the process context) and under the component layer,
which decides what can be fused and fills each adapter's context block
(`component/abi/native.py`). This module knows no component types: an adapter is described by
an `AdapterSpec` of plain names, and everything that varies per call site (the callee's code
and vmctx, the instances' flag cells, memories, `realloc`, `post-return`, the Python
fallbacks) is read at run time from the context block whose layout `vmctx.py` defines
(`ADAPTER_*`). So one compiled adapter serves every call site with the same description, and
the description alone keys the caches (in memory, and on disk through `AotCache` with the
compiler identity and host).

An adapter `ret adapter(ptr context, caller params...)` has the caller's (`canon lower`) core
type and sits in a function record, so native callers reach it with a plain indirect call. It
does what `canon lower` of a `canon lift` does, in the spec's order: trap unless the caller
may leave; lift the arguments in the caller's options; enter the instances the call enters
(trap unless each may be entered); lower the arguments in the callee's options (`realloc` of
the callee run natively with its `may_leave` cleared); call the callee's native code; lift the
results in the callee's options and lower them in the caller's (its `realloc`); run
`post-return` with the callee's `may_leave` cleared; leave. Spec: CanonicalABI.md, "`canon
lift`", "`canon lower`", "Flat Lifting", "Flat Lowering", "Loading", "Storing".

What runs natively, and what it hands to Python (never a different result, only slower):
- Before any side effect, any check that fails (caller may not leave, an invalid `char` or
  enum case, a string or list out of bounds or too long, ill-formed UTF-8, UTF-16 with a
  surrogate, latin1+utf16 tagged UTF-16, an invalid `char` in a list, an instance that may
  not be entered) sends the whole call to the slow record (the Python adapter), which runs
  the same checks and raises the exact trap the Python path raises (or, for the conservative
  string checks, does the call).
- After the callee returned, a result that is not the plain case (the same checks, and a
  misaligned or out-of-bounds return area) is converted by the result record (Python: lift in
  the callee's options, lower in the caller's), which raises the exact trap.
- A `realloc` whose result is misaligned or out of bounds traps through the trap record with
  the Python path's message.

Kinds handled: the scalars (bool, s8..u64, f32, f64 with NaN canonicalisation, char
validated), `enum:<cases>` (the case index checked), `flags:<labels>` (1 to 32 labels, other
bits dropped); strings between two sides of the same encoding, copied with `realloc`: `string`
(UTF-8, validated natively: ASCII words first, then a DFA), `string-utf16` (surrogate-free
text; surrogate pairs go to Python) and `string-latin1` (latin1+utf16: a Latin-1 string is
copied, a UTF-16-tagged one goes to Python); strings between two encodings,
`transcode:<source>:<destination>` over utf8, utf16 and latin1 (the source checked as its
same-encoding kind, then transcoded with the spec's `realloc` sequence, `adapter_strings`);
`list:<elem>` (lists of s8..u64, bool, char, f32 and f64, copied with `realloc`; bools
normalised and NaNs canonicalised in place after the copy, chars checked before it); `variant(<case>,...)` (each case's payload a scalar kind or
empty: the discriminant checked, the payload coerced from the joined flat type, converted and
coerced back; unused payload slots zero, Spec: `lift_flat_variant`, `lower_flat_variant`);
as the result only, `record(<field>;...)` of scalar and variant kinds. A result of more than
one flat value (variants with a payload, records) is loaded from the callee's return area,
converted (every check before any store) and stored in the caller's, writing only the
active case's payload (Spec: `load_variant`, `store_variant`). `list:<element kind>` of
strings, enums, flags, variants and records: checked element by element, then allocated and
converted element by element (`adapter_lists`). Deliberately not here: lists of lists,
variants with compound payloads, handles inside lists, variants or results records, spilled
parameters (the component layer keeps the Python adapter for those).

Handles: `own` and `borrow` parameters (also as fields of a flattened record or tuple
parameter) and an `own` result. The handle tables, borrow scopes and lend counts are Python
objects (`component/resources.py`), so the adapter moves each handle through one call to the
handle record (`HANDLE_*` ops): after every check of the call passed and before the callee's
instances are entered, one PARAM per handle, in parameter order (lift from the caller's table,
lower into the callee's, as `canon lower`/`canon lift` do; a bad handle traps there, as it
does on the Python path, before the instances' flags change), the first one opening the call's
borrow scope when it lends any; after the callee returned, RESULT (an `own` result: lifted from
the callee's table, the callee's borrows checked, lowered into the caller's) or, with a borrow
scope, RETURNED (the borrow check alone); the scope is closed (the lent handles given back)
with that step when nothing observable follows it (no `post-return`, no result through
memory), else by a step of its own after `post-return` and leaving. So a call with one handle
costs one or two trips to Python; everything else stays native.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

SCALAR_TYPES = {"bool": "i32", "s8": "i32", "u8": "i32", "s16": "i32", "u16": "i32",
                "s32": "i32", "u32": "i32", "char": "i32", "s64": "i64", "u64": "i64",
                "f32": "float", "f64": "double"}
INT_SIZES = {"s8": 1, "u8": 1, "s16": 2, "u16": 2, "s32": 4, "u32": 4, "s64": 8, "u64": 8}
# list element kinds -> element size (= alignment)
LIST_ELEMENTS = {**INT_SIZES, "bool": 1, "char": 4, "f32": 4, "f64": 8}
# the longest string or list (in bytes) a native adapter copies itself: the spec's limit. Longer
# strings go to the Python adapter, which applies wasmtime's limits between components (up to
# 2**31-1 bytes, component/abi/strings.py) and raises their exact traps
MAX_BYTE_LENGTH = (1 << 28) - 1
SYMBOL = "pywamr_adapter"
DESCRIPTION_VERSION = 1

# reasons passed to the trap record (the component layer maps them to its messages)
TRAP_REALLOC_UNALIGNED = 1
TRAP_STRING_REALLOC_OUT_OF_BOUNDS = 2
TRAP_LIST_REALLOC_OUT_OF_BOUNDS = 3
TRAP_VALUE_REALLOC_OUT_OF_BOUNDS = 4      # a transcoding's shrinking `realloc`

# handle kinds (`own` and `borrow` parameters, an `own` result): the handle tables are Python
# objects, so the adapter moves each handle through the handle record, with an op as its first
# argument (see `component/abi/native.py`, `_HandleTransfer`): one of three steps, optionally
# with the call's borrow scope opened before it (BEGIN) or closed after it (END). Only calls
# with `borrow` parameters have a scope, opened with their first handle parameter.
HANDLE_KINDS = ("own", "borrow")
HANDLE_PARAM = 1        # (position among the handle parameters, caller's index) -> callee's
HANDLE_RESULT = 2       # callee's `own` index -> caller's (the callee's borrows checked first)
HANDLE_RETURNED = 3     # the callee returned: check it dropped the borrows it was lent
HANDLE_NOTHING = 4      # no step: only BEGIN or END
HANDLE_STEP = 7         # the bits of the step
HANDLE_BEGIN = 8        # first open the call's borrow scope
HANDLE_END = 16         # then close it: give back the lent handles


# string kinds (the same encoding on both sides) -> (code unit size, alignment)
STRING_UNITS = {"string": (1, 1), "string-utf16": (2, 2), "string-latin1": (1, 2)}
# transcoding kinds `transcode:<source>:<destination>`: the source's (code unit size,
# alignment), the source's same-encoding kind (whose checks apply)
ENCODINGS = {"utf8": "string", "utf16": "string-utf16", "latin1": "string-latin1"}


def transcode_pair(kind: str) -> tuple[str, str] | None:
    """(source, destination) encodings of a `transcode:` kind, else None."""
    head, _, rest = kind.partition(":")
    src, _, dst = rest.partition(":")
    if head != "transcode" or src not in ENCODINGS or dst not in ENCODINGS or src == dst:
        return None
    return src, dst


def string_kind(kind: str) -> str | None:
    """The same-encoding string kind whose source checks apply to `kind`, or None when
    `kind` is not a string."""
    if kind in STRING_UNITS:
        return kind
    pair = transcode_pair(kind)
    return ENCODINGS[pair[0]] if pair else None


def scalar_type(kind: str) -> str | None:
    """The LLVM type of a kind that travels as one flat value (None for strings, lists):
    the scalars, `enum:<cases>` and `flags:<labels>` (1 to 32 labels)."""
    lltype = SCALAR_TYPES.get(kind)
    if lltype is not None:
        return lltype
    head, _, count = kind.partition(":")
    if head in ("enum", "flags") and count.isdigit() and \
            (1 <= int(count) <= 32 if head == "flags" else int(count) >= 1):
        return "i32"
    return None


def variant_cases(kind: str) -> list[str | None] | None:
    """The payload kind (None for none) of each case of `variant(<k>,,<k>...)`, else None."""
    if not (kind.startswith("variant(") and kind.endswith(")")):
        return None
    return [c or None for c in kind[8:-1].split(",")]


def record_fields(kind: str) -> list[str] | None:
    """The field kinds of `record(<k>;<k>...)`, else None."""
    if not (kind.startswith("record(") and kind.endswith(")")):
        return None
    return kind[7:-1].split(";")


def _join(a: str, b: str) -> str:
    """Spec: CanonicalABI.md, "Flattening" (`join`), over LLVM type names."""
    if a == b:
        return a
    return "i32" if {a, b} == {"i32", "float"} else "i64"


def variant_payload(kind: str) -> list[str]:
    """The joined flat type of a variant's payload ([] when no case has one)."""
    joined: list[str] = []
    for case in variant_cases(kind):
        if case is not None:
            t = scalar_type(case)
            joined = [t] if not joined else [_join(joined[0], t)]
    return joined


def kind_supported(kind: str) -> bool:
    """Whether `kind` is converted natively (handle kinds: only as parameters and an `own`
    result, checked by `AdapterSpec`)."""
    if kind in HANDLE_KINDS or scalar_type(kind) is not None or string_kind(kind) is not None:
        return True
    cases = variant_cases(kind)
    if cases is not None:
        return bool(cases) and all(c is None or scalar_type(c) is not None for c in cases)
    fields = record_fields(kind)
    if fields is not None:
        return bool(fields) and all(scalar_type(f) is not None or
                                    (variant_cases(f) is not None and kind_supported(f))
                                    for f in fields)
    elem = list_element(kind)
    if elem is None:
        return False
    if elem in LIST_ELEMENTS or string_kind(elem) is not None:
        return True
    return (scalar_type(elem) is not None or variant_cases(elem) is not None or
            record_fields(elem) is not None) and kind_supported(elem)


def _flat(kind: str) -> list[str]:
    if kind in HANDLE_KINDS:
        return ["i32"]
    lltype = scalar_type(kind)
    if lltype is not None:
        return [lltype]
    if variant_cases(kind) is not None:
        return ["i32"] + variant_payload(kind)
    fields = record_fields(kind)
    if fields is not None:
        return [t for f in fields for t in _flat(f)]
    return ["i32", "i32"]


def _scalar_size(kind: str) -> int:
    """Size (= alignment) in memory of a kind that travels as one flat value."""
    if kind in LIST_ELEMENTS:
        return LIST_ELEMENTS[kind]
    head, _, count = kind.partition(":")
    n = int(count)
    if head == "flags":
        return 1 if n <= 8 else 2 if n <= 16 else 4
    return 1 if n <= 256 else 2 if n <= 65536 else 4       # an enum's discriminant


def align_to(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment


def kind_layout(kind: str) -> tuple[int, int]:
    """(size, alignment) in memory of a scalar, variant or record kind. Spec: CanonicalABI.md,
    "Alignment", "Element Size"."""
    if scalar_type(kind) is not None:
        size = _scalar_size(kind)
        return size, size
    cases = variant_cases(kind)
    if cases is not None:
        disc = _scalar_size(f"enum:{len(cases)}")
        payloads = [kind_layout(c) for c in cases if c is not None]
        case_align = max([a for _, a in payloads], default=1)
        case_size = max([s for s, _ in payloads], default=0)
        align = max(disc, case_align)
        return align_to(align_to(disc, case_align) + case_size, align), align
    size, align = 0, 1
    for f in record_fields(kind):
        fs, fa = kind_layout(f)
        size = align_to(size, fa) + fs
        align = max(align, fa)
    return align_to(size, align), align


def variant_payload_offset(kind: str) -> int:
    cases = variant_cases(kind)
    disc = _scalar_size(f"enum:{len(cases)}")
    return align_to(disc, max([kind_layout(c)[1] for c in cases if c is not None], default=1))


def record_offsets(kind: str) -> list[int]:
    out, size = [], 0
    for f in record_fields(kind):
        fs, fa = kind_layout(f)
        size = align_to(size, fa)
        out.append(size)
        size += fs
    return out


def result_in_memory(kind: str | None) -> bool:
    """Whether a result of `kind` comes back through a return area (more than one flat
    value: strings, lists, most variants and records)."""
    return kind is not None and len(_flat(kind)) > 1


def _unit(kind: str) -> tuple[int, int]:
    """(code unit or element size, alignment) of a string or list kind."""
    if string_kind(kind) is not None:
        return STRING_UNITS[string_kind(kind)]
    elem = list_element(kind)
    if elem in LIST_ELEMENTS:
        size = LIST_ELEMENTS[elem]
        return size, size
    if string_kind(elem) is not None:
        return 8, 4                          # (pointer, length)
    return kind_layout(elem)


def list_element(kind: str) -> str | None:
    """The element kind of a `list:<element>` kind, else None."""
    return kind[5:] if kind.startswith("list:") else None


def compound_list(kind: str) -> bool:
    """Whether `kind` is a list whose elements are converted one by one (`adapter_lists`)."""
    elem = list_element(kind)
    return elem is not None and elem not in LIST_ELEMENTS


@dataclass(frozen=True, slots=True)
class AdapterSpec:
    """What an adapter does, independent of any instance: the kind of each parameter and of
    the result (see the module docstring), how many instances the call enters, and whether
    the callee has a `post-return`."""
    params: tuple
    result: str | None
    entering: int
    post_return: bool

    def __post_init__(self):
        for kind in self.params + ((self.result,) if self.result else ()):
            if not kind_supported(kind):
                raise ValueError(f"adapter kind {kind!r} is not supported natively")
        if self.result == "borrow":
            raise ValueError("a result cannot be a `borrow`")

    @property
    def handles(self) -> bool:
        """Whether a call moves handles (through the handle record)."""
        return self.result == "own" or any(k in HANDLE_KINDS for k in self.params)

    @property
    def borrows(self) -> bool:
        """Whether a call lends handles (and so has a borrow scope)."""
        return "borrow" in self.params

    @property
    def caller_params(self) -> list[str]:
        out = [t for k in self.params for t in _flat(k)]
        if result_in_memory(self.result):
            out.append("i32")           # the caller's return area
        return out

    @property
    def result_type(self) -> str:
        if self.result is None or result_in_memory(self.result):
            return "void"
        return _flat(self.result)[0]

    @property
    def callee_result_type(self) -> str:
        if self.result is None:
            return "void"
        return "i32" if result_in_memory(self.result) else _flat(self.result)[0]

    def description(self) -> str:
        """The text that identifies the adapter (cache key material, bundle manifests)."""
        return json.dumps({"adapter": DESCRIPTION_VERSION, "params": list(self.params),
                           "result": self.result, "entering": self.entering,
                           "post_return": self.post_return}, sort_keys=True)

    @classmethod
    def from_description(cls, text: str) -> "AdapterSpec":
        d = json.loads(text)
        if d.get("adapter") != DESCRIPTION_VERSION:
            raise ValueError("adapter description of another version")
        return cls(tuple(d["params"]), d["result"], int(d["entering"]), bool(d["post_return"]))

    def digest(self) -> str:
        from .artifact import sha256      # CPython's own SHA-256: no OpenSSL to load
        return sha256(self.description().encode())


# ---- compiled adapters: memory and disk caches --------------------------------------------------

class LoadedAdapter:
    """The native code of one adapter: `address` of `pywamr_adapter`, kept alive by `tracker`."""

    __slots__ = ("spec", "address", "tracker", "artifact")

    def __init__(self, spec: AdapterSpec, address: int, tracker, artifact: bytes):
        self.spec = spec
        self.address = address
        self.tracker = tracker
        self.artifact = artifact


_loaded: dict[str, LoadedAdapter] = {}


class Stats:
    compiled = 0          # adapters compiled by LLVM in this process
    from_disk = 0         # adapters read from the on-disk cache or a given artifact


stats = Stats()


def _cache_key(spec: AdapterSpec, host: dict) -> str:
    from .artifact import FORMAT_VERSION, compiler_identity, sha256
    material = json.dumps({"adapter": spec.description(), "host": host,
                           "compiler": compiler_identity(), "format": FORMAT_VERSION},
                          sort_keys=True)
    return sha256(material.encode())


def _load(spec: AdapterSpec, data: bytes) -> LoadedAdapter:
    from . import _host, bridge
    from .artifact import read_artifact
    from .loader import link_objects
    art = read_artifact(data, _host(), spec.description().encode())
    if art.header.get("source_kind") != "adapter" or len(art.objects) != 1:
        from .artifact import ArtifactError
        raise ArtifactError("not an adapter artifact")
    linked = link_objects(art.objects, bridge.symbol_imports(), lambda: [SYMBOL])
    return LoadedAdapter(spec, linked.symbols[SYMBOL], linked.owner, data)


def cache_of(function):
    """The on-disk cache the module of a native `function` was compiled through (None when
    it had none: the engine's cache turned off, or a precompiled artifact)."""
    state = getattr(function, "instance", None)
    loaded = getattr(getattr(state, "engine_data", None), "loaded", None)
    return getattr(loaded, "cache", None)


def compiled_adapter(spec: AdapterSpec, cache=None) -> LoadedAdapter:
    """The loaded native code of `spec`: from this process's cache, else from the on-disk
    `cache` (an `AotCache`, or None), else compiled by LLVM (in a worker process) and stored
    in both."""
    key = spec.description()
    hit = _loaded.get(key)
    if hit is not None:
        return hit
    from . import _host
    from .artifact import ArtifactError, write_artifact
    host = _host(cache)
    disk_key = _cache_key(spec, host)
    if cache is not None:
        data = cache.get(disk_key)
        if data is not None:
            try:
                loaded = _loaded[key] = _load(spec, data)
                stats.from_disk += 1
                return loaded
            except ArtifactError:
                cache.discard(disk_key)
    from .adapter_ir import adapter_ir
    from .compiler import compile_ir_text
    obj = compile_ir_text(adapter_ir(spec))
    stats.compiled += 1
    data = write_artifact(key.encode(), [obj], host, {"source_kind": "adapter"})
    if cache is not None:
        cache.put(disk_key, data)
    loaded = _loaded[key] = _load(spec, data)
    return loaded


def install_artifact(description: str, data: bytes) -> LoadedAdapter:
    """Load an adapter artifact stored elsewhere (a component bundle) into this process's
    cache, after checking it against `description`, this compiler and this host
    (`ArtifactError` if it does not fit)."""
    spec = AdapterSpec.from_description(description)
    hit = _loaded.get(spec.description())
    if hit is not None:
        return hit
    loaded = _loaded[spec.description()] = _load(spec, data)
    stats.from_disk += 1
    return loaded
