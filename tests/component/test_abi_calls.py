"""`canon lift` / `canon lower`: host calls, post-return, spilling, component-to-component calls
between two memories with different string encodings, and the may_enter / may_leave rules."""
from __future__ import annotations

import pytest

from pywamr.binary.types import FuncType as CoreFuncType, I32
from pywamr.component.abi import canon_lift, canon_lower, flatten_functype
from pywamr.component.types import (F32, F64, S8, STRING, U8, U32, U64, CaseType, FieldType,
                                    FlagsType, FuncType, ListType, OptionType, RecordType,
                                    ResultType, TupleType, VariantType, CHAR, BOOL,
                                    EnumType)
from pywamr.errors import Trap, TrapCode

from component.abi_testlib import Guest, LateFunction


def fn(params, result=None):
    return FuncType(tuple((f"p{i}", t) for i, t in enumerate(params)), result)


def trap_of(f, *args) -> Trap:
    with pytest.raises(Trap) as info:
        f(*args)
    return info.value


CALLEE_WAT = """
  (global $post (export "post_arg") (mut i32) (i32.const -1))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "strlen") (param i32 i32) (result i32) (local.get 1))
  (func (export "echo_string") (param $p i32) (param $n i32) (result i32)
    (i32.store (i32.const 16) (local.get $p))
    (i32.store (i32.const 20) (local.get $n))
    (i32.const 16))
  (func (export "echo_string_post") (param $r i32)
    (global.set $post (local.get $r))
    (memory.fill (i32.load (local.get $r)) (i32.const 0)
                 (i32.and (i32.load offset=4 (local.get $r)) (i32.const 0x7fffffff))))
  (func (export "echo_ptr") (param i32) (result i32) (local.get 0))
  (func (export "sum17") (param $p i32) (result i32)
    (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s)
                             (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 17))))
    (local.get $s))
  (func (export "pair") (param i32 i32) (result i32)
    (i32.store (i32.const 32) (local.get 1))
    (i32.store (i32.const 36) (local.get 0))
    (i32.const 32))
  (func (export "opt_f32") (param i32 f32) (result i32)
    (i32.store8 (i32.const 48) (local.get 0))
    (f32.store (i32.const 52) (local.get 1))
    (i32.const 48))
  (func (export "boom") (param i32) (result i32) unreachable)
"""


@pytest.fixture
def callee():
    return Guest(CALLEE_WAT, name="callee")


def test_host_calls_lifted_function(callee):
    add = canon_lift(callee.opts(), callee.state, callee.func("add"), fn([U32, U32], U32))
    assert add(2, 3) == 5
    assert add(0xFFFFFFFF, 2) == 1
    assert add.core_type == CoreFuncType((I32, I32), (I32,))
    with pytest.raises(ValueError):
        add(-1, 0)
    with pytest.raises(TypeError):
        add(1)


@pytest.mark.parametrize("encoding, text, units", [
    ("utf8", "h\xe9llo", 6), ("utf16", "h\xe9llo\U0001F600", 7),
    ("latin1+utf16", "h\xe9llo", 5), ("latin1+utf16", "\u20ac", 1 | 1 << 31)])
def test_string_param(callee, encoding, text, units):
    strlen = canon_lift(callee.opts(encoding), callee.state, callee.func("strlen"),
                        fn([STRING], U32))
    assert strlen(text) == units


@pytest.mark.parametrize("encoding", ["utf8", "utf16", "latin1+utf16"])
def test_post_return_runs_after_result_is_lifted(callee, encoding):
    text = "post-return \U0001F600 after lifting"
    echo = canon_lift(callee.opts(encoding, post_return="echo_string_post"), callee.state,
                      callee.func("echo_string"), fn([STRING], STRING))
    assert echo(text) == text
    assert callee.global_value("post_arg") == 16           # called with the flat results


