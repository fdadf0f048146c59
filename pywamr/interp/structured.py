"""The structured form of a translated function: wasm blocks become Python `while True:` loops
and `if`s, so CPython runs wasm control flow with its own jumps.

A block or loop that is a branch target owns a `while True:` (`break` leaves it, `continue`
restarts a wasm loop); a branch that leaves several Python loops sets `br` to the target's id
and breaks outward, each crossed loop checking `br` after it. Values carried by a branch are
assigned to the target's slots (the validator's heights). Sits on `emit.Emitter`; used by
`translate.py`, which picks the flat form (`flat.py`) when nesting is beyond CPython's limits.
Does not compile the source.

With `osr` (the tiered engine's on-stack replacement, `engine/tier_osr.py`), the header of
every targeted loop without parameters over an empty operand stack gets one check,
`if o<F>: return o<F>(l0, ..., l<n>, <loop position>)`: one global load and a branch while
the name is None. Without it (the interp engine) the output is exactly as before. The flat
form has no such checks (its functions stay interpreted until their next call).
"""
from __future__ import annotations

from .emit import Emitter


class Frame:
    """A wasm control frame as the structured form sees it."""

    __slots__ = ("kind", "params", "results", "height", "loop", "id", "exits")

    def __init__(self, kind, params, results, height, loop, ident):
        self.kind = kind            # "func" | "block" | "loop" | "if"
        self.params = params        # arity
        self.results = results
        self.height = height        # stack height at entry, below the params
        self.loop = loop            # does it own a Python `while True:`?
        self.id = ident
        self.exits = set()          # ids of outer targets that branches leave through this loop


_KINDS = {0x02: "block", 0x03: "loop", 0x04: "if"}


def scan(body):
    """Which blocks are branch targets, how deep targeted (looping) frames nest, and how deep
    the structured form's indentation gets from frames."""
    targeted = set()
    labels = [-1]
    for pos, instr in enumerate(body):
        op = instr[0]
        if op in (0x02, 0x03, 0x04):
            labels.append(pos)
        elif op == 0x0B:
            labels.pop()
        elif op == 0x0C or op == 0x0D:
            targeted.add(labels[-1 - instr[1]])
        elif op == 0x0E:
            for label in instr[1] + (instr[2],):
                targeted.add(labels[-1 - label])
    loops = max_loops = indent = max_indent = 0
    open_frames = []
    for pos, instr in enumerate(body):
        op = instr[0]
        if op in (0x02, 0x03, 0x04):
            looping = pos in targeted
            width = looping + (op == 0x04)
            open_frames.append((looping, width))
            loops += looping
            indent += width
            max_loops = max(max_loops, loops)
            max_indent = max(max_indent, indent)
        elif op == 0x0B and open_frames:
            looping, width = open_frames.pop()
            loops -= looping
            indent -= width
    return targeted, max_loops, max_indent


class StructuredTranslator(Emitter):
    """Emits the body of one function in structured form."""

    def __init__(self, *args, targeted: set, osr: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.targeted = targeted
        self.osr = osr              # the namespace name of the OSR entry (None: no checks)
        self.ctrls: list[Frame] = []
        self.label_ids = 0

    def translate(self) -> None:
        info = self.info
        body = self.code.body
        heights = info.heights
        nresults = len(info.type.results)
        ctrls = self.ctrls
        ctrls.append(Frame("func", 0, nresults, 0, False, 0))
        uses_br = False
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
                    pos = info.matches[pos]     # a whole dead block
            elif op in (0x02, 0x03, 0x04):
                self.begin(pos, instr)
            elif op == 0x0C:
                uses_br |= self.branch(instr[1])
            elif op == 0x0D:
                self.emit(f"if {self.condition()}:")
                self.indent += 1
                uses_br |= self.branch(instr[1])
                self.indent -= 1
            elif op == 0x0E:
                uses_br |= self.br_table(instr)
            elif op == 0x0F:
                self.emit_return(nresults)
            else:
                self.plain(instr, body[pos + 1][0])
            pos += 1
        if uses_br:
            self.lines.insert(1, "    br = 0")

    # ---- blocks ----------------------------------------------------------------------------
    def begin(self, pos: int, instr) -> None:
        op = instr[0]
        nparam, nres = self.block_arity(pos)
        cond = self.condition() if op == 0x04 else None
        self.stack.flush()
        loop = pos in self.targeted
        self.label_ids += 1
        self.ctrls.append(Frame(_KINDS[op], nparam, nres, len(self.stack) - nparam, loop,
                                self.label_ids))
        if loop:
            self.emit("while True:")
            self.indent += 1
            if op == 0x03 and self.osr is not None and nparam == 0 and len(self.stack) == 0:
                self.emit_osr_check(pos)
        if op == 0x04:
            self.emit(f"if {cond}:")
            self.indent += 1

    def emit_osr_check(self, pos: int) -> None:
        """At the header of a loop with an empty operand stack: if this function's OSR entry
        is set (a truthy callable in the namespace, `engine/tier_osr.py`), finish the whole
        activation in it, handing over every local and the loop's id (its position)."""
        names = "".join(f"l{i}, " for i in range(len(self.info.locals)))
        self.emit(f"if {self.osr}: return {self.osr}({names}{pos})")

    def end(self, h) -> bool:
        """`end`: True when it closes the function."""
        frame = self.ctrls.pop()
        if frame.kind == "func":
            if h is not None:
                self.emit_return(frame.results)
            return True
        if h is not None:
            self.stack.flush()
        if frame.kind == "if":
            self.close_suite()
            self.indent -= 1
        if frame.loop:
            self.emit("break")
            self.indent -= 1
            if frame.exits:
                self.emit_exit_check(frame)
        self.stack.reset(frame.height, frame.results)
        return False

    def else_(self, h) -> None:
        frame = self.ctrls[-1]
        if h is not None:
            self.stack.flush()
        self.close_suite()
        self.indent -= 1
        self.emit("else:")
        self.indent += 1
        self.stack.reset(frame.height, frame.params)

    def close_suite(self) -> None:
        """A Python suite must not be empty."""
        if self.lines[-1].rstrip().endswith(":"):
            self.emit("pass")

    def emit_exit_check(self, frame: Frame) -> None:
        """After a Python loop that branches may leave with `br` set: handle or propagate."""
        self.emit("if br:")
        self.indent += 1
        parent = next((f for f in reversed(self.ctrls) if f.loop), None)
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

    # ---- branches --------------------------------------------------------------------------
    def branch(self, depth: int) -> bool:
        """Branch to label `depth` carrying the top operands; True if it uses `br`."""
        target = self.ctrls[-1 - depth]
        if target.kind == "func":
            self.emit_return(target.results)
            return False
        arity = target.params if target.kind == "loop" else target.results
        self.emit_moves(target.height, arity)
        crossed = []
        for frame in reversed(self.ctrls):
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

    def label_arity(self, depth: int) -> int:
        target = self.ctrls[-1 - depth]
        return target.params if target.kind == "loop" else target.results
