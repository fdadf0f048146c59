"""Differential tests against wasmtime: the same component-to-component copy, byte for byte.

A source core instance A holds a value of type T in its memory (an image written by pywamr's
`store`); it calls a lowered import whose callee is B's lifted `put(x: T, pad: tuple<u32 x 16>)`
(the pad spills the parameters into memory).
wasmtime runs this as a real component (its fused adapter lifts from A and lowers into B);
pywamr runs `canon_lower(canon_lift(...))` over the same core code. B's memory afterwards
(everything its bump allocator handed out) must be identical: this checks pywamr's memory
layout (wasmtime reads the image pywamr wrote), its lifting, its lowering and its realloc calls
(including the grow-and-shrink patterns of string transcoding) against an independent
implementation.
"""
from __future__ import annotations

import pytest

from pywamr.component.abi import canon_lift, canon_lower, flatten_functype
from pywamr.component.abi.flat import values_lowerer
from pywamr.component.types import (BOOL, CHAR, F32, F64, S8, S16, S32, S64, STRING, U8, U16,
                                    U32, U64, CaseType, EnumType, FieldType, FlagsType,
                                    FuncType, ListType, MapType, OptionType, PrimValType,
                                    RecordType, ResultType, TupleType, VariantType)
from pywamr_testlib import wat

from component.abi_testlib import BUMP_WAT, Guest

wasmtime = pytest.importorskip("wasmtime", reason="the wasmtime package is the oracle")
component_api = pytest.importorskip("wasmtime.component",
                                    reason="this wasmtime has no component API")

PAD = TupleType((U32,) * 16)       # forces the parameters into memory


def type_wat(t, defs: list | None = None) -> str:
    """WAT for `t`; records, variants, enums and flags become exported named types appended
    to `defs` (an exported function may only use exported nominal types)."""
    if defs is None:
        defs = []
    ref = lambda u: type_wat(u, defs)
    if isinstance(t, PrimValType):
        return t.name
    if isinstance(t, ListType):
        return f"(list {ref(t.elem)})"
    if isinstance(t, MapType):
        return f"(map {ref(t.key)} {ref(t.value)})"
    if isinstance(t, TupleType):
        return "(tuple " + " ".join(map(ref, t.elems)) + ")"
    if isinstance(t, OptionType):
        return f"(option {ref(t.t)})"
    if isinstance(t, ResultType):
        ok = f" {ref(t.ok)}" if t.ok is not None else ""
        err = f" (error {ref(t.error)})" if t.error is not None else ""
        return f"(result{ok}{err})"
    if isinstance(t, RecordType):
        body = "(record " + " ".join(f'(field "{f.label}" {ref(f.t)})' for f in t.fields) + ")"
    elif isinstance(t, VariantType):
        body = "(variant " + " ".join(
            f'(case "{c.label}"' + (f" {ref(c.t)})" if c.t is not None else ")")
            for c in t.cases) + ")"
    elif isinstance(t, EnumType):
        body = "(enum " + " ".join(f'"{label}"' for label in t.labels) + ")"
    elif isinstance(t, FlagsType):
        body = "(flags " + " ".join(f'"{label}"' for label in t.labels) + ")"
    else:
        raise TypeError(t)
    n = len(defs)
    defs.append(f"(type $d{n} {body}) (export $n{n} \"n{n}\" (type $d{n}))")
    return f"$n{n}"


B_CORE = BUMP_WAT + """
  (func (export "put") (param i32) (i32.store (i32.const 8) (local.get 0)))
  (func (export "dump") (result i32)
    (i32.store (i32.const 0) (i32.const 0))
    (i32.store (i32.const 4) (global.get $bump))
    (i32.const 0))
"""


def component_wat(t, image: bytes, ptr: int, enc_a: str, enc_b: str) -> str:
    data = "".join(f"\\{b:02x}" for b in image)
    defs: list = []
    ty = type_wat(t, defs)
    type_defs = "\n    ".join(defs)
    return f"""
(component
  (component $B
    (core module $M {B_CORE})
    (core instance $m (instantiate $M))
    {type_defs}
    (type $T {ty})
    (func (export "put") (param "x" $T) (param "pad" {type_wat(PAD)})
      (canon lift (core func $m "put") (memory (core memory $m "memory")) (realloc (core func $m "realloc"))
                  string-encoding={enc_b}))
    (func (export "dump") (result (list u8))
      (canon lift (core func $m "dump") (memory (core memory $m "memory")) (realloc (core func $m "realloc"))))
  )
  (instance $b (instantiate $B))
  (core module $AMem (memory (export "memory") 1))
  (core instance $amem (instantiate $AMem))
  (core func $put (canon lower (func $b "put") (memory (core memory $amem "memory")) string-encoding={enc_a}))
  (core module $A
    (import "env" "memory" (memory 1))
    (import "env" "put" (func $put (param i32)))
    (data (i32.const 1024) "{data}")
    (func (export "run") (call $put (i32.const {ptr}))))
  (core instance $a (instantiate $A (with "env" (instance
    (export "memory" (memory $amem "memory")) (export "put" (func $put))))))
  (func (export "run") (canon lift (core func $a "run")))
  (func (export "dump") (alias export $b "dump"))
)"""