def test_spilled_params_and_results(callee):
    sum17 = canon_lift(callee.opts(), callee.state, callee.func("sum17"), fn([U32] * 17, U32))
    assert sum17.core_type == CoreFuncType((I32,), (I32,))
    assert sum17(*range(17)) == sum(range(17))
    pair = canon_lift(callee.opts(), callee.state, callee.func("pair"),
                      fn([U32, U32], TupleType((U32, U32))))
    assert pair.core_type == CoreFuncType((I32, I32), (I32,))
    assert pair(1, 2) == (2, 1)
    opt = canon_lift(callee.opts(), callee.state, callee.func("opt_f32"),
                     fn([OptionType(F32)], OptionType(F32)))
    assert opt(("some", 2.5)) == ("some", 2.5)
    assert opt(("none", None)) == ("none", None)


def test_trap_poisons_the_instance(callee):
    boom = canon_lift(callee.opts(), callee.state, callee.func("boom"), fn([U32], U32))
    add = canon_lift(callee.opts(), callee.state, callee.func("add"), fn([U32, U32], U32))
    assert trap_of(boom, 1).code is TrapCode.UNREACHABLE
    assert trap_of(add, 1, 2).code is TrapCode.CANNOT_ENTER_COMPONENT


def test_missing_options_are_refused(callee):
    with pytest.raises(ValueError, match="realloc"):
        canon_lift(callee.opts(realloc=False), callee.state, callee.func("strlen"),
                   fn([STRING], U32))
    with pytest.raises(ValueError, match="memory"):
        from pywamr.component.abi import CanonicalOptions
        canon_lift(CanonicalOptions(), callee.state, callee.func("strlen"), fn([STRING], U32))


def test_async_is_not_supported(callee):
    from pywamr.component.abi import CanonicalOptions
    from pywamr.errors import NotSupported
    with pytest.raises(NotSupported):
        canon_lift(callee.opts(), callee.state, callee.func("add"),
                   FuncType((("a", U32), ("b", U32)), U32, is_async=True))
    with pytest.raises(NotSupported):
        CanonicalOptions(async_=True)


# ---- component to component -----------------------------------------------------------------

ECHO_TYPES = [
    (STRING, "two memories \U0001F600 \xe9"),
    (ListType(STRING), ["a", "", "\u20ac" * 3]),
    (ListType(RecordType((FieldType("name", STRING), FieldType("tags", ListType(U8))))),
     [{"name": "r1", "tags": [1, 2]}, {"name": "\xff", "tags": []}]),
    (VariantType((CaseType("n", U64), CaseType("s", STRING), CaseType("f", F32))), ("s", "v")),
    (VariantType((CaseType("n", U64), CaseType("s", STRING), CaseType("f", F32))), ("f", 0.5)),
    (ResultType(ListType(CHAR), EnumType(("x", "y"))), ("ok", ["\U0001F600", "a"])),
    (ResultType(ListType(CHAR), EnumType(("x", "y"))), ("error", "y")),
    (FlagsType(tuple(f"f{i}" for i in range(40))), frozenset({"f1", "f39"})),
    (TupleType((BOOL, S8, F64, OptionType(STRING))), (True, -3, 0.25, ("some", "x"))),
    (ListType(ListType(U32, 2)), [[1, 2], [3, 4]]),
]
PAD = ListType(U32, 16)     # forces the parameters into memory, so the echo returns its pointer


def echo_pair(caller_encoding, callee_encoding, t, post_return=None):
    """A caller guest holding a lowered import of a callee guest's lifted echo of `t`."""
    a, b = Guest(name="caller"), Guest(CALLEE_WAT, name="callee")
    ft = FuncType((("x", t), ("pad", PAD)), TupleType((t, PAD)))
    lifted = canon_lift(b.opts(callee_encoding, post_return=post_return), b.state,
                        b.func("echo_ptr"), ft)
    lowered = canon_lower(a.opts(caller_encoding), a.state, lifted, ft)
    return a, b, ft, lowered


