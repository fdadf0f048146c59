"""Per-instruction emission for the interpreter's translator: straight-line wasm instructions
turned into Python statements over the symbolic operand stack (`stack.py`).

Sits under the two control-flow forms (`structured.py`, `flat.py`), which subclass `Emitter`
and handle blocks, branches and returns themselves. Operands are taken from the stack as
expressions; a pure result is pushed deferred (folded into its consumer), anything that can
trap or has an effect is assigned to its slot at once, in program order (except a load whose
consumer is the very next instruction). Does not decide control flow and does not compile
anything.
"""
from __future__ import annotations

from ..binary.opcodes import OPS
from ..binary.types import F32, F64
from ..runtime.numerics import f32_from_bits, f64_from_bits
from .ops import EXPR, LOAD, STORE, TRAPPING, memory_name
from .simd_emit import simd_handlers
from .stack import Operand, OperandStack, TranslatorBug, constant, named

# Bulk memory and table instructions: operand count and statement ({imm} is the instruction,
# {m[i]} the name of the bytes of memory `instr[i]`, meaningful where instr[i] is a memory).
_BULK = {
    0xFC0008: (3, "memory_init({m[2]}, datas, {imm[1]}, {0}, {1}, {2})"),
    0xFC000A: (3, "memory_copy({m[1]}, {0}, {1}, {2})"),
    0xFC000B: (3, "memory_fill({m[1]}, {0}, {1}, {2})"),
    0xFC000C: (3, "table_init(t{imm[2]}.elements, elems, {imm[1]}, {0}, {1}, {2})"),
    0xFC000E: (3, "table_copy(t{imm[1]}.elements, t{imm[2]}.elements, {0}, {1}, {2})"),
    0xFC0011: (3, "table_fill(t{imm[1]}.elements, {0}, {1}, {2})"),
}

# memory.copy between two different memories (within one: `memory_copy` above)
_COPY_BETWEEN = "memory_copy_between({m[1]}, {m[2]}, {0}, {1}, {2})"

# Consumers a load may be folded into: they pop it at once (a store only as the value, the top
# operand) and evaluate it before anything else that can trap or has an effect.
_TAKES_LOAD_AT_ONCE = frozenset(
    [0x21, 0x22, 0x24] + [info.code for info in OPS.values() if info.name in STORE])

MAX_FOLDED_LENGTH = 240     # keeps folded expressions far below CPython's nesting limits


def _float_literal(value: float, consts: dict, prefix) -> str:
    """A float as source: a parenthesised literal, or a named constant for NaN and infinities."""
    if value != value or value in (float("inf"), float("-inf")):
        name = f"k{prefix}_{len(consts)}"
        consts[name] = value
        return name
    return f"({value!r})"