_ENGINE = []


def run_wasmtime(text: str) -> bytes:
    if not _ENGINE:
        config = wasmtime.Config()
        config.wasm_component_model_map = True      # off by default in wasmtime
        _ENGINE.append(wasmtime.Engine(config))
    engine = _ENGINE[0]
    store = wasmtime.Store(engine)
    component = component_api.Component(engine, wat(text))
    instance = component_api.Linker(engine).instantiate(store, component)
    run = instance.get_func(store, "run")
    run(store)
    run.post_return(store)
    dump = instance.get_func(store, "dump")
    data = dump(store)
    dump.post_return(store)
    return bytes(data)


def run_pywamr(t, value, enc_a: str, enc_b: str):
    """Returns (image of A from 1024, pointer to the argument tuple, B's memory bytes)."""
    ft = FuncType((("x", t), ("pad", PAD)))
    a, b = Guest(name="A"), Guest(B_CORE.replace(BUMP_WAT, ""), name="B")
    flat = values_lowerer(ft.param_types, 16)(a.cx(enc_a), [value, tuple(range(16))])
    image = a.bytes(1024, a.global_value("bump") - 1024)
    lifted = canon_lift(b.opts(enc_b), b.state, b.func("put"), ft)
    lowered = canon_lower(a.opts(enc_a), a.state, lifted, ft)
    assert lowered.type == flatten_functype(ft, "lower")
    lowered.call(*flat)
    b.func("dump").call()
    return image, flat[0], b.bytes(0, b.global_value("bump"))


FLAGS = FlagsType(tuple(f"f{i}" for i in range(20)))
SHAPE = VariantType((CaseType("circle", F32), CaseType("square", U64),
                     CaseType("label", STRING), CaseType("none")))
CASES = [
    (TupleType((BOOL, S8, U8, S16, U16, S32, U32, S64, U64)),
     (True, -2, 200, -300, 60000, -70000, 4000000000, -2**40, 2**63 + 5)),
    (TupleType((F32, F64, CHAR)), (1.5, -2.25e100, "\U0001F600")),
    (STRING, "plain ascii"),
    (STRING, "latin \xe9\xff"),
    (STRING, "wide \u20ac\u4e2d \U0001F600"),
    (ListType(STRING), ["a", "\u20ac", "", "\xe9t\xe9"]),
    (ListType(RecordType((FieldType("id", U32), FieldType("name", STRING),
                          FieldType("score", OptionType(F64))))),
     [{"id": 1, "name": "one", "score": ("some", 0.5)},
      {"id": 2, "name": "deux \xe9", "score": ("none", None)}]),
    (ListType(SHAPE), [("circle", 2.5), ("square", 2**50), ("label", "L"), ("none", None)]),
    (ResultType(ListType(U16), EnumType(("bad", "worse", "worst"))), ("ok", [1, 2, 65535])),
    (ResultType(ListType(U16), EnumType(("bad", "worse", "worst"))), ("error", "worst")),
    (ResultType(None, STRING), ("ok", None)),
    (OptionType(OptionType(ListType(CHAR))), ("some", ("some", ["x", "\u20ac"]))),
    (TupleType((FLAGS, FlagsType(("a",)), FlagsType(tuple(f"g{i}" for i in range(12))))),
     (frozenset({"f0", "f19", "f7"}), frozenset({"a"}), frozenset({"g11"}))),
    (ListType(ListType(TupleType((U8, STRING)))), [[(1, "x")], [], [(2, "yy"), (3, "")]]),
    (ListType(U8), list(range(256))),
    (ListType(F32), [0.0, -1.5, 3.25]),
    # maps: the pairs in order, a repeated key kept as it is
    (MapType(STRING, U32), [("a", 1), ("\u20ac\xe9", 2), ("a", 3)]),
    (MapType(U8, MapType(CHAR, ListType(S16))), [(7, [("x", [-1, 2]), ("\xe9", [])]), (0, [])]),
    (MapType(BOOL, OptionType(F64)), [(True, ("some", -0.5)), (False, ("none", None))]),
    (ListType(MapType(S64, STRING)), [[(-2**63, "min")], [], [(0, ""), (0, "zero")]]),
]
PAIRS = [("utf8", "utf8"), ("utf16", "utf16"), ("latin1+utf16", "latin1+utf16"),
         ("utf8", "utf16"), ("utf16", "latin1+utf16"), ("latin1+utf16", "utf8")]
