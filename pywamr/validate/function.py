"""Validate one function body with the spec's algorithm (appendix "Validation Algorithm").

Produces the side tables both engines consume (`FuncInfo`). Does not look at anything outside
the function except through the `ModuleContext` it is given, and knows instructions only
through the one instruction table (`binary/opcodes.py`: fixed typings, memory access widths
and natural alignments).

Side-table contract. Positions are indices into `Code.body` (whose last instruction is the
function's `end`); every table is complete for a function that validated:

  block_types[i]  for every `block`/`loop`/`if` at i: its `FuncType` (params -> results),
                  resolved ONCE here from the blocktype immediate (empty, one value type, or
                  a type index), so that an engine need never look at the immediate.
  matches[i]      for every `block`/`loop`/`if` at i: the position of its `end`.
  elses[i]        for every `if` at i that has an `else`: the position of that `else`.
  heights[i]      operand-stack height (all values of the function, not per block) before
                  instruction i, or None when i lies in the unreachable part of an enclosing
                  block: after `br`, `br_table`, `return`, `return_call`,
                  `return_call_indirect` or `unreachable`, up to and including the
                  `else`/`end` that closes that part. For a `block`/`loop` at a reachable i
                  its params are the top `len(params)` values; for an `if`, they sit below
                  the i32 condition.
  max_height      the largest operand-stack height anywhere in the body.
  locals          parameter types followed by the declared locals.

Branch targets follow from these: label depth d at instruction i names the d-th enclosing
open block; a branch to a `block`/`if` at s continues after `matches[s]` carrying
`block_types[s].results`, a branch to a `loop` at s re-enters the loop carrying
`block_types[s].params`, and depth = number of open blocks is the function body (a return).

Consumers today: aot (`aot/translate.py`, `aot/emit/control.py`) reads block_types, heights,
matches and elses and re-derives none of them. interp (`interp/translate.py`) reads heights,
matches and elses but still resolves blocktype immediates itself (`block_arity`).
"""
from __future__ import annotations

from ..binary import ast
from ..binary.opcodes import OPS, UNSUPPORTED_FEATURES
from ..binary.simd_opcodes import lane_count
from ..binary.types import EXTERNREF, F32, F64, FUNCREF, I32, I64, V128, FuncType, is_ref
from ..errors import ValidationError
from ..record import record

UNKNOWN = 0          # the bottom type of the algorithm: matches anything
@record
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
        return _Validator(ctx, index, ftype, code).run()
    except ValidationError as exc:
        if exc.func_index is None:
            raise ValidationError(exc.message, index, exc.offset) from None
        raise


# Immediate kinds of the instructions whose typing the table's `sig` gives completely.
_FIXED_IMMEDIATES = frozenset({"none", "i32", "i64", "f32", "f64", "v128"})