class Emitter:
    """Lines of one function's source, its constants, and the symbolic operand stack."""

    def __init__(self, types: list, func_types: list, info, code, name: str, *,
                 fold: bool = True):
        self.types = types
        self.func_types = func_types
        self.info = info
        self.code = code
        self.name = name
        self.fold = fold            # defer pure compound expressions (off: the last-resort form)
        self.lines: list[str] = []
        self.consts: dict = {}
        self.indent = 1
        self.stack = OperandStack(self.emit)
        self.following = None       # opcode after the instruction being emitted

    # ---- output ----------------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def header(self) -> None:
        info = self.info
        nparams = len(info.type.params)
        params = ", ".join(f"l{i}" for i in range(nparams))
        self.lines.append(f"def {self.name}({params}):")
        for i, t in enumerate(info.locals[nparams:], nparams):
            self.emit(f"l{i} = {_zero(t)}")

    def check_height(self, pos: int, height: int) -> None:
        if len(self.stack) != height:
            raise TranslatorBug(f"symbolic stack height {len(self.stack)} != validated "
                                f"height {height} at instruction {pos} of {self.name}")

    def block_arity(self, pos: int):
        """(params, results) of the block/loop/if at `pos`, from the validator's side table."""
        ft = self.info.block_types[pos]
        return len(ft.params), len(ft.results)

    # ---- results ---------------------------------------------------------------------------
    def assign(self, expr: str) -> None:
        """Push a result computed now (it may trap or depend on state): `s<top> = expr`."""
        top = len(self.stack)
        self.stack.prepare_write(top)
        self.emit(f"s{top} = {expr}")
        self.stack.push_slots(1)

    def push_pure(self, expr: str, reads: frozenset) -> None:
        if self.fold and len(expr) <= MAX_FOLDED_LENGTH:
            self.stack.push(Operand(expr, reads, False))
        else:
            self.assign(expr)

    def push_atom(self, expr: str, reads: frozenset = frozenset()) -> None:
        self.stack.push(Operand(expr, reads, True))

    # ---- branches and returns (shared by both forms) ---------------------------------------
    def emit_moves(self, dst: int, arity: int) -> None:
        """Copy the top `arity` operands (left on the stack) into slots `dst ...`."""
        if arity == 0:
            return
        src = len(self.stack) - arity
        values = [self.stack.peek(src + i) for i in range(arity)]
        pairs = [(f"s{dst + i}", v.expr) for i, v in enumerate(values) if v.expr != f"s{dst + i}"]
        if not pairs:
            return
        if len(pairs) == 1:
            self.emit(f"{pairs[0][0]} = {pairs[0][1]}")
        else:
            self.emit(", ".join(p[0] for p in pairs) + " = " + ", ".join(p[1] for p in pairs))

    def emit_return(self, nresults: int) -> None:
        """Return the top `nresults` operands (left on the stack: the path ends here)."""
        top = len(self.stack)
        values = [self.stack.peek(top - nresults + i).expr for i in range(nresults)]
        if nresults == 0:
            self.emit("return")
        elif nresults == 1:
            self.emit(f"return {values[0]}")
        else:
            self.emit("return (" + ", ".join(values) + ")")

    def condition(self) -> str:
        """Pop an i32 condition as an expression usable in `if`."""
        return self.stack.pop().expr

    def branch(self, depth: int) -> bool:
        """Branch to label `depth` carrying the top operands (each form defines it); True if
        the branch uses the structured form's `br` variable."""
        raise NotImplementedError

    def label_arity(self, depth: int) -> int:
        raise NotImplementedError

    def br_table(self, instr) -> bool:
        """A binary search over the index (consecutive equal targets merged), so the source
        nests logarithmically whatever the table size."""
        labels, default = instr[1], instr[2]
        arity = self.label_arity(default)
        top = len(self.stack)
        for index in range(top - 1 - arity, top):
            self.stack.make_atom(index)     # each is read in every arm of the tree
        index = self.condition()
        ranges = []                         # [first, last, label] of equal consecutive targets
        for i, label in enumerate(labels):
            if ranges and ranges[-1][2] == label:
                ranges[-1][1] = i
            else:
                ranges.append([i, i, label])
        uses = False

        def tree(lo, hi):
            nonlocal uses
            if hi - lo == 1:
                uses |= self.branch(ranges[lo][2])
                return
            mid = (lo + hi) // 2
            self.emit(f"if {index} < {ranges[mid][0]}:")
            self.indent += 1
            tree(lo, mid)
            self.indent -= 1
            self.emit("else:")
            self.indent += 1
            tree(mid, hi)
            self.indent -= 1

        if ranges:
            self.emit(f"if {index} < {len(labels)}:")
            self.indent += 1
            tree(0, len(ranges))
            self.indent -= 1
        uses |= self.branch(default)
        return uses

    # ---- straight-line instructions --------------------------------------------------------
    def plain(self, instr, following: int) -> None:
        """Emit one straight-line instruction; `following` is the next opcode (never past the
        function's final `end`)."""
        self.following = following
        op = instr[0]
        handler = _HANDLERS.get(op)
        if handler is not None:
            handler(self, instr)
            return
        numeric = _NUMERIC.get(op)
        if numeric is None:
            raise TranslatorBug(f"no translation for {OPS[op].name}")
        self.numeric_form(*numeric)

    def numeric_form(self, template: str, nin: int, repeated: tuple, trapping: bool) -> None:
        """An instruction computed by one expression `template` of its `nin` operands;
        `repeated`: the operands the template names more than once (evaluated once)."""
        stack = self.stack
        if repeated:
            base = len(stack.items) - nin
            for i in repeated:
                stack.make_atom(base + i)       # evaluate a compound operand once
        if nin == 2:
            b = stack.pop()
            a = stack.pop()
            expr = template.format(a.expr, b.expr)
            reads = a.reads | b.reads
        elif nin == 1:
            a = stack.pop()
            expr = template.format(a.expr)
            reads = a.reads
        else:
            args = stack.pop_many(nin)
            expr = template.format(*(a.expr for a in args))
            reads = frozenset().union(*(a.reads for a in args))
        if trapping:
            self.assign(expr)
        else:
            self.push_pure(expr, reads)

    def const(self, instr) -> None:
        op = instr[0]
        if op == 0x43 or op == 0x44:
            value = f32_from_bits(instr[1]) if op == 0x43 else f64_from_bits(instr[1])
            self.stack.push(constant(_float_literal(value, self.consts, self.info.index)))
        else:
            self.stack.push(constant(f"({instr[1]})"))

    def local_get(self, instr) -> None:
        self.stack.push(named(f"l{instr[1]}"))

    def local_set(self, instr) -> None:
        name = f"l{instr[1]}"
        value = self.stack.pop()
        self.stack.invalidate(name)
        if value.expr != name:
            self.emit(f"{name} = {value.expr}")
        if instr[0] == 0x22:        # local.tee: the value stays, read back from the local
            self.stack.push(named(name))

    def global_get(self, instr) -> None:
        name = f"g{instr[1]}"
        self.push_atom(f"{name}.value", frozenset((name,)))

    def global_set(self, instr) -> None:
        name = f"g{instr[1]}"
        value = self.stack.pop()
        self.stack.invalidate(name)
        self.emit(f"{name}.value = {value.expr}")

    def load(self, instr) -> None:
        offset = instr[2]
        base = self.stack.pop().expr
        expr = LOAD[OPS[instr[0]].name].format(f"{base} + {offset}" if offset else base,
                                               m=memory_name(instr[3]))
        if self.fold and self.following in _TAKES_LOAD_AT_ONCE:
            # The next instruction pops this value and emits its statement at once, the load
            # evaluated first within it: nothing can run between them, so the trap order holds.
            self.stack.push(Operand(expr, frozenset(), False))
        else:
            self.assign(expr)

    def store(self, instr) -> None:
        offset = instr[2]
        value, base = self.stack.pop().expr, self.stack.pop().expr
        address = f"{base} + {offset}" if offset else base
        self.emit(STORE[OPS[instr[0]].name].format(address, value, m=memory_name(instr[3])))

    def call(self, instr) -> None:
        self.emit_call(f"f{instr[1]}", self.func_types[instr[1]])

    def call_indirect(self, instr) -> None:
        ft = self.types[instr[1]]
        self.consts[f"ty{instr[1]}"] = ft
        index = self.stack.pop().expr
        callee = f"call_target(t{instr[2]}.elements, {index}, ty{instr[1]})"
        self.emit_call(callee, ft)

    def emit_call(self, callee: str, ft) -> None:
        args = ", ".join(a.expr for a in self.stack.pop_many(len(ft.params)))
        self.stack.invalidate_globals()
        call = f"{callee}({args})"
        results = len(ft.results)
        top = len(self.stack)
        self.stack.prepare_write(top, results)
        if results == 0:
            self.emit(call)
        else:
            self.emit(", ".join(f"s{top + i}" for i in range(results)) + f" = {call}")
        self.stack.push_slots(results)

    def return_call(self, instr) -> None:
        """A tail call: hand the callee and its arguments to the trampoline (`tailcalls.py`)."""
        self.emit_tail_call(f"f{instr[1]}", len(self.func_types[instr[1]].params))

    def return_call_indirect(self, instr) -> None:
        ft = self.types[instr[1]]
        self.consts[f"ty{instr[1]}"] = ft
        index = self.stack.pop().expr
        # the table checks trap here, in this function's frame, before it is replaced
        self.emit_tail_call(f"call_target(t{instr[2]}.elements, {index}, ty{instr[1]})",
                            len(ft.params))

    def emit_tail_call(self, callee: str, nparams: int) -> None:
        args = "".join(f"{a.expr}, " for a in self.stack.pop_many(nparams))
        self.emit(f"return TailCall(({callee}, ({args})))")

    def drop(self, instr) -> None:
        self.stack.pop()        # a deferred operand is pure: dropping it loses nothing

    def select(self, instr) -> None:
        c, b, a = self.stack.pop(), self.stack.pop(), self.stack.pop()
        self.push_pure(f"({a.expr} if {c.expr} else {b.expr})", a.reads | b.reads | c.reads)

    def unreachable(self, instr) -> None:
        self.emit("unreachable()")

    def nop(self, instr) -> None:
        pass

    def memory_size(self, instr) -> None:
        self.assign(f"(len({memory_name(instr[1])}) >> 16)")

    def memory_grow(self, instr) -> None:
        delta = self.stack.pop().expr
        self.assign(f"memory_grow(memory{instr[1]}, {delta})")

    def ref_null(self, instr) -> None:
        self.stack.push(constant("None"))

    def ref_is_null(self, instr) -> None:
        value = self.stack.pop()
        self.push_pure(f"({value.expr} is None)", value.reads)

    def ref_func(self, instr) -> None:
        self.stack.push(constant(f"func{instr[1]}"))

    def table_get(self, instr) -> None:
        index = self.stack.pop().expr
        self.assign(f"table_get(t{instr[1]}.elements, {index})")

    def table_set(self, instr) -> None:
        value, index = self.stack.pop().expr, self.stack.pop().expr
        self.emit(f"table_set(t{instr[1]}.elements, {index}, {value})")

    def table_size(self, instr) -> None:
        self.assign(f"len(t{instr[1]}.elements)")

    def table_grow(self, instr) -> None:
        value, delta = self.stack.pop_many(2)
        self.assign(f"table_grow(t{instr[1]}, {value.expr}, {delta.expr})")

    def bulk(self, instr) -> None:
        nin, template = _BULK[instr[0]]
        if instr[0] == 0xFC000A and instr[1] != instr[2]:
            template = _COPY_BETWEEN
        args = [a.expr for a in self.stack.pop_many(nin)]
        names = [memory_name(x) if isinstance(x, int) else "" for x in instr]
        self.emit(template.format(*args, imm=instr, m=names))

    def data_drop(self, instr) -> None:
        self.emit(f"datas[{instr[1]}] = b''")

    def elem_drop(self, instr) -> None:
        self.emit(f"elems[{instr[1]}] = []")


