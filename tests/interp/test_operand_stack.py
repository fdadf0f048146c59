"""Unit tests of the translator's symbolic operand stack (pywamr/interp/stack.py): what a write
materialises, in which order, and what a drop forgets."""
import pytest

from pywamr.interp.stack import Operand, OperandStack, TranslatorBug, constant


def _stack():
    lines = []
    return OperandStack(lines.append), lines


def _deferred(expr, *reads):
    return Operand(expr, frozenset(reads), False)


def test_local_write_materialises_exactly_its_readers():
    stack, lines = _stack()
    stack.push(_deferred("(l0 + 1)", "l0"))
    stack.push(_deferred("(l1 * 2)", "l1"))
    stack.push(_deferred("(l10 - l0)", "l10", "l0"))
    stack.invalidate("l1")
    assert lines == ["s1 = (l1 * 2)"]
    stack.invalidate("l0")
    assert lines == ["s1 = (l1 * 2)", "s0 = (l0 + 1)", "s2 = (l10 - l0)"]
    assert stack.items == [None, None, None]


def test_dropped_entry_is_forgotten():
    stack, lines = _stack()
    stack.push(constant("(5)"))
    stack.pop()
    stack.push(_deferred("(l0 + 1)", "l0"))
    stack.pop()
    stack.invalidate("l0")
    stack.flush()
    assert lines == [] and len(stack) == 0


def test_slot_write_evaluates_older_readers_first():
    stack, lines = _stack()
    stack.push_slots(3)                             # s0, s1, s2 hold values
    b = stack.pop()                                 # s2
    a = stack.pop()                                 # s1
    stack.push(_deferred(f"({a.expr} - {b.expr})", *(a.reads | b.reads)))   # at 1, reads s1 s2
    low = stack.pop()
    base = stack.pop()                              # s0
    stack.push(_deferred(f"({base.expr} + {low.expr})", *(base.reads | low.reads)))
    stack.push_slots(0)
    stack.prepare_write(1)                          # a call result is about to land in s1
    assert lines == ["s0 = (s0 + (s1 - s2))"]


def test_materialising_one_entry_first_saves_readers_of_its_slot():
    stack, lines = _stack()
    stack.push_slots(3)
    operands = stack.pop_many(3)                    # s0 s1 s2 consumed by one pure operation
    stack.push(_deferred("f(s0, s1, s2)", *frozenset().union(*(o.reads for o in operands))))
    stack.push(constant("(7)"))
    stack.push(_deferred("(l0 + 1)", "l0"))         # entry 2, to live in s2
    stack.materialise(2)
    assert lines == ["s0 = f(s0, s1, s2)", "s2 = (l0 + 1)"]
    assert stack.items[1] is not None               # the constant stays deferred


def test_calls_invalidate_global_readers_only():
    stack, lines = _stack()
    stack.push(Operand("g0.value", frozenset(("g0",)), True))
    stack.push(_deferred("(l0 + 1)", "l0"))
    stack.push(_deferred("(g3.value ^ l1)", "g3", "l1"))
    stack.invalidate_globals()
    assert lines == ["s0 = g0.value", "s2 = (g3.value ^ l1)"]
    assert stack.items[1] is not None


def test_join_with_a_deferred_entry_below_the_frame_is_a_bug():
    stack, _ = _stack()
    stack.push(_deferred("(l0 + 1)", "l0"))
    stack.push_slots(1)
    with pytest.raises(TranslatorBug):
        stack.reset(1, 0)
    stack.flush()
    stack.reset(1, 2)
    assert stack.items == [None, None, None]