MORE_PAIRS = [("utf16", "utf8"), ("utf8", "latin1+utf16"), ("latin1+utf16", "utf16")]


def contains_string(t) -> bool:
    from pywamr.component.abi.layout import contains
    return contains(t, lambda u: u == STRING or u == CHAR)


def _params():
    for i, (t, value) in enumerate(CASES):
        pairs = PAIRS + MORE_PAIRS if t == STRING else PAIRS
        for enc_a, enc_b in pairs if contains_string(t) else PAIRS[:1]:
            yield pytest.param(t, value, enc_a, enc_b, id=f"case{i}-{enc_a}-{enc_b}")


@pytest.mark.parametrize("t, value, enc_a, enc_b", list(_params()))
def test_same_bytes_as_wasmtime(t, value, enc_a, enc_b):
    image, ptr, ours = run_pywamr(t, value, enc_a, enc_b)
    theirs = run_wasmtime(component_wat(t, image, ptr, enc_a, enc_b))
    assert ours == theirs
    assert decode(ours, t, enc_b) == (value, tuple(range(16)))


def decode(memory_bytes: bytes, t, encoding: str):
    from pywamr.component.abi import CanonicalOptions, LiftLowerContext, load
    from pywamr.component.state import ComponentInstance

    class Image:
        data = bytearray(memory_bytes) + bytearray(65536)
    cx = LiftLowerContext(CanonicalOptions(Image(), encoding), ComponentInstance())
    ptr = int.from_bytes(memory_bytes[8:12], "little")
    return load(cx, ptr, TupleType((t, PAD)))


# ---- flat parameters: the same core values as wasmtime ----------------------------------------

def flat_put_wat(flat) -> str:
    """A core `put` taking the flat parameters and storing each as a u64 slot at 64 + 8*j."""
    params = " ".join(flat)
    body = []
    for j, kind in enumerate(flat):
        v = f"(local.get {j})"
        if kind == "i32":
            v = f"(i64.extend_i32_u {v})"
        elif kind == "f32":
            v = f"(i64.extend_i32_u (i32.reinterpret_f32 {v}))"
        elif kind == "f64":
            v = f"(i64.reinterpret_f64 {v})"
        body.append(f"(i64.store (i32.const {64 + 8 * j}) {v})")
    return f'(func (export "put") (param {params}) {" ".join(body)})'


def flat_consts(flat, values) -> str:
    from pywamr.runtime.numerics import f32_to_bits, f64_to_bits
    out = []
    for kind, v in zip(flat, values):
        if kind == "f32":
            out.append(f"(f32.reinterpret_i32 (i32.const {f32_to_bits(v)}))")
        elif kind == "f64":
            out.append(f"(f64.reinterpret_i64 (i64.const {f64_to_bits(v)}))")
        else:
            out.append(f"({kind}.const {v})")
    return " ".join(out)


FLAT_CASES = [
    (SHAPE, ("circle", 2.5)), (SHAPE, ("square", 2**64 - 1)), (SHAPE, ("label", "lbl")),
    (SHAPE, ("none", None)),
    (VariantType((CaseType("i", U32), CaseType("f", F32), CaseType("s", S8))), ("f", -0.75)),
    (VariantType((CaseType("i", U32), CaseType("f", F32), CaseType("s", S8))), ("s", -1)),
    (OptionType(F32), ("some", 1.25)), (ResultType(F64, U32), ("error", 7)),
    (ResultType(F64, U32), ("ok", -3.5)),
    (TupleType((BOOL, CHAR, S16, FLAGS, EnumType(("a", "b", "c")))),
     (True, "\u20ac", -2, frozenset({"f3", "f19"}), "c")),
    (RecordType((FieldType("name", STRING), FieldType("tags", ListType(STRING)))),
     {"name": "n\xe9", "tags": ["x", "\U0001F600"]}),
]