_HANDLERS = {
    0x00: Emitter.unreachable, 0x01: Emitter.nop,
    0x10: Emitter.call, 0x11: Emitter.call_indirect,
    0x12: Emitter.return_call, 0x13: Emitter.return_call_indirect,
    0x1A: Emitter.drop, 0x1B: Emitter.select, 0x1C: Emitter.select,
    0x20: Emitter.local_get, 0x21: Emitter.local_set, 0x22: Emitter.local_set,
    0x23: Emitter.global_get, 0x24: Emitter.global_set,
    0x25: Emitter.table_get, 0x26: Emitter.table_set,
    0x3F: Emitter.memory_size, 0x40: Emitter.memory_grow,
    0x41: Emitter.const, 0x42: Emitter.const, 0x43: Emitter.const, 0x44: Emitter.const,
    0xD0: Emitter.ref_null, 0xD1: Emitter.ref_is_null, 0xD2: Emitter.ref_func,
    0xFC0009: Emitter.data_drop, 0xFC000D: Emitter.elem_drop,
    0xFC000F: Emitter.table_grow, 0xFC0010: Emitter.table_size,
    **simd_handlers(),
}


def _numeric_form(name: str, nin: int) -> tuple:
    """(template, operand count, operands named more than once, trapping) of `name`."""
    template = EXPR[name]
    repeated = tuple(i for i in range(nin) if template.count("{%d}" % i) > 1)
    return template, nin, repeated, name in TRAPPING


# Every other straight-line instruction: loads, stores and bulk operations by handler, the
# one-expression ones (ops.EXPR) by their precomputed form.
for _op, _info in OPS.items():
    if _op in _HANDLERS:
        continue
    if _info.imm == "memarg":
        _HANDLERS[_op] = Emitter.load if _info.name in LOAD else Emitter.store
    elif _op in _BULK:
        _HANDLERS[_op] = Emitter.bulk
_NUMERIC = {op: _numeric_form(info.name, len(info.sig[0])) for op, info in OPS.items()
            if op not in _HANDLERS and info.imm == "none" and info.name in EXPR}


def _zero(valtype) -> str:
    """The initial value of a declared local, as source."""
    if valtype in (F32, F64):
        return "0.0"
    if valtype in (0x70, 0x6F):
        return "None"
    return "0"