@pytest.mark.parametrize("caller_encoding, callee_encoding",
                         [("utf8", "utf8"), ("utf8", "utf16"), ("utf16", "latin1+utf16"),
                          ("latin1+utf16", "utf8")])
@pytest.mark.parametrize("t, value", ECHO_TYPES)
def test_component_to_component_echo(caller_encoding, callee_encoding, t, value):
    from pywamr.component.abi.flat import values_lifter, values_lowerer
    a, b, ft, lowered = echo_pair(caller_encoding, callee_encoding, t)
    assert lowered.type == flatten_functype(ft, "lower") == CoreFuncType((I32, I32), ())
    cx = a.cx(caller_encoding)
    pad = list(range(16))
    flat_args = values_lowerer(ft.param_types, 16)(cx, [value, pad])
    out = cx.allocate(8, 256)
    assert lowered.call(*flat_args, out) is None
    [(got, got_pad)] = values_lifter(ft.result_types, 1)(cx, [out])
    assert got == value and got_pad == pad
    assert a.state.may_leave and b.state.may_enter and a.state.may_enter


CALLER_WAT = """
  (data (i32.const 100) "%s")
  (func (export "run") (result i32)
    (call $echo (i32.const 100) (i32.const %d) (i32.const 32))
    (i32.const 32))
"""


@pytest.mark.parametrize("caller_encoding, callee_encoding", [
    ("utf8", "utf16"), ("utf16", "utf8"), ("latin1+utf16", "utf16"), ("utf16", "latin1+utf16")])
def test_core_caller_calls_lowered_import(caller_encoding, callee_encoding, engine_kind):
    text = "core \u20ac caller \U0001F600"
    if caller_encoding == "utf8":
        raw, units = text.encode("utf-8"), len(text.encode("utf-8"))
    else:
        raw = text.encode("utf-16-le")
        units = len(raw) // 2 | (1 << 31 if caller_encoding == "latin1+utf16" else 0)
    escaped = "".join(f"\\{b:02x}" for b in raw)
    ft = fn([STRING], STRING)
    late = LateFunction(flatten_functype(ft, "lower"))
    a = Guest(CALLER_WAT % (escaped, units), {("b", "echo"): late.function},
              '(import "b" "echo" (func $echo (param i32 i32 i32)))', name="caller",
              engine_kind=engine_kind)
    b = Guest(CALLEE_WAT, name="callee", engine_kind=engine_kind)
    lifted_b = canon_lift(b.opts(callee_encoding, post_return="echo_string_post"), b.state,
                          b.func("echo_string"), ft)
    late.bind(canon_lower(a.opts(caller_encoding), a.state, lifted_b, ft))
    run = canon_lift(a.opts(caller_encoding), a.state, a.func("run"), fn([], STRING))
    assert run() == text
    # the callee saw the text in its own encoding, and its post-return then cleared it
    assert b.global_value("post_arg") == 16
    assert a.state.may_enter and b.state.may_enter


def test_host_function_lowered_into_core():
    ft = fn([STRING, STRING], STRING)
    late = LateFunction(flatten_functype(ft, "lower"))
    wat = """
      (data (i32.const 100) "hello, ")
      (data (i32.const 120) "world")
      (func (export "run") (result i32)
        (call $concat (i32.const 100) (i32.const 7) (i32.const 120) (i32.const 5) (i32.const 32))
        (i32.const 32))
    """
    a = Guest(wat, {("host", "concat"): late.function},
              '(import "host" "concat" (func $concat (param i32 i32 i32 i32 i32)))')
    seen = []

    def concat(x, y):
        seen.append((x, y))
        return x + y
    late.bind(canon_lower(a.opts(), a.state, concat, ft))
    run = canon_lift(a.opts(), a.state, a.func("run"), fn([], STRING))
    assert run() == "hello, world"
    assert seen == [("hello, ", "world")]


# ---- reentrance -----------------------------------------------------------------------------

