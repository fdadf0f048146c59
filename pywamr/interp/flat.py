"""The flat form of a translated function: basic blocks in one `while True:` loop dispatching
on `pc`, for functions nested deeper than CPython accepts in structured form.

Every block end, loop start and `else` starts a section `if pc == N:`; a branch assigns the
carried values to the target's slots, sets `pc` and `continue`s; falling off a section sets `pc`
to the next one, which follows it in the source. Nesting in the output stays shallow whatever
the wasm nesting. Sits on `emit.Emitter`, chosen by `translate.py`; slower than the structured
form (a dispatch per section) and used only where that one does not fit. Does not compile the
source.

A branch reaches its section through a tree of guards, not a scan of every section: sections
are grouped, in source order, `DISPATCH_FANOUT` to a group and groups into groups, each behind
`if pc in {its pcs}:` (a constant frozenset), so a dispatch tests O(fanout * log n) conditions
where a flat chain tested up to n (a big interpreter loop has thousands of sections). Falling
off a section still lands in the next one: the next guard at the level it leaves holds it.
"""
from __future__ import annotations

import re

from .emit import Emitter

DISPATCH_FANOUT = 16        # sections (or groups) per guard of the dispatch tree
_SECTION = re.compile(r"        if pc == (\d+):$")     # a section header (indent 2)


class FlatFrame:
    __slots__ = ("kind", "start", "params", "results", "height", "pc", "else_pc")

    def __init__(self, kind, start, params, results, height, pc, else_pc=None):
        self.kind = kind            # "func" | "block" | "loop" | "if"
        self.start = start          # index of the opening instruction
        self.params = params
        self.results = results
        self.height = height        # stack height at entry, below the params
        self.pc = pc                # section a branch to this frame continues at
        self.else_pc = else_pc      # `if` only: section of the false path, until used


class FlatTranslator(Emitter):
    """Emits the body of one function in flat form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ctrls: list[FlatFrame] = []
        self.pcs = 0

    def new_pc(self) -> int:
        self.pcs += 1
        return self.pcs

    def open_section(self, pc: int, fallthrough: bool = True) -> None:
        """Start section `pc`; the current one falls into it (when reachable)."""
        self.indent = 3
        if fallthrough:
            self.emit(f"pc = {pc}")
        elif self.lines[-1].rstrip().endswith(":"):
            self.emit("pass")
        self.indent = 2
        self.emit(f"if pc == {pc}:")
        self.indent = 3

    def translate(self) -> None:
        info = self.info
        body = self.code.body
        heights = info.heights
        nresults = len(info.type.results)
        self.emit("pc = 0")
        self.emit("while True:")
        self.indent += 1
        self.emit("if pc == 0:")
        self.indent += 1
        self.ctrls.append(FlatFrame("func", -1, 0, nresults, 0, None))
        items = self.stack.items
        pos = 0
        while pos < len(body):
            instr = body[pos]
            op = instr[0]
            h = heights[pos]
            if h is not None and len(items) != h:
                self.check_height(pos, h)
            if op == 0x0B:
                if self.end(h):
                    break
            elif op == 0x05:
                self.else_(h)
            elif h is None:
                if op in (0x02, 0x03, 0x04):
                    pos = info.matches[pos]
            elif op in (0x02, 0x03, 0x04):
                self.begin(pos, instr)
            elif op == 0x0C:
                self.branch(instr[1])
            elif op == 0x0D:
                self.emit(f"if {self.condition()}:")
                self.indent += 1
                self.branch(instr[1])
                self.indent -= 1
            elif op == 0x0E:
                self.br_table(instr)
            elif op == 0x0F:
                self.emit_return(nresults)
            else:
                self.plain(instr, body[pos + 1][0])
            pos += 1
        self.lines = dispatch_tree(self.lines)

    def begin(self, pos: int, instr) -> None:
        op = instr[0]
        nparam, nres = self.block_arity(pos)
        cond = self.condition() if op == 0x04 else None
        self.stack.flush()
        base = len(self.stack) - nparam
        if op == 0x03:
            pc = self.new_pc()
            self.open_section(pc)
            self.ctrls.append(FlatFrame("loop", pos, nparam, nres, base, pc))
        elif op == 0x02:
            self.ctrls.append(FlatFrame("block", pos, nparam, nres, base, self.new_pc()))
        else:
            end_pc, else_pc = self.new_pc(), self.new_pc()
            self.ctrls.append(FlatFrame("if", pos, nparam, nres, base, end_pc, else_pc))
            self.emit(f"if not {cond}:")
            self.indent += 1
            self.emit(f"pc = {else_pc}")
            self.emit("continue")
            self.indent -= 1

    def end(self, h) -> bool:
        frame = self.ctrls.pop()
        if frame.kind == "func":
            if h is not None:
                self.emit_return(frame.results)
            return True
        if h is not None:
            self.stack.flush()
        if frame.kind == "if" and frame.else_pc is not None:
            # no `else`: the false path lands here, then joins the end
            self.open_section(frame.else_pc, fallthrough=h is not None)
            self.emit(f"pc = {frame.pc}")
            self.emit("continue")
            self.open_section(frame.pc, fallthrough=False)
        elif frame.kind != "loop":
            self.open_section(frame.pc, fallthrough=h is not None)
        self.stack.reset(frame.height, frame.results)
        return False

    def else_(self, h) -> None:
        frame = self.ctrls[-1]
        if h is not None:
            self.stack.flush()
            self.emit(f"pc = {frame.pc}")
            self.emit("continue")
        self.open_section(frame.else_pc, fallthrough=False)
        frame.else_pc = None
        self.stack.reset(frame.height, frame.params)

    def branch(self, depth: int) -> bool:
        target = self.ctrls[-1 - depth]
        if target.kind == "func":
            self.emit_return(target.results)
            return False
        arity = target.params if target.kind == "loop" else target.results
        self.emit_moves(target.height, arity)
        self.emit(f"pc = {target.pc}")
        self.emit("continue")
        return False

    def label_arity(self, depth: int) -> int:
        target = self.ctrls[-1 - depth]
        return target.params if target.kind == "loop" else target.results


def dispatch_tree(lines: list[str]) -> list[str]:
    """`lines` with the sections (`if pc == N:` at indent 2, each followed by its deeper
    lines) nested in a tree of `if pc in {...}:` guards; the lines before them stay."""
    starts = [i for i, line in enumerate(lines) if _SECTION.match(line)]
    if len(starts) <= DISPATCH_FANOUT:
        return lines
    sections = [(int(_SECTION.match(lines[a]).group(1)), lines[a:b])
                for a, b in zip(starts, starts[1:] + [len(lines)])]
    out = lines[:starts[0]]
    _emit_group(out, sections, 0)
    return out


def _emit_group(out: list[str], sections: list, depth: int) -> None:
    """Sections `sections` (pc, lines), indented by `depth` guards, grouped further while
    there are more than DISPATCH_FANOUT of them."""
    if len(sections) <= DISPATCH_FANOUT:
        pad = "    " * depth
        for _, body in sections:
            out.extend(pad + line for line in body)
        return
    size = -(-len(sections) // DISPATCH_FANOUT)         # ceil: at most DISPATCH_FANOUT groups
    pad = "    " * (depth + 2)
    for first in range(0, len(sections), size):
        group = sections[first:first + size]
        pcs = ", ".join(str(pc) for pc, _ in group)
        out.append(f"{pad}if pc in {{{pcs}}}:")
        _emit_group(out, group, depth + 1)