class _Validator:
    """The spec's operand and control stacks for one body, plus the side tables being built.
    `run` walks the body; each instruction family has one function below."""

    __slots__ = ("ctx", "index", "ftype", "locals", "body", "offsets", "vals", "ctrls", "pos",
                 "dead", "heights", "matches", "elses", "block_types", "max_height")

    def __init__(self, ctx: ModuleContext, index: int, ftype: FuncType, code: ast.Code):
        self.ctx = ctx
        self.index = index
        self.ftype = ftype
        self.locals = ftype.params + code.locals
        self.body = code.body
        self.offsets = code.offsets
        self.vals: list[int] = []
        self.ctrls: list[_Frame] = []
        self.pos = 0
        self.dead = 0          # how many open frames are in their unreachable part
        self.heights: list = [None] * len(code.body)
        self.matches: dict = {}
        self.elses: dict = {}
        self.block_types: dict = {}
        self.max_height = 0

    def run(self) -> FuncInfo:
        self.push_ctrl(-1, (), self.ftype.results)
        self.ctrls[0].start = -1
        vals = self.vals
        heights = self.heights
        body = self.body
        n = len(body)
        while self.pos < n:
            pos = self.pos
            instr = body[pos]
            heights[pos] = None if self.dead else len(vals)
            info = OPS[instr[0]]
            sig = info.sig
            if sig is not None and info.imm in _FIXED_IMMEDIATES:
                self.pop_types(sig[0])
                vals.extend(sig[1])
            else:
                handler = _FAMILIES.get(info.family)
                if handler is None or info.feature in UNSUPPORTED_FEATURES:
                    self.fail(f"instruction {info.name} is not supported")
                handler(self, instr, info)
                if not self.ctrls:
                    if pos != n - 1:
                        self.fail("operators remaining after end of function")
                    break
            if len(vals) > self.max_height:
                self.max_height = len(vals)
            self.pos = pos + 1
        else:
            self.fail("unexpected end of function")
        return FuncInfo(self.index, self.ftype, self.locals, tuple(heights), self.matches,
                        self.elses, self.max_height, self.block_types)

    # -- the algorithm's stack operations ---------------------------------------------------
    def fail(self, message):
        pos = self.pos
        raise ValidationError(message, self.index,
                              self.offsets[pos] if pos < len(self.offsets) else None)

    def pop(self):
        frame = self.ctrls[-1]
        if len(self.vals) == frame.height:
            if frame.unreachable:
                return UNKNOWN
            self.fail("type mismatch")
        return self.vals.pop()

    def pop_expect(self, expected):
        actual = self.pop()
        if actual != expected and actual != UNKNOWN and expected != UNKNOWN:
            self.fail("type mismatch")
        return actual

    def pop_types(self, types):
        for t in reversed(types):
            self.pop_expect(t)

    def push_ctrl(self, opcode, params, results):
        self.ctrls.append(_Frame(opcode, params, results, len(self.vals), self.pos))
        self.vals.extend(params)

    def pop_ctrl(self):
        frame = self.ctrls[-1]
        self.pop_types(frame.results)
        if len(self.vals) != frame.height:
            self.fail("type mismatch")
        self.ctrls.pop()
        if frame.unreachable:
            self.dead -= 1
        return frame

    def set_unreachable(self):
        frame = self.ctrls[-1]
        del self.vals[frame.height:]
        if not frame.unreachable:
            frame.unreachable = True
            self.dead += 1

    # -- context lookups ----------------------------------------------------------------------
    def label(self, n):
        if n >= len(self.ctrls):
            self.fail("unknown label")
        return self.ctrls[-1 - n]

    def memory(self, idx=0):
        if idx >= len(self.ctx.memories):
            self.fail("unknown memory")

    def table(self, idx):
        if idx >= len(self.ctx.tables):
            self.fail("unknown table")
        return self.ctx.tables[idx]

    def local(self, idx):
        if idx >= len(self.locals):
            self.fail("unknown local")
        return self.locals[idx]

    def global_(self, idx):
        if idx >= len(self.ctx.globals):
            self.fail("unknown global")
        return self.ctx.globals[idx]

    def data_segment(self, idx):
        if self.ctx.data_count is None or idx >= self.ctx.data_count:
            self.fail("unknown data segment")

    def elem_segment(self, idx):
        if idx >= len(self.ctx.elem_types):
            self.fail("unknown elem segment")
        return self.ctx.elem_types[idx]

    def block_signature(self, bt) -> FuncType:
        """The signature a blocktype immediate stands for (spec: "Block Types")."""
        if bt == ast.BLOCK_EMPTY:
            return _EMPTY_BLOCK
        if bt < 0:
            return _ONE_RESULT.get(-bt) or FuncType((), (-bt,))
        if bt >= len(self.ctx.types):
            self.fail("unknown type")
        return self.ctx.types[bt]


_EMPTY_BLOCK = FuncType((), ())
_ONE_RESULT = {t: FuncType((), (t,)) for t in (I32, I64, F32, F64, V128, FUNCREF, EXTERNREF)}


# ---- one function per instruction family (`OpInfo.family`) -----------------------------------

