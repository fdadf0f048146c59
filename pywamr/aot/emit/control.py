"""Emitters of structured control: blocks, loops, ifs, branches, return, unreachable.

Branch values travel through per-frame allocas (see `translate.Frame`); a block whose end is
reached only by falling through keeps its values as plain SSA operands. Block signatures and
the heights under block parameters come from the validator's side tables. Code after an
unconditional transfer is skipped by the translator, which jumps to the matching `else`/`end`.
"""
from __future__ import annotations

from ...errors import TrapCode
from ..translate import Frame
from . import versioning


def emit_unreachable(t, instr) -> None:
    t.trap_now(TrapCode.UNREACHABLE)
    t.mark_dead()


def emit_nop(t, instr) -> None:
    pass


def emit_block(t, instr) -> None:
    ft = t.block_type()
    height = t.block_base(len(ft.params))
    t.frames.append(Frame("block", ft.params, ft.results, height, t.new_label("end"), t.pos))


def emit_loop(t, instr) -> None:
    ft = t.block_type()
    height = t.block_base(len(ft.params))
    frame = Frame("loop", ft.params, ft.results, height, t.new_label("loop"), t.pos)
    t.frames.append(frame)
    if ft.params:
        t.store_branch_values(frame, t.pop_n(len(ft.params)))
    if not versioning.enter(t, frame):      # an unchecked copy of the loop first, if proven
        t.emit(f"br label %{frame.target}")
    t.start_block(frame.target)
    if ft.params:
        t.load_slots(frame)
    elif t.osr_headers is not None and height == 0:
        t.osr_headers.append((t.pos, frame.target))     # an OSR entry may start here (osr.py)


def emit_if(t, instr) -> None:
    ft = t.block_type()
    height = t.block_base(len(ft.params))
    cond = t.pop()
    frame = Frame("if", ft.params, ft.results, height, t.new_label("end"), t.pos,
                  else_label=t.new_label("else"))
    frame.if_params = t.stack[height:]
    t.frames.append(frame)
    then = t.new_label("then")
    c = t.value(f"icmp ne i32 {cond}, 0")
    t.emit(f"br i1 {c}, label %{then}, label %{frame.else_label}")
    t.start_block(then)


def _fall_to_end(t, frame) -> None:
    """Store the fallthrough values of a reachable frame body and branch to its end."""
    arity = len(frame.results)
    values = t.stack[len(t.stack) - arity:] if arity else []
    t.store_branch_values(frame, values)
    frame.reached = True
    t.emit(f"br label %{frame.target}")


def emit_else(t, instr) -> None:
    frame = t.frames[-1]
    if not t.dead:
        _fall_to_end(t, frame)
    del t.stack[frame.height:]
    t.stack.extend(frame.if_params)
    frame.seen_else = True
    t.start_block(frame.else_label)
    t.dead = False


def emit_end(t, instr) -> None:
    frame = t.frames.pop()
    if frame.kind == "func":
        if not t.dead:
            arity = len(frame.results)
            t.emit_return(t.stack[len(t.stack) - arity:] if arity else [])
        return
    if frame.kind == "loop":
        if t.dead:
            del t.stack[frame.height:]
        else:
            versioning.leave(t, frame)
        return
    if frame.kind == "if" and not frame.seen_else:
        if not t.dead:
            _fall_to_end(t, frame)
        t.start_block(frame.else_label)
        t.store_branch_values(frame, frame.if_params)
        frame.reached = True
        t.emit(f"br label %{frame.target}")
        t.dead = True
    if not frame.reached:
        if t.dead:
            del t.stack[frame.height:]
        return
    if not t.dead:
        _fall_to_end(t, frame)
    del t.stack[frame.height:]
    t.start_block(frame.target)
    t.load_slots(frame)
    t.dead = False


def emit_br(t, instr) -> None:
    t.branch_to(instr[1])
    t.mark_dead()


def _branch_block(t, depth: int) -> str:
    """A label that, when jumped to, delivers the branch values to label `depth`."""
    frame = t.frames[-1 - depth]
    if frame.kind != "func" and not frame.branch_types:
        frame.reached = True
        return frame.target
    label = t.new_label("br")
    saved = t.lines
    t.lines = []
    t.start_block(label)
    t.branch_to(depth)
    block = t.lines
    t.lines = saved
    t.pending_blocks.extend(block)
    return label


def emit_br_if(t, instr) -> None:
    cond = t.pop()
    c = t.value(f"icmp ne i32 {cond}, 0")
    target = _branch_block(t, instr[1])
    cont = t.new_label("cont")
    t.emit(f"br i1 {c}, label %{target}, label %{cont}")
    t.start_block(cont)


def emit_br_table(t, instr) -> None:
    labels, default = instr[1], instr[2]
    index = t.pop()
    targets = {}
    for depth in set(labels) | {default}:
        targets[depth] = _branch_block(t, depth)
    cases = " ".join(f"i32 {i}, label %{targets[d]}" for i, d in enumerate(labels))
    t.emit(f"switch i32 {index}, label %{targets[default]} [{cases}]")
    t.mark_dead()


def emit_return(t, instr) -> None:
    arity = len(t.type.results)
    t.emit_return(t.stack[len(t.stack) - arity:] if arity else [])
    t.mark_dead()


HANDLERS = {
    "unreachable": emit_unreachable, "nop": emit_nop, "block": emit_block, "loop": emit_loop,
    "if": emit_if, "else": emit_else, "end": emit_end, "br": emit_br, "br_if": emit_br_if,
    "br_table": emit_br_table, "return": emit_return,
}