REENTER_WAT = """
  (func (export "outer") (result i32) (call $out) (i32.const 7))
  (func (export "inner") (result i32) (i32.const 8))
  (func (export "nothing"))
"""


def reentrant_guest(parent=None, name="g", donut=True):
    late = LateFunction(CoreFuncType((), ()))
    g = Guest(REENTER_WAT, {("x", "out"): late.function}, '(import "x" "out" (func $out))',
              parent=parent, name=name, donut_reentrance=donut)
    return g, late


def test_host_reentering_a_component_traps():
    g, late = reentrant_guest()
    inner = canon_lift(g.opts(), g.state, g.func("inner"), fn([], U32))
    outer = canon_lift(g.opts(), g.state, g.func("outer"), fn([], U32))
    late.bind(canon_lower(g.opts(), g.state, lambda: inner(), fn([])))
    assert trap_of(outer).code is TrapCode.CANNOT_ENTER_COMPONENT
    h, late_h = reentrant_guest()
    outer_h = canon_lift(h.opts(), h.state, h.func("outer"), fn([], U32))
    late_h.bind(canon_lower(h.opts(), h.state, lambda: None, fn([])))
    assert outer_h() == 7 and h.state.may_enter


def test_component_reentering_a_component_traps():
    a, late_a = reentrant_guest(name="a")
    b, late_b = reentrant_guest(name="b")
    outer_a = canon_lift(a.opts(), a.state, a.func("outer"), fn([], U32))
    outer_b = canon_lift(b.opts(), b.state, b.func("outer"), fn([]))
    late_a.bind(canon_lower(a.opts(), a.state, outer_b, fn([])))
    late_b.bind(canon_lower(b.opts(), b.state, outer_a, fn([])))   # b calls back into a
    assert trap_of(outer_a).code is TrapCode.CANNOT_ENTER_COMPONENT


def test_calling_own_export_through_lower_is_allowed():
    a, late_a = reentrant_guest(name="a")
    nothing = canon_lift(a.opts(), a.state, a.func("nothing"), fn([]))
    outer = canon_lift(a.opts(), a.state, a.func("outer"), fn([], U32))
    late_a.bind(canon_lower(a.opts(), a.state, nothing, fn([])))
    assert outer() == 7             # the entering set of a from a is empty


def test_donut_wrapping_parent_may_be_reentered_by_its_child():
    parent, late_p = reentrant_guest(name="P")
    child, late_c = reentrant_guest(parent=parent.state, name="C")
    p_outer = canon_lift(parent.opts(), parent.state, parent.func("outer"), fn([], U32))
    p_inner = canon_lift(parent.opts(), parent.state, parent.func("inner"), fn([], U32))
    c_outer = canon_lift(child.opts(), child.state, child.func("outer"), fn([], U32))
    late_p.bind(canon_lower(parent.opts(), parent.state, c_outer, fn([])))
    late_c.bind(canon_lower(child.opts(), child.state, p_inner, fn([])))
    assert p_outer() == 7                       # host -> P -> C -> P: allowed
    assert parent.state.may_enter and child.state.may_enter
    # ... but P (entered) calling C while C is on the stack traps
    late_c.bind(canon_lower(child.opts(), child.state, p_outer, fn([])))
    assert trap_of(p_outer).code is TrapCode.CANNOT_ENTER_COMPONENT


def test_host_entering_a_child_while_parent_is_on_the_stack_traps():
    parent, late_p = reentrant_guest(name="P")
    child, _ = reentrant_guest(parent=parent.state, name="C")
    c_inner = canon_lift(child.opts(), child.state, child.func("inner"), fn([], U32))
    p_outer = canon_lift(parent.opts(), parent.state, parent.func("outer"), fn([], U32))
    late_p.bind(canon_lower(parent.opts(), parent.state, lambda: c_inner(), fn([])))
    assert trap_of(p_outer).code is TrapCode.CANNOT_ENTER_COMPONENT