def _control(v: _Validator, instr, info) -> None:
    op = instr[0]
    vals = v.vals
    if op == 0x0B:  # end
        frame = v.pop_ctrl()
        if frame.opcode == 0x04 and frame.params != frame.results:
            v.fail("type mismatch")  # if without else must have matching in/out
        if frame.start >= 0:
            v.matches[frame.start] = v.pos
        vals.extend(frame.results)
    elif op == 0x02 or op == 0x03 or op == 0x04:
        bsig = v.block_signature(instr[1])
        v.block_types[v.pos] = bsig
        if op == 0x04:
            v.pop_expect(I32)
        v.pop_types(bsig.params)
        v.push_ctrl(op, bsig.params, bsig.results)
    elif op == 0x05:  # else
        frame = v.ctrls[-1]
        if frame.opcode != 0x04:
            v.fail("else without matching if")
        v.pop_ctrl()
        v.elses[frame.start] = v.pos
        v.push_ctrl(0x05, frame.params, frame.results)
        v.ctrls[-1].start = frame.start
    elif op == 0x0C:  # br
        v.pop_types(v.label(instr[1]).label_types())
        v.set_unreachable()
    elif op == 0x0D:  # br_if
        v.pop_expect(I32)
        types = v.label(instr[1]).label_types()
        v.pop_types(types)
        vals.extend(types)
    elif op == 0x0E:  # br_table
        v.pop_expect(I32)
        default = v.label(instr[2]).label_types()
        arity = len(default)
        for lab in instr[1]:
            types = v.label(lab).label_types()
            if len(types) != arity:
                v.fail("type mismatch")
            popped = [v.pop_expect(t) for t in reversed(types)]
            vals.extend(reversed(popped))
        v.pop_types(default)
        v.set_unreachable()
    elif op == 0x0F:  # return
        v.pop_types(v.ctrls[0].results)
        v.set_unreachable()
    elif op == 0x00:  # unreachable
        v.set_unreachable()
    elif op != 0x01:  # nop
        v.fail(f"instruction {info.name} is not supported")


def _call(v: _Validator, instr, info) -> None:
    """`call`, `call_indirect` and the tail calls `return_call`, `return_call_indirect`
    (tail-call proposal: the callee's results must be the caller's, and the instruction ends
    the block's reachable code as `return` does)."""
    ctx = v.ctx
    op = instr[0]
    if op == 0x10 or op == 0x12:
        if instr[1] >= len(ctx.funcs):
            v.fail("unknown function")
        ft = ctx.funcs[instr[1]]
    else:  # call_indirect, return_call_indirect
        if v.table(instr[2]).elem != FUNCREF:
            v.fail("type mismatch")
        if instr[1] >= len(ctx.types):
            v.fail("unknown type")
        ft = ctx.types[instr[1]]
        v.pop_expect(I32)
    v.pop_types(ft.params)
    if op == 0x12 or op == 0x13:
        if tuple(ft.results) != tuple(v.ctrls[0].results):
            v.fail("type mismatch")
        v.set_unreachable()
    else:
        v.vals.extend(ft.results)


def _variable(v: _Validator, instr, info) -> None:
    op = instr[0]
    if op == 0x20:
        v.vals.append(v.local(instr[1]))
    elif op == 0x21:
        v.pop_expect(v.local(instr[1]))
    elif op == 0x22:
        t = v.local(instr[1])
        v.pop_expect(t)
        v.vals.append(t)
    elif op == 0x23:
        v.vals.append(v.global_(instr[1]).valtype)
    else:  # global.set
        g = v.global_(instr[1])
        if not g.mutable:
            v.fail("global is immutable")
        v.pop_expect(g.valtype)


def _parametric(v: _Validator, instr, info) -> None:
    op = instr[0]
    if op == 0x1A:  # drop
        v.pop()
    elif op == 0x1B:  # select (numeric operands only)
        v.pop_expect(I32)
        t1 = v.pop()
        t2 = v.pop()
        if is_ref(t1) or is_ref(t2):
            v.fail("type mismatch")
        if t1 != t2 and t1 != UNKNOWN and t2 != UNKNOWN:
            v.fail("type mismatch")
        v.vals.append(t2 if t1 == UNKNOWN else t1)
    else:  # select with its type
        types = instr[1]
        if len(types) != 1:
            v.fail("invalid result arity")
        v.pop_expect(I32)
        v.pop_expect(types[0])
        v.pop_expect(types[0])
        v.vals.append(types[0])


