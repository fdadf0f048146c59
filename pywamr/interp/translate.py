"""Translate one validated wasm function into Python source that CPython runs directly.

Operand-stack slots become Python locals named by their height (`s0`, `s1`, ...), wasm locals
become `l0`, `l1`, ...; the heights come from the validator's side tables, so a branch that
carries values is a few assignments. Structured control maps onto Python: a block or loop that
is a branch target becomes a `while True:` loop (`break` leaves it, `continue` restarts a wasm
loop); branches that leave several Python loops set `br` to the target's id and break outward,
each crossed loop checking `br` after it. CPython refuses more than 20 nested loops and deep
indentation, so a function nested deeper is translated in "flat" form instead: a dispatch loop
over basic blocks numbered by `pc`. Does not run anything; `interp/instance.py` compiles and
binds the result.
"""
from __future__ import annotations

import re

from ..binary import ast
from ..binary.opcodes import OPS
from ..binary.types import F32, F64
from ..runtime.numerics import f32_from_bits, f64_from_bits
from ..validate.function import FuncInfo
from .ops import EXPR, LOAD, STORE, TRAPPING

# Bulk memory and table instructions: operand count and statement ({imm} is the instruction).
_BULK = {
    0xFC0008: (3, "memory_init(mem, datas, {imm[1]}, {0}, {1}, {2})"),
    0xFC000A: (3, "memory_copy(mem, {0}, {1}, {2})"),
    0xFC000B: (3, "memory_fill(mem, {0}, {1}, {2})"),
    0xFC000C: (3, "table_init(t{imm[2]}.elements, elems, {imm[1]}, {0}, {1}, {2})"),
    0xFC000E: (3, "table_copy(t{imm[1]}.elements, t{imm[2]}.elements, {0}, {1}, {2})"),
    0xFC000F: (2, "{dst} = table_grow(t{imm[1]}, {0}, {1})"),
    0xFC0011: (3, "table_fill(t{imm[1]}.elements, {0}, {1}, {2})"),
}
_ASSIGNED_SLOTS = re.compile(r"^(s\d+(?:, s\d+)*) = ")
_ATOM = re.compile(r"^\(?-?[\w.]+\)?$")

MAX_LOOP_DEPTH = 17
MAX_INDENT = 60
MAX_FOLDED_LENGTH = 240     # keeps folded expressions far below CPython's nesting limits


class _Frame:
    __slots__ = ("kind", "start", "end", "params", "results", "height", "loop", "id",
                 "exits")

    def __init__(self, kind, start, end, params, results, height, loop, ident):
        self.kind = kind            # "func" | "block" | "loop" | "if"
        self.start = start
        self.end = end
        self.params = params        # arity
        self.results = results
        self.height = height        # stack height at entry, below the params
        self.loop = loop            # does it own a Python `while True:`?
        self.id = ident
        self.exits = set()          # ids of outer targets that branches leave through this loop


def _float_literal(value: float, consts: dict, prefix: str) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        name = f"k{prefix}_{len(consts)}"
        consts[name] = value
        return name
    return repr(value)