LEAVE_WAT = """
  (func (export "f") (param i32) (result i32) (local.get 0))
  (func (export "post") (param i32) (call $imp))
  (func (export "bad_realloc") (param i32 i32 i32 i32) (result i32)
    (call $imp) (i32.const 64))
  (func (export "strlen") (param i32 i32) (result i32) (local.get 1))
"""


def test_post_return_may_not_leave(engine_kind):
    late = LateFunction(CoreFuncType((), ()))
    g = Guest(LEAVE_WAT, {("x", "imp"): late.function}, '(import "x" "imp" (func $imp))',
              engine_kind=engine_kind)
    late.bind(canon_lower(g.opts(), g.state, lambda: None, fn([])))
    f = canon_lift(g.opts(post_return="post"), g.state, g.func("f"), fn([U32], U32))
    assert trap_of(f, 1).code is TrapCode.CANNOT_LEAVE_COMPONENT


def test_realloc_may_not_leave(engine_kind):
    from pywamr.component.abi import CanonicalOptions
    late = LateFunction(CoreFuncType((), ()))
    g = Guest(LEAVE_WAT, {("x", "imp"): late.function}, '(import "x" "imp" (func $imp))',
              engine_kind=engine_kind)
    late.bind(canon_lower(g.opts(), g.state, lambda: None, fn([])))
    opts = CanonicalOptions(g.memory, "utf8", g.func("bad_realloc"))
    strlen = canon_lift(opts, g.state, g.func("strlen"), fn([STRING], U32))
    assert trap_of(strlen, "abc").code is TrapCode.CANNOT_LEAVE_COMPONENT


def test_lowered_call_traps_when_may_leave_is_clear():
    g = Guest()
    lowered = canon_lower(g.opts(), g.state, lambda: None, fn([]))
    g.state.may_leave = False
    assert trap_of(lowered.call).code is TrapCode.CANNOT_LEAVE_COMPONENT


def test_bad_host_argument_does_not_poison(callee):
    strlen = canon_lift(callee.opts(), callee.state, callee.func("strlen"), fn([STRING], U32))
    with pytest.raises(TypeError):
        strlen(5)
    assert strlen("four") == 4


def test_flags_accept_the_spec_dict_form(callee):
    from pywamr.component.abi import lower_flat
    t = FlagsType(("a", "b", "c"))
    assert lower_flat(callee.cx(), {"a": True, "b": False, "c": True}, t) == [0b101]


@pytest.mark.parametrize("direction", ["parent-to-child", "child-to-parent", "self"])
def test_wasmtime_reentrance_rule(direction):
    """`donut_reentrance=False`: wasmtime's current rule (trap-on-reenter.wast)."""
    parent, late_p = reentrant_guest(name="P", donut=False)
    child, late_c = reentrant_guest(parent=parent.state, name="C", donut=False)
    if direction == "parent-to-child":
        c_nothing = canon_lift(child.opts(), child.state, child.func("nothing"), fn([]))
        late_p.bind(canon_lower(parent.opts(), parent.state, c_nothing, fn([])))
        entry = canon_lift(parent.opts(), parent.state, parent.func("outer"), fn([], U32))
    elif direction == "child-to-parent":
        p_nothing = canon_lift(parent.opts(), parent.state, parent.func("nothing"), fn([]))
        late_c.bind(canon_lower(child.opts(), child.state, p_nothing, fn([])))
        entry = canon_lift(child.opts(), child.state, child.func("outer"), fn([], U32))
    else:
        p_nothing = canon_lift(parent.opts(), parent.state, parent.func("nothing"), fn([]))
        late_p.bind(canon_lower(parent.opts(), parent.state, p_nothing, fn([])))
        entry = canon_lift(parent.opts(), parent.state, parent.func("outer"), fn([], U32))
    assert trap_of(entry).code is TrapCode.CANNOT_ENTER_COMPONENT
