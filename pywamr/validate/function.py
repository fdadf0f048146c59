"""Validate one function body with the spec's algorithm (appendix "Validation Algorithm").

Produces the side tables both engines consume (`FuncInfo`). Does not look at anything outside
the function except through the `ModuleContext` it is given, and knows instructions only
through the one instruction table (`binary/opcodes.py`: fixed typings, memory access widths
and natural alignments).

Side-table contract. Positions are indices into `Code.body` (whose last instruction is the
function's `end`); every table is complete for a function that validated:

  block_types[i]  for every `block`/`loop`/`if` at i: its `FuncType` (params -> results),
                  resolved ONCE here from the blocktype immediate (empty, one value type, or
                  a type index). Engines read this and never look at the immediate.
  matches[i]      for every `block`/`loop`/`if` at i: the position of its `end`.
  elses[i]        for every `if` at i that has an `else`: the position of that `else`.
  heights[i]      operand-stack height (all values of the function, not per block) before
                  instruction i, or None when i lies in the unreachable part of an enclosing
                  block: after `br`, `br_table`, `return` or `unreachable`, up to and
                  including the `else`/`end` that closes that part. For a `block`/`loop` at a
                  reachable i its params are the top `len(params)` values; for an `if`, they
                  sit below the i32 condition.
  max_height      the largest operand-stack height anywhere in the body.
  locals          parameter types followed by the declared locals.

Branch targets follow from these: label depth d at instruction i names the d-th enclosing
open block; a branch to a `block`/`if` at s continues after `matches[s]` carrying
`block_types[s].results`, a branch to a `loop` at s re-enters the loop carrying
`block_types[s].params`, and depth = number of open blocks is the function body (a return).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..binary import ast
from ..binary.opcodes import OPS
from ..binary.types import EXTERNREF, F32, F64, FUNCREF, I32, I64, FuncType, is_ref
from ..errors import ValidationError

UNKNOWN = 0          # the bottom type of the algorithm: matches anything
NUMERIC = (I32, I64, F32, F64)


@dataclass(frozen=True, slots=True)
class FuncInfo:
    """Side tables of one function, read by both engines (see the module docstring)."""
    index: int
    type: FuncType
    locals: tuple          # parameter types then declared locals
    heights: tuple         # stack height before each instruction; None if unreachable
    matches: dict          # block/loop/if position -> position of its end
    elses: dict            # if position -> position of its else (ifs that have one)
    max_height: int
    block_types: dict      # block/loop/if position -> FuncType of the block


class ModuleContext:
    """What a function body may refer to (the spec's context C)."""

    __slots__ = ("types", "funcs", "tables", "memories", "globals", "elem_types", "data_count",
                 "refs")

    def __init__(self, types, funcs, tables, memories, globals_, elem_types, data_count, refs):
        self.types = types
        self.funcs = funcs
        self.tables = tables
        self.memories = memories
        self.globals = globals_
        self.elem_types = elem_types
        self.data_count = data_count
        self.refs = refs


class _Frame:
    __slots__ = ("opcode", "params", "results", "height", "unreachable", "start")

    def __init__(self, opcode, params, results, height, start):
        self.opcode = opcode
        self.params = params
        self.results = results
        self.height = height
        self.unreachable = False
        self.start = start

    def label_types(self):
        return self.params if self.opcode == 0x03 else self.results


def validate_function(ctx: ModuleContext, index: int, ftype: FuncType, code: ast.Code) -> FuncInfo:
    try:
        return _validate(ctx, index, ftype, code)
    except ValidationError as exc:
        if exc.func_index is None:
            raise ValidationError(exc.message, index, exc.offset) from None
        raise


def _validate(ctx, index, ftype, code):
    locals_ = ftype.params + code.locals
    vals: list[int] = []
    ctrls: list[_Frame] = []
    body = code.body
    offsets = code.offsets
    heights = [None] * len(body)
    matches: dict = {}
    elses: dict = {}
    block_types: dict = {}
    max_height = 0
    pos = 0
    dead = [0]          # how many open frames are in their unreachable part

    def fail(message):
        raise ValidationError(message, index, offsets[pos] if pos < len(offsets) else None)

    def pop():
        frame = ctrls[-1]
        if len(vals) == frame.height:
            if frame.unreachable:
                return UNKNOWN
            fail("type mismatch")
        return vals.pop()

    def pop_expect(expected):
        actual = pop()
        if actual != expected and actual != UNKNOWN and expected != UNKNOWN:
            fail("type mismatch")
        return actual

    def pop_types(types):
        for t in reversed(types):
            pop_expect(t)

    def push_ctrl(opcode, params, results):
        ctrls.append(_Frame(opcode, params, results, len(vals), pos))
        vals.extend(params)

    def pop_ctrl():
        frame = ctrls[-1]
        pop_types(frame.results)
        if len(vals) != frame.height:
            fail("type mismatch")
        ctrls.pop()
        if frame.unreachable:
            dead[0] -= 1
        return frame

    def set_unreachable():
        frame = ctrls[-1]
        del vals[frame.height:]
        if not frame.unreachable:
            frame.unreachable = True
            dead[0] += 1

    def label(n):
        if n >= len(ctrls):
            fail("unknown label")
        return ctrls[-1 - n]

    def memory(idx=0):
        if idx >= len(ctx.memories):
            fail("unknown memory")

    def table(idx):
        if idx >= len(ctx.tables):
            fail("unknown table")
        return ctx.tables[idx]

    push_ctrl(-1, (), ftype.results)
    ctrls[0].start = -1
    n = len(body)
    while pos < n:
        instr = body[pos]
        op = instr[0]
        heights[pos] = None if dead[0] else len(vals)
        info = OPS[op]
        sig = info.sig
        if sig is not None and info.imm in ("none", "i32", "i64", "f32", "f64"):
            pop_types(sig[0])
            vals.extend(sig[1])
        elif op == 0x0B:  # end
            frame = pop_ctrl()
            if frame.opcode == 0x04 and frame.params != frame.results:
                fail("type mismatch")  # if without else must have matching in/out
            if frame.start >= 0:
                matches[frame.start] = pos
            vals.extend(frame.results)
            if not ctrls:
                if pos != n - 1:
                    fail("operators remaining after end of function")
                break
        elif op == 0x20:
            if instr[1] >= len(locals_):
                fail("unknown local")
            vals.append(locals_[instr[1]])
        elif op == 0x21:
            if instr[1] >= len(locals_):
                fail("unknown local")
            pop_expect(locals_[instr[1]])
        elif op == 0x22:
            if instr[1] >= len(locals_):
                fail("unknown local")
            t = locals_[instr[1]]
            pop_expect(t)
            vals.append(t)
        elif op == 0x23:
            if instr[1] >= len(ctx.globals):
                fail("unknown global")
            vals.append(ctx.globals[instr[1]].valtype)
        elif op == 0x24:
            if instr[1] >= len(ctx.globals):
                fail("unknown global")
            g = ctx.globals[instr[1]]
            if not g.mutable:
                fail("global is immutable")
            pop_expect(g.valtype)
        elif info.imm == "memarg":
            memory(instr[3])
            if instr[1] > info.align:
                fail("alignment must not be larger than natural")
            pop_types(sig[0])
            vals.extend(sig[1])
        elif op == 0x02 or op == 0x03 or op == 0x04:
            bsig = _block_sig(ctx, instr[1], fail)
            block_types[pos] = bsig
            if op == 0x04:
                pop_expect(I32)
            pop_types(bsig.params)
            push_ctrl(op, bsig.params, bsig.results)
        elif op == 0x05:  # else
            frame = ctrls[-1]
            if frame.opcode != 0x04:
                fail("else without matching if")
            pop_ctrl()
            elses[frame.start] = pos
            push_ctrl(0x05, frame.params, frame.results)
            ctrls[-1].start = frame.start
        elif op == 0x0C:
            pop_types(label(instr[1]).label_types())
            set_unreachable()
        elif op == 0x0D:
            pop_expect(I32)
            types = label(instr[1]).label_types()
            pop_types(types)
            vals.extend(types)
        elif op == 0x0E:
            pop_expect(I32)
            default = label(instr[2]).label_types()
            arity = len(default)
            for lab in instr[1]:
                types = label(lab).label_types()
                if len(types) != arity:
                    fail("type mismatch")
                popped = [pop_expect(t) for t in reversed(types)]
                vals.extend(reversed(popped))
            pop_types(default)
            set_unreachable()
        elif op == 0x0F:
            pop_types(ctrls[0].results)
            set_unreachable()
        elif op == 0x00:
            set_unreachable()
        elif op == 0x01:
            pass
        elif op == 0x10:
            if instr[1] >= len(ctx.funcs):
                fail("unknown function")
            ft = ctx.funcs[instr[1]]
            pop_types(ft.params)
            vals.extend(ft.results)
        elif op == 0x11:
            tab = table(instr[2])
            if tab.elem != FUNCREF:
                fail("type mismatch")
            if instr[1] >= len(ctx.types):
                fail("unknown type")
            ft = ctx.types[instr[1]]
            pop_expect(I32)
            pop_types(ft.params)
            vals.extend(ft.results)
        elif op == 0x1A:
            pop()
        elif op == 0x1B:  # select (numeric operands only)
            pop_expect(I32)
            t1 = pop()
            t2 = pop()
            if is_ref(t1) or is_ref(t2):
                fail("type mismatch")
            if t1 != t2 and t1 != UNKNOWN and t2 != UNKNOWN:
                fail("type mismatch")
            vals.append(t2 if t1 == UNKNOWN else t1)
        elif op == 0x1C:
            types = instr[1]
            if len(types) != 1:
                fail("invalid result arity")
            pop_expect(I32)
            pop_expect(types[0])
            pop_expect(types[0])
            vals.append(types[0])
        elif op == 0x3F:
            memory(instr[1])
            vals.append(I32)
        elif op == 0x40:
            memory(instr[1])
            pop_expect(I32)
            vals.append(I32)
        elif op == 0xD0:
            vals.append(instr[1])
        elif op == 0xD1:
            t = pop()
            if t != UNKNOWN and not is_ref(t):
                fail("type mismatch")
            vals.append(I32)
        elif op == 0xD2:
            if instr[1] >= len(ctx.funcs):
                fail("unknown function")
            if instr[1] not in ctx.refs:
                fail("undeclared function reference")
            vals.append(FUNCREF)
        elif op == 0x25:
            tab = table(instr[1])
            pop_expect(I32)
            vals.append(tab.elem)
        elif op == 0x26:
            tab = table(instr[1])
            pop_expect(tab.elem)
            pop_expect(I32)
        elif op == 0xFC0008:  # memory.init
            memory(instr[2])
            if ctx.data_count is None or instr[1] >= ctx.data_count:
                fail("unknown data segment")
            pop_types((I32, I32, I32))
        elif op == 0xFC0009:
            if ctx.data_count is None or instr[1] >= ctx.data_count:
                fail("unknown data segment")
        elif op == 0xFC000A:
            memory(instr[1])
            memory(instr[2])
            pop_types((I32, I32, I32))
        elif op == 0xFC000B:
            memory(instr[1])
            pop_types((I32, I32, I32))
        elif op == 0xFC000C:  # table.init
            tab = table(instr[2])
            if instr[1] >= len(ctx.elem_types):
                fail("unknown elem segment")
            if ctx.elem_types[instr[1]] != tab.elem:
                fail("type mismatch")
            pop_types((I32, I32, I32))
        elif op == 0xFC000D:
            if instr[1] >= len(ctx.elem_types):
                fail("unknown elem segment")
        elif op == 0xFC000E:  # table.copy dst src
            dst = table(instr[1])
            src = table(instr[2])
            if dst.elem != src.elem:
                fail("type mismatch")
            pop_types((I32, I32, I32))
        elif op == 0xFC000F:  # table.grow
            tab = table(instr[1])
            pop_expect(I32)
            pop_expect(tab.elem)
            vals.append(I32)
        elif op == 0xFC0010:
            table(instr[1])
            vals.append(I32)
        elif op == 0xFC0011:  # table.fill
            tab = table(instr[1])
            pop_expect(I32)
            pop_expect(tab.elem)
            pop_expect(I32)
        else:
            fail(f"instruction {info.name} is not supported")
        if len(vals) > max_height:
            max_height = len(vals)
        pos += 1
    else:
        fail("unexpected end of function")
    return FuncInfo(index, ftype, locals_, tuple(heights), matches, elses, max_height,
                    block_types)


_EMPTY_BLOCK = FuncType((), ())
_ONE_RESULT = {t: FuncType((), (t,)) for t in (I32, I64, F32, F64, FUNCREF, EXTERNREF)}


def _block_sig(ctx, bt, fail) -> FuncType:
    """The signature a blocktype immediate stands for (spec: "Block Types")."""
    if bt == ast.BLOCK_EMPTY:
        return _EMPTY_BLOCK
    if bt < 0:
        return _ONE_RESULT.get(-bt) or FuncType((), (-bt,))
    if bt >= len(ctx.types):
        fail("unknown type")
    return ctx.types[bt]