class FunctionTranslator:
    """Produces the source of `def <name>(l0, ...)` for one function."""

    def __init__(self, module: ast.Module, types: list, func_types: list, info: FuncInfo,
                 code: ast.Code, name: str, *, simple: bool = False):
        self.module = module
        self.types = types
        self.func_types = func_types
        self.info = info
        self.code = code
        self.name = name
        self.simple = simple        # flat form without folding: the fallback that always fits
        self.lines: list[str] = []
        self.consts: dict = {}
        self.indent = 1
        self.label_ids = 0
        # Operand folding (structured form only): a `local.get` or constant is not copied into
        # its stack slot; the slot's consumer reads the local or literal directly. `pending`
        # maps slot -> atom; it is flushed at control flow and before the local is written.
        self.fold = False
        self.pending: dict[int, str] = {}

    # ---- helpers -------------------------------------------------------------------------
    def emit(self, line: str) -> None:
        if self.pending:
            target = _ASSIGNED_SLOTS.match(line)
            if target:
                # deferred expressions read the old value of an overwritten slot: evaluate first
                for name in target.group(1).split(", "):
                    self.flush_local(name)
        self.lines.append("    " * self.indent + line)

    def operand(self, slot: int) -> str:
        """The expression for a stack slot that is being consumed."""
        atom = self.pending.pop(slot, None)
        return f"s{slot}" if atom is None else atom

    def flush(self) -> None:
        """Materialise every deferred slot (before control flow joins or branches)."""
        items = sorted(self.pending.items())
        self.pending.clear()
        for slot, expr in items:
            self.emit(f"s{slot} = {expr}")

    def flush_local(self, name: str) -> None:
        """Materialise deferred slots that read local `name`, before it is overwritten."""
        pattern = re.compile(rf"\b{name}\b")
        readers = [(k, expr) for k, expr in self.pending.items() if pattern.search(expr)]
        for slot, _ in readers:
            del self.pending[slot]
        for slot, expr in sorted(readers):
            self.emit(f"s{slot} = {expr}")

    def defer(self, slot: int, atom: str) -> None:
        if self.fold:
            self.pending[slot] = atom
        else:
            self.emit(f"s{slot} = {atom}")

    def block_arity(self, bt):
        if bt == ast.BLOCK_EMPTY:
            return 0, 0
        if bt < 0:
            return 0, 1
        ft = self.types[bt]
        return len(ft.params), len(ft.results)

    def _scan(self):
        """Which blocks are branch targets, and how deep Python nesting would get."""
        body = self.code.body
        targeted = set()
        stack = [-1]
        loop_depth = [0]
        max_loops = 0
        max_nest = 0
        for pos, instr in enumerate(body):
            op = instr[0]
            if op in (0x02, 0x03, 0x04):
                stack.append(pos)
                max_nest = max(max_nest, len(stack))
            elif op == 0x0B:
                stack.pop()
            elif op == 0x0C or op == 0x0D:
                targeted.add(stack[-1 - instr[1]])
            elif op == 0x0E:
                for lab in instr[1] + (instr[2],):
                    targeted.add(stack[-1 - lab])
        # Python loop nesting: count targeted frames along each path
        depth = 0
        stack = []
        for pos, instr in enumerate(body):
            op = instr[0]
            if op in (0x02, 0x03, 0x04):
                t = pos in targeted
                stack.append(t)
                if t:
                    depth += 1
                    max_loops = max(max_loops, depth)
            elif op == 0x0B and stack:
                if stack.pop():
                    depth -= 1
        return targeted, max_loops, max_nest

    # ---- entry ---------------------------------------------------------------------------
    def translate(self) -> tuple[str, dict]:
        targeted, max_loops, max_nest = self._scan()
        info = self.info
        nparams = len(info.type.params)
        params = ", ".join(f"l{i}" for i in range(nparams))
        self.lines.append(f"def {self.name}({params}):")
        for i, t in enumerate(info.locals[nparams:], nparams):
            self.emit(f"l{i} = {'0.0' if t in (F32, F64) else ('None' if t in (0x70, 0x6F) else '0')}")
        if self.simple or max_loops > MAX_LOOP_DEPTH or max_nest > MAX_INDENT:
            self.translate_flat()
        else:
            self.targeted = targeted
            self.translate_structured()
        return "\n".join(self.lines) + "\n", self.consts

    # ---- structured form -----------------------------------------------------------------
    def translate_structured(self):
        info = self.info
        body = self.code.body
        heights = info.heights
        nresults = len(info.type.results)
        ctrls = [_Frame("func", -1, len(body) - 1, 0, nresults, 0, False, 0)]
        uses_br = False
        pos = 0
        n = len(body)
        self.fold = True
        while pos < n:
            instr = body[pos]
            op = instr[0]
            h = heights[pos]
            if op in (0x02, 0x03, 0x05, 0x0B, 0x0C, 0x0E, 0x0F) and h is not None:
                self.flush()
            if op == 0x0B:  # end
                frame = ctrls.pop()
                if frame.kind == "func":
                    if h is not None:
                        self.emit_return(h, nresults)
                    break
                self.close_frame(frame)
                pos += 1
                continue
            if op == 0x05:  # else
                frame = ctrls[-1]
                if not self.lines[-1].strip() or self.lines[-1].rstrip().endswith(":"):
                    self.emit("pass")
                self.indent -= 1
                self.emit("else:")
                self.indent += 1
                pos += 1
                continue
            if h is None:
                if op in (0x02, 0x03, 0x04):
                    pos = info.matches[pos] + 1     # a whole dead block
                    continue
                # dead code up to the end/else of the current frame
                pos += 1
                continue
            if op in (0x02, 0x03, 0x04):
                nparam, nres = self.block_arity(instr[1])
                kind = {0x02: "block", 0x03: "loop", 0x04: "if"}[op]
                base = h - nparam - (1 if op == 0x04 else 0)
                loop = pos in self.targeted
                self.label_ids += 1
                frame = _Frame(kind, pos, info.matches[pos], nparam, nres, base, loop,
                               self.label_ids)
                ctrls.append(frame)
                if op == 0x04:
                    cond = self.operand(h - 1)
                    self.flush()
                if loop:
                    self.emit("while True:")
                    self.indent += 1
                if op == 0x04:
                    self.emit(f"if {cond}:")
                    self.indent += 1
                pos += 1
                continue
            if op == 0x0C:
                uses_br |= self.emit_branch(ctrls, instr[1], h)
            elif op == 0x0D:
                cond = self.operand(h - 1)
                self.flush()
                self.emit(f"if {cond}:")
                self.indent += 1
                uses_br |= self.emit_branch(ctrls, instr[1], h - 1)
                self.indent -= 1
            elif op == 0x0E:
                uses_br |= self.emit_br_table(ctrls, instr, h)
            elif op == 0x0F:
                self.emit_return(h, nresults)
            else:
                self.emit_plain(instr, h)
            pos += 1
        if uses_br:
            self.lines.insert(1, "    br = 0")

    def close_frame(self, frame: _Frame):
        if frame.kind == "if":
            if self.lines[-1].rstrip().endswith(":"):
                self.emit("pass")
            self.indent -= 1
        if frame.loop:
            self.emit("break")
            self.indent -= 1
            if frame.exits:
                self.emit_exit_check(frame)

    def emit_exit_check(self, frame: _Frame):
        """After a Python loop that branches may leave with `br` set: handle or propagate."""
        self.emit("if br:")
        self.indent += 1
        parent = self.enclosing_loop
        handled = False
        if parent is not None and parent.id in frame.exits:
            self.emit(f"if br == {parent.id}:")
            self.indent += 1
            self.emit("br = 0")
            self.emit("continue" if parent.kind == "loop" else "break")
            self.indent -= 1
            handled = len(frame.exits) == 1
        if not handled:
            self.emit("break")
        self.indent -= 1

    @property
    def enclosing_loop(self):
        for frame in reversed(self._ctrls_ref):
            if frame.loop:
                return frame
        return None

    def emit_moves(self, dst: int, src: int, count: int):
        if dst == src or count == 0:
            return
        if count == 1:
            self.emit(f"s{dst} = s{src}")
        else:
            lhs = ", ".join(f"s{dst + i}" for i in range(count))
            rhs = ", ".join(f"s{src + i}" for i in range(count))
            self.emit(f"{lhs} = {rhs}")

    def emit_return(self, h: int, nresults: int):
        if nresults == 0:
            self.emit("return")
        elif nresults == 1:
            self.emit(f"return s{h - 1}")
        else:
            self.emit("return (" + ", ".join(f"s{h - nresults + i}" for i in range(nresults)) + ")")

    def emit_branch(self, ctrls, depth: int, h: int) -> bool:
        """Branch to label `depth` with operand height `h`; True if it uses `br`."""
        self._ctrls_ref = ctrls
        target = ctrls[-1 - depth]
        if target.kind == "func":
            self.emit_return(h, target.results)
            return False
        arity = target.params if target.kind == "loop" else target.results
        self.emit_moves(target.height, h - arity, arity)
        # Python loops between here and the target
        crossed = []
        for frame in reversed(ctrls):
            if frame is target:
                break
            if frame.loop:
                crossed.append(frame)
        if not crossed:
            self.emit("continue" if target.kind == "loop" else "break")
            return False
        for frame in crossed:
            frame.exits.add(target.id)
        self.emit(f"br = {target.id}")
        self.emit("break")
        return True

    def emit_br_table(self, ctrls, instr, h: int) -> bool:
        labels, default = instr[1], instr[2]
        index = f"s{h - 1}"
        # group consecutive indices with the same target into ranges
        ranges = []
        for i, lab in enumerate(labels):
            if ranges and ranges[-1][2] == lab:
                ranges[-1][1] = i
            else:
                ranges.append([i, i, lab])
        uses = [False]

        def tree(lo, hi):
            # ranges[lo:hi] cover indices ranges[lo][0]..ranges[hi-1][1]; outside -> default
            if hi - lo == 1:
                uses[0] |= self.emit_branch(ctrls, ranges[lo][2], h - 1)
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
        uses[0] |= self.emit_branch(ctrls, default, h - 1)
        return uses[0]

    # ---- straight-line instructions (shared by both forms) -------------------------------
    def emit_plain(self, instr, h: int):
        op = instr[0]
        info = OPS[op]
        name = info.name
        e = self.emit
        o = self.operand
        if info.imm == "none" and info.sig is not None:
            nin = len(info.sig[0])
            template = EXPR[name]
            args = []
            for i in range(nin):
                arg = o(h - nin + i)
                if template.count("{%d}" % i) > 1 and not _ATOM.match(arg):
                    e(f"s{h - nin + i} = {arg}")     # evaluate a compound operand once
                    arg = f"s{h - nin + i}"
                args.append(arg)
            expr = template.format(*args)
            if self.fold and name not in TRAPPING and len(expr) <= MAX_FOLDED_LENGTH:
                self.pending[h - nin] = expr
            else:
                e(f"s{h - nin} = {expr}")
        elif op == 0x20:
            self.defer(h, f"l{instr[1]}")
        elif op == 0x21 or op == 0x22:
            local = f"l{instr[1]}"
            value = o(h - 1)
            self.flush_local(local)
            if value != local:
                e(f"{local} = {value}")
            if op == 0x22:
                self.defer(h - 1, local)
        elif op == 0x41 or op == 0x42:
            self.defer(h, f"({instr[1]})")
        elif op == 0x43:
            self.defer(h, f"({_float_literal(f32_from_bits(instr[1]), self.consts, self.info.index)})")
        elif op == 0x44:
            self.defer(h, f"({_float_literal(f64_from_bits(instr[1]), self.consts, self.info.index)})")
        elif info.imm == "memarg":
            offset = instr[2]
            if name in LOAD:
                base = o(h - 1)
                addr = f"{base} + {offset}" if offset else base
                e(f"s{h - 1} = " + LOAD[name].format(addr))
            else:
                value = o(h - 1)
                base = o(h - 2)
                addr = f"{base} + {offset}" if offset else base
                e(STORE[name].format(addr, value))
        elif op == 0x23:
            e(f"s{h} = g{instr[1]}.value")
        elif op == 0x24:
            e(f"g{instr[1]}.value = {o(h - 1)}")
        elif op == 0x10:
            ft = self.func_types[instr[1]]
            self.emit_call(f"f{instr[1]}", ft, h)
        elif op == 0x11:
            ft = self.types[instr[1]]
            self.consts[f"ty{instr[1]}"] = ft
            callee = f"call_target(t{instr[2]}.elements, {o(h - 1)}, ty{instr[1]})"
            self.emit_call(callee, ft, h - 1)
        elif op == 0x1A:
            pass
        elif op == 0x1B or op == 0x1C:
            c, b, a = o(h - 1), o(h - 2), o(h - 3)
            e(f"s{h - 3} = {a} if {c} else {b}")
        elif op == 0x00:
            e("unreachable()")
        elif op == 0x01:
            pass
        elif op == 0x3F:
            e(f"s{h} = len(mem) >> 16")
        elif op == 0x40:
            e(f"s{h - 1} = memory_grow(memory0, {o(h - 1)})")
        elif op == 0xD0:
            self.defer(h, "None")
        elif op == 0xD1:
            e(f"s{h - 1} = {o(h - 1)} is None")
        elif op == 0xD2:
            e(f"s{h} = func{instr[1]}")
        elif op == 0x25:
            e(f"s{h - 1} = table_get(t{instr[1]}.elements, {o(h - 1)})")
        elif op == 0x26:
            v, i = o(h - 1), o(h - 2)
            e(f"table_set(t{instr[1]}.elements, {i}, {v})")
        elif op in _BULK:
            nin, template = _BULK[op]
            args = [o(h - nin + i) for i in range(nin)]
            e(template.format(*args, imm=instr, dst=f"s{h - nin}"))
        elif op == 0xFC0009:
            e(f"datas[{instr[1]}] = b''")
        elif op == 0xFC000D:
            e(f"elems[{instr[1]}] = []")
        elif op == 0xFC0010:
            e(f"s{h} = len(t{instr[1]}.elements)")
        else:
            raise AssertionError(f"no translation for {name}")

    def emit_call(self, callee: str, ft, h: int):
        n = len(ft.params)
        args = ", ".join(self.operand(h - n + i) for i in range(n))
        call = f"{callee}({args})"
        base = h - n
        r = len(ft.results)
        if r == 0:
            self.emit(call)
        elif r == 1:
            self.emit(f"s{base} = {call}")
        else:
            self.emit(", ".join(f"s{base + i}" for i in range(r)) + f" = {call}")

    # ---- flat form -----------------------------------------------------------------------
    def translate_flat(self):
        """Basic blocks in a `while True:` dispatch on `pc`; for deeply nested functions."""
        info = self.info
        body = self.code.body
        heights = info.heights
        nresults = len(info.type.results)
        # label numbers: each block end, loop start and else gets a pc value
        pcs = {}
        counter = [0]

        def new_pc():
            counter[0] += 1
            return counter[0]

        self.emit("pc = 0")
        self.emit("while True:")
        self.indent += 1
        self.emit("if pc == 0:")
        self.indent += 1
        ctrls = [("func", -1, 0, nresults, 0, None, None)]   # kind,start,params,results,height,pc_target,else_pc
        self._flat_sections = []
        pos = 0
        n = len(body)

        def start_section(pc):
            self.indent = 3
            self.emit(f"pc = {pc}")
            self.indent = 2
            self.emit(f"if pc == {pc}:")
            self.indent = 3

        while pos < n:
            instr = body[pos]
            op = instr[0]
            h = heights[pos]
            if op == 0x0B:
                frame = ctrls.pop()
                if frame[0] == "func":
                    if h is not None:
                        self.emit_return(h, nresults)
                    break
                kind, start, nparam, nres, base, target_pc, else_pc = frame
                if kind == "if" and else_pc is not None and start not in info.elses:
                    # if without else: the false path lands here
                    start_section(else_pc)
                    self.emit(f"pc = {target_pc}")
                    self.emit("continue")
                    self.indent = 2
                    self.emit(f"if pc == {target_pc}:")
                    self.indent = 3
                elif kind != "loop":
                    start_section(target_pc)
                pos += 1
                continue
            if op == 0x05:
                frame = ctrls[-1]
                kind, start, nparam, nres, base, target_pc, else_pc = frame
                if heights[pos] is not None:
                    self.emit(f"pc = {target_pc}")
                    self.emit("continue")
                self.indent = 2
                self.emit(f"if pc == {else_pc}:")
                self.indent = 3
                ctrls[-1] = (kind, start, nparam, nres, base, target_pc, None)
                pos += 1
                continue
            if h is None:
                if op in (0x02, 0x03, 0x04):
                    pos = info.matches[pos] + 1
                    continue
                pos += 1
                continue
            if op in (0x02, 0x03, 0x04):
                nparam, nres = self.block_arity(instr[1])
                base = h - nparam - (1 if op == 0x04 else 0)
                if op == 0x03:
                    pc = new_pc()
                    start_section(pc)
                    ctrls.append(("loop", pos, nparam, nres, base, pc, None))
                elif op == 0x02:
                    ctrls.append(("block", pos, nparam, nres, base, new_pc(), None))
                else:
                    end_pc = new_pc()
                    else_pc = new_pc()
                    ctrls.append(("if", pos, nparam, nres, base, end_pc, else_pc))
                    self.emit(f"if not s{h - 1}:")
                    self.indent += 1
                    self.emit(f"pc = {else_pc}")
                    self.emit("continue")
                    self.indent -= 1
                pos += 1
                continue
            if op == 0x0C:
                self.flat_branch(ctrls, instr[1], h)
            elif op == 0x0D:
                self.emit(f"if s{h - 1}:")
                self.indent += 1
                self.flat_branch(ctrls, instr[1], h - 1)
                self.indent -= 1
            elif op == 0x0E:
                labels, default = instr[1], instr[2]
                for i, lab in enumerate(labels):
                    self.emit(f"{'if' if i == 0 else 'elif'} s{h - 1} == {i}:")
                    self.indent += 1
                    self.flat_branch(ctrls, lab, h - 1)
                    self.indent -= 1
                self.flat_branch(ctrls, default, h - 1)
            elif op == 0x0F:
                self.emit_return(h, nresults)
            else:
                self.emit_plain(instr, h)
            pos += 1

    def flat_branch(self, ctrls, depth, h):
        kind, start, nparam, nres, base, target_pc, _ = ctrls[-1 - depth]
        if kind == "func":
            self.emit_return(h, nres)
            return
        arity = nparam if kind == "loop" else nres
        self.emit_moves(base, h - arity, arity)
        self.emit(f"pc = {target_pc}")
        self.emit("continue")