def _memory(v: _Validator, instr, info) -> None:
    """Loads and stores (memory index, alignment against the table's natural alignment),
    memory.size/grow and the bulk-memory instructions; operand types from the table."""
    op = instr[0]
    imm = info.imm
    if imm == "memarg":
        v.memory(instr[3])
        if instr[1] > info.align:
            v.fail("alignment must not be larger than natural")
    elif imm == "memory":            # memory.size, memory.grow, memory.fill
        v.memory(instr[1])
    elif imm == "memory_copy":
        v.memory(instr[1])
        v.memory(instr[2])
    elif op == 0xFC0008:             # memory.init
        v.memory(instr[2])
        v.data_segment(instr[1])
    else:                            # data.drop
        v.data_segment(instr[1])
    v.pop_types(info.sig[0])
    v.vals.extend(info.sig[1])


def _simd(v: _Validator, instr, info) -> None:
    """The SIMD instructions with immediates beyond `v128.const`: lane indices bounded by the
    shape's lane count, shuffle lanes below 32, memargs as for scalar accesses (alignment at
    most the access width); operand types from the table."""
    imm = info.imm
    if imm == "memarg" or imm == "memarg_lane":
        v.memory(instr[3])
        if instr[1] > info.align:
            v.fail("alignment must not be larger than natural")
        if imm == "memarg_lane" and instr[4] >= lane_count(info.name, info.width):
            v.fail("invalid lane index")
    elif imm == "lane":
        if instr[1] >= lane_count(info.name):
            v.fail("invalid lane index")
    elif imm == "shuffle":
        if any(lane >= 32 for lane in instr[1]):
            v.fail("invalid lane index")
    else:
        v.fail(f"instruction {info.name} is not supported")
    v.pop_types(info.sig[0])
    v.vals.extend(info.sig[1])


def _reference(v: _Validator, instr, info) -> None:
    op = instr[0]
    if op == 0xD0:
        v.vals.append(instr[1])
    elif op == 0xD1:
        t = v.pop()
        if t != UNKNOWN and not is_ref(t):
            v.fail("type mismatch")
        v.vals.append(I32)
    else:  # ref.func
        if instr[1] >= len(v.ctx.funcs):
            v.fail("unknown function")
        if instr[1] not in v.ctx.refs:
            v.fail("undeclared function reference")
        v.vals.append(FUNCREF)


def _table(v: _Validator, instr, info) -> None:
    op = instr[0]
    if op == 0x25:  # table.get
        elem = v.table(instr[1]).elem
        v.pop_expect(I32)
        v.vals.append(elem)
    elif op == 0x26:  # table.set
        elem = v.table(instr[1]).elem
        v.pop_expect(elem)
        v.pop_expect(I32)
    elif op == 0xFC000C:  # table.init
        elem = v.table(instr[2]).elem
        if v.elem_segment(instr[1]) != elem:
            v.fail("type mismatch")
        v.pop_types(info.sig[0])
    elif op == 0xFC000D:  # elem.drop
        v.elem_segment(instr[1])
    elif op == 0xFC000E:  # table.copy dst src
        if v.table(instr[1]).elem != v.table(instr[2]).elem:
            v.fail("type mismatch")
        v.pop_types(info.sig[0])
    elif op == 0xFC000F:  # table.grow
        elem = v.table(instr[1]).elem
        v.pop_expect(I32)
        v.pop_expect(elem)
        v.vals.append(I32)
    elif op == 0xFC0010:  # table.size
        v.table(instr[1])
        v.vals.append(I32)
    else:  # table.fill
        elem = v.table(instr[1]).elem
        v.pop_expect(I32)
        v.pop_expect(elem)
        v.pop_expect(I32)


_FAMILIES = {"control": _control, "call": _call, "variable": _variable,
             "parametric": _parametric, "memory": _memory, "reference": _reference,
             "table": _table, "simd": _simd}
