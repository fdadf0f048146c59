"""The translator's symbolic operand stack: the one record of where every wasm operand lives.

Sits inside `interp/` translation (used by `emit.py` and the two control-flow forms). Entry `i`
of the stack is either *materialised* (its value is in the Python local `s<i>`) or *deferred*
(a pure Python expression not evaluated yet, with the set of names it reads: wasm locals `l<n>`,
stack slots `s<k>`, globals `g<n>`). Writing a name first materialises exactly the deferred
entries whose read-set contains it (set membership, never a look at generated text).

What may be deferred: expressions that cannot trap and have no effect (constants, local and
global reads, pure arithmetic, select). Trapping arithmetic, calls and anything with an effect
are materialised by the emitter in program order; a load is deferred only for the instant
until the very next instruction pops it (see `emit.Emitter.load`). Deferred global reads are
invalidated by `global.set` of that global and by every call (a callee may write any global);
no deferred entry reads memory or tables. Does not emit control flow and knows nothing about
wasm opcodes.
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


_NAMED: dict[str, Operand] = {}


def named(name: str) -> Operand:
    """The operand that reads variable `name` (a slot `s3`, a local `l0`): shared, since an
    operand is never changed once made."""
    operand = _NAMED.get(name)
    if operand is None:
        operand = _NAMED[name] = Operand(name, frozenset((name,)), True)
    return operand


_SLOTS: list[Operand] = []


def slot(index: int) -> Operand:
    """`named(f"s{index}")`, by index."""
    while len(_SLOTS) <= index:
        _SLOTS.append(named(f"s{len(_SLOTS)}"))
    return _SLOTS[index]


class OperandStack:
    """Entries are None (materialised in `s<index>`) or a deferred `Operand`.

    `readers` maps each name to the positions of the deferred entries that read it, so a write
    costs the number of its readers, not the depth of the stack."""

    __slots__ = ("items", "emit", "readers", "global_readers", "deferred")

    def __init__(self, emit):
        self.items: list = []
        self.emit = emit            # emit(line): appends one statement at the current point
        self.readers: dict[str, set] = {}
        self.global_readers: set = set()
        self.deferred: set = set()      # positions of the deferred entries

    def __len__(self) -> int:
        return len(self.items)

    # ---- bookkeeping of deferred entries ---------------------------------------------------
    def _register(self, index: int, entry: Operand) -> None:
        readers = self.readers
        for name in entry.reads:
            positions = readers.get(name)
            if positions is None:
                readers[name] = positions = set()
            positions.add(index)
            if name[0] == "g":
                self.global_readers.add(index)

    def _unregister(self, index: int, entry: Operand) -> None:
        for name in entry.reads:
            self.readers[name].discard(index)
        self.global_readers.discard(index)

    # ---- pushing and popping ---------------------------------------------------------------
    def push(self, operand: Operand) -> None:
        items = self.items
        index = len(items)
        self.deferred.add(index)
        if operand.reads:
            self._register(index, operand)
        items.append(operand)

    def push_slots(self, count: int) -> None:
        """Push `count` entries whose values the caller has just assigned to their slots."""
        self.items.extend([None] * count)

    def pop(self) -> Operand:
        index = len(self.items) - 1
        entry = self.items.pop()
        if entry is None:
            return slot(index)
        self.deferred.discard(index)
        if entry.reads:
            self._unregister(index, entry)
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
            return slot(index)
        return entry

    def reset(self, height: int, pushed: int) -> None:
        """After a join (end, else): entries below `height` stay, `pushed` materialised above."""
        items = self.items
        if len(items) < height:
            raise TranslatorBug(f"stack below its frame: {len(items)} < {height}")
        if any(index < height for index in self.deferred):
            raise TranslatorBug("an entry stayed deferred across a control-flow join")
        while len(items) > height:
            self.pop()
        items.extend([None] * pushed)

    # ---- materialising ---------------------------------------------------------------------
    def materialise(self, index: int) -> None:
        """Evaluate entry `index` into `s<index>` (readers of the old `s<index>` go first)."""
        if self.items[index] is not None:
            self._materialise_closure((index,))

    def _materialise_closure(self, positions) -> None:
        """Materialise the deferred entries at `positions` and, before each, every deferred
        entry that reads its slot, transitively. An entry only reads slots at or above its own
        position, so ascending order evaluates each reader before its slot is overwritten."""
        todo = set(positions)
        frontier = list(todo)
        readers = self.readers
        while frontier:
            slot = frontier.pop()
            for reader in readers.get(f"s{slot}", ()):
                if reader > slot:
                    raise TranslatorBug(f"entry {reader} reads slot s{slot} below it")
                if reader not in todo:
                    todo.add(reader)
                    frontier.append(reader)
        items = self.items
        for index in sorted(todo):
            entry = items[index]
            items[index] = None
            self.deferred.discard(index)
            if entry.reads:
                self._unregister(index, entry)
            self.emit(f"s{index} = {entry.expr}")

    def make_atom(self, index: int) -> None:
        """Make entry `index` cheap to evaluate more than once."""
        entry = self.items[index]
        if entry is not None and not entry.atom:
            self.materialise(index)

    def flush(self) -> None:
        """Materialise every entry (before control flow that joins or loops)."""
        if self.deferred:
            self._materialise_closure(self.deferred)

    def invalidate(self, name: str) -> None:
        """`name` is about to be written: materialise the deferred entries that read it."""
        positions = self.readers.get(name)
        if positions:
            self._materialise_closure(positions)

    def invalidate_globals(self) -> None:
        """A call is about to run: any global may change, so global readers go first."""
        if self.global_readers:
            self._materialise_closure(self.global_readers)

    def prepare_write(self, first: int, count: int = 1) -> None:
        """Slots `first .. first+count-1` (at or above the top) are about to be assigned."""
        for index in range(first, first + count):
            self.invalidate(f"s{index}")