@pytest.mark.parametrize("t, value", FLAT_CASES, ids=[f"flat{i}" for i in range(len(FLAT_CASES))])
def test_flat_parameters_as_wasmtime(t, value):
    from pywamr.component.abi import flatten_type, lower_flat
    flat_types = flatten_type(t)
    ft = FuncType((("x", t),))
    end = 64 + 8 * len(flat_types)
    put = flat_put_wat(flat_types) + f"""
      (func (export "dump") (result i32)
        (i32.store (i32.const 0) (i32.const 0))
        (i32.store (i32.const 4) (select (global.get $bump) (i32.const {end})
                                         (i32.gt_u (global.get $bump) (i32.const {end}))))
        (i32.const 0))"""
    a, b = Guest(name="A"), Guest(put, name="B")
    flat = lower_flat(a.cx(), value, t)
    image = a.bytes(1024, a.global_value("bump") - 1024)
    lowered = canon_lower(a.opts(), a.state, canon_lift(b.opts(), b.state, b.func("put"), ft),
                          ft)
    lowered.call(*flat)
    b.func("dump").call()
    ours = b.bytes(0, max(b.global_value("bump"), end))

    defs: list = []
    ty = type_wat(t, defs)
    data = "".join(f"\\{x:02x}" for x in image)
    sig = " ".join(flat_types)
    text = f"""
(component
  (component $B
    (core module $M {BUMP_WAT} {put})
    (core instance $m (instantiate $M))
    {" ".join(defs)}
    (func (export "put") (param "x" {ty})
      (canon lift (core func $m "put") (memory (core memory $m "memory"))
                  (realloc (core func $m "realloc"))))
    (func (export "dump") (result (list u8))
      (canon lift (core func $m "dump") (memory (core memory $m "memory"))
                  (realloc (core func $m "realloc"))))
  )
  (instance $b (instantiate $B))
  (core module $AMem (memory (export "memory") 1))
  (core instance $amem (instantiate $AMem))
  (core func $put (canon lower (func $b "put") (memory (core memory $amem "memory"))))
  (core module $A
    (import "env" "memory" (memory 1))
    (import "env" "put" (func $put (param {sig})))
    (data (i32.const 1024) "{data}")
    (func (export "run") (call $put {flat_consts(flat_types, flat)})))
  (core instance $a (instantiate $A (with "env" (instance
    (export "memory" (memory $amem "memory")) (export "put" (func $put))))))
  (func (export "run") (canon lift (core func $a "run")))
  (func (export "dump") (alias export $b "dump"))
)"""
    theirs = run_wasmtime(text)
    assert ours == theirs


# ---- results: lifted from the callee's memory, lowered through the caller's result pointer ----

DUMP_WAT = """
  (func (export "dump") (result i32)
    (i32.store (i32.const 0) (i32.const 0))
    (i32.store (i32.const 4) (global.get $bump))
    (i32.const 0))
"""


@pytest.mark.parametrize("t, value, enc_a, enc_b", [
    pytest.param(t, v, ea, eb, id=f"result{i}-{ea}-{eb}")
    for i, (t, v) in enumerate(CASES[2:9])
    for ea, eb in (("utf8", "utf8"), ("utf16", "latin1+utf16"), ("latin1+utf16", "utf8"))])
def test_results_as_wasmtime(t, value, enc_a, enc_b):
    from pywamr.component.abi import alignment, elem_size, store
    rt = TupleType((t, U64))
    ft = FuncType((), rt)
    b = Guest('(func (export "get") (result i32) (i32.const 1024))', name="B")
    cxb = b.cx(enc_b)
    ptr = cxb.allocate(alignment(rt), elem_size(rt))
    assert ptr == 1024
    store(cxb, (value, 2**64 - 1), rt, ptr)
    image = b.bytes(1024, b.global_value("bump") - 1024)
    a = Guest(DUMP_WAT, name="A")
    lowered = canon_lower(a.opts(enc_a), a.state,
                          canon_lift(b.opts(enc_b), b.state, b.func("get"), ft), ft)
    assert lowered.call(16) is None
    a.func("dump").call()
    ours = a.bytes(0, a.global_value("bump"))

    defs: list = []
    ty = type_wat(rt, defs)
    data = "".join(f"\\{x:02x}" for x in image)
    text = f"""
(component
  (component $B
    (core module $M (memory (export "memory") 1) (data (i32.const 1024) "{data}")
      (func (export "get") (result i32) (i32.const 1024)))
    (core instance $m (instantiate $M))
    {" ".join(defs)}
    (func (export "get") (result {ty})
      (canon lift (core func $m "get") (memory (core memory $m "memory"))
                  string-encoding={enc_b}))
  )
  (instance $b (instantiate $B))
  (core module $AMem {BUMP_WAT} {DUMP_WAT})
  (core instance $amem (instantiate $AMem))
  (core func $get (canon lower (func $b "get") (memory (core memory $amem "memory"))
                   (realloc (core func $amem "realloc")) string-encoding={enc_a}))
  (core module $A
    (import "env" "get" (func $get (param i32)))
    (func (export "run") (call $get (i32.const 16))))
  (core instance $a (instantiate $A (with "env" (instance (export "get" (func $get))))))
  (func (export "run") (canon lift (core func $a "run")))
  (func (export "dump") (result (list u8)) (canon lift (core func $amem "dump")
    (memory (core memory $amem "memory")) (realloc (core func $amem "realloc"))))
)"""
    theirs = run_wasmtime(text)
    assert ours == theirs
