"""The translator's symbolic operand stack: the one record of where every wasm operand lives.

Sits inside `interp/` translation (used by `emit.py` and the two control-flow forms). Entry `i`
of the stack is either *materialised* (its value is in the Python local `s<i>`) or *deferred*
(a pure Python expression not evaluated yet, with the set of names it reads: wasm locals `l<n>`,
stack slots `s<k>`, globals `g<n>`). Writing a name first materialises exactly the deferred
entries whose read-set contains it (set membership, never a look at generated text).

What may be deferred: only expressions that cannot trap and have no effect (constants, local
and global reads, pure arithmetic). Loads, trapping arithmetic, calls and anything with an
effect are always materialised by the emitter. Deferred global reads are invalidated by
`global.set` of that global and by every call (a callee may write any global). Does not emit
control flow and knows nothing about wasm opcodes.
"""
from __future__ import annotations


class TranslatorBug(RuntimeError):
    """An internal inconsistency of the translator (a bug, never a property of the input)."""


class Operand:
    """A popped operand: the Python expression that yields it, and what that expression reads."""

    __slots__ = ("expr", "reads", "atom")

    def __init__(self, expr: str, reads: frozenset, atom: bool):
        self.expr = expr
        self.reads = reads
        self.atom = atom        # a bare name or literal: cheap and safe to evaluate twice


_NOTHING = frozenset()


def constant(expr: str) -> Operand:
    return Operand(expr, _NOTHING, True)


class OperandStack:
    """Entries are None (materialised in `s<index>`) or a deferred `Operand`."""

    __slots__ = ("items", "emit")

    def __init__(self, emit):
        self.items: list = []
        self.emit = emit            # emit(line): appends one statement at the current point

    def __len__(self) -> int:
        return len(self.items)

    # ---- pushing and popping ---------------------------------------------------------------
    def push(self, operand: Operand) -> None:
        self.items.append(operand)

    def push_slots(self, count: int) -> None:
        """Push `count` entries whose values the caller has just assigned to their slots."""
        self.items.extend([None] * count)

    def pop(self) -> Operand:
        index = len(self.items) - 1
        entry = self.items.pop()
        if entry is None:
            name = f"s{index}"
            return Operand(name, frozenset((name,)), True)
        return entry

    def pop_many(self, count: int) -> list:
        """The top `count` operands, bottom first (the order wasm pushed them)."""
        out = [self.pop() for _ in range(count)]
        out.reverse()
        return out

    def peek(self, index: int) -> Operand:
        """Operand at `index` without popping it."""
        entry = self.items[index]
        if entry is None:
            name = f"s{index}"
            return Operand(name, frozenset((name,)), True)
        return entry

    def reset(self, height: int, pushed: int) -> None:
        """After a join (end, else): entries below `height` stay, `pushed` materialised above."""
        items = self.items
        if len(items) < height:
            raise TranslatorBug(f"stack below its frame: {len(items)} < {height}")
        for index in range(height):
            if items[index] is not None:
                raise TranslatorBug(f"entry {index} deferred across a control-flow join")
        del items[height:]
        items.extend([None] * pushed)

    # ---- materialising ---------------------------------------------------------------------
    def materialise(self, index: int) -> None:
        """Evaluate entry `index` into `s<index>` (readers of the old `s<index>` go first)."""
        entry = self.items[index]
        if entry is None:
            return
        self.items[index] = None       # before invalidating: entry `index` is not a reader
        self.invalidate(f"s{index}")
        self.emit(f"s{index} = {entry.expr}")

    def make_atom(self, index: int) -> None:
        """Make entry `index` cheap to evaluate more than once."""
        entry = self.items[index]
        if entry is not None and not entry.atom:
            self.materialise(index)

    def flush(self) -> None:
        """Materialise every entry (before control flow that joins or loops)."""
        for index in range(len(self.items)):
            self.materialise(index)

    def invalidate(self, name: str) -> None:
        """`name` is about to be written: materialise the deferred entries that read it."""
        items = self.items
        for index in range(len(items)):
            entry = items[index]
            if entry is not None and name in entry.reads:
                self.materialise(index)

    def invalidate_globals(self) -> None:
        """A call is about to run: any global may change, so global readers go first."""
        items = self.items
        for index in range(len(items)):
            entry = items[index]
            if entry is not None and any(name[0] == "g" for name in entry.reads):
                self.materialise(index)

    def prepare_write(self, first: int, count: int = 1) -> None:
        """Slots `first .. first+count-1` (at or above the top) are about to be assigned."""
        for index in range(first, first + count):
            self.invalidate(f"s{index}")
