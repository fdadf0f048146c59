"""Loop versioning of memory accesses: an unchecked copy of a loop runs while its accesses are
proven in bounds, and the checked loop takes over for the iteration that could trap.

Sits beside `memory.py` and is called by `control.emit_loop` and `control.emit_end`. It handles
the innermost loops compilers emit for array code: an empty-typed `loop` whose body is
straight-line (no branch, block, call or memory.grow) and ends in `br_if 0`. The body is first
simulated over symbolic values (`_simulate`): an i32 is tracked as an affine form, modulo 2^32,
of the locals' values at the start of the iteration; a local set to itself plus an amount that
depends only on locals the body leaves unchanged is an induction variable. An access whose
address is affine in invariant locals and induction variables moves by a fixed step per
iteration, so at loop entry (`enter`) the number of iterations for which it stays in bounds,
without its 32-bit address wrapping, is computed once; K, the least over the accesses, is how
many iterations the unchecked copy may run. The copy (`leave`, emitted after the checked loop)
runs at most K iterations and hands the next one to the checked loop, which then traps at
exactly the faulting access with every earlier side effect done, or finishes the loop. The
copy has one exit test in its latch, so LLVM can vectorise it.

Accesses whose address cannot be analysed (it depends on a load, say) keep their checks in
the copy. It deliberately does not version loops with inner control flow or calls, nor compute
trip counts: K bounds the copy, the loop's own condition still ends it.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...binary.opcodes import OPS
from ...binary.types import I32
from .. import vmctx

MAX_BODY = 400                  # instructions: versioning doubles a loop's code
UNBOUNDED = 1 << 62             # K for accesses that never move
_M32 = 0xFFFFFFFF
_BR_IF = 0x0D

# An affine form: (constant, ((local, coefficient), ...)) with coefficients non-zero mod 2^32.
Affine = tuple


def _affine(const: int, terms: dict) -> Affine:
    return (const & _M32, tuple(sorted((x, c & _M32) for x, c in terms.items() if c & _M32)))


def _local(x: int) -> Affine:
    return _affine(0, {x: 1})


def _combine(a: Affine, b: Affine, sign: int) -> Affine:
    terms = dict(a[1])
    for x, c in b[1]:
        terms[x] = terms.get(x, 0) + sign * c
    return _affine(a[0] + sign * b[0], terms)


def _scale(a: Affine, k: int) -> Affine:
    return _affine(a[0] * k, {x: c * k for x, c in a[1]})


def _arith(name: str, a, b):
    """Result of i32 add/sub/mul/shl on symbolic operands (None: not affine)."""
    if a is None or b is None:
        return None
    if name == "i32.add":
        return _combine(a, b, 1)
    if name == "i32.sub":
        return _combine(a, b, -1)
    if name == "i32.mul":
        if not b[1]:
            return _scale(a, b[0])
        return _scale(b, a[0]) if not a[1] else None
    if not b[1]:                                      # i32.shl by a constant
        return _scale(a, 1 << (b[0] & 31))
    return None


_AFFINE_OPS = frozenset({"i32.add", "i32.sub", "i32.mul", "i32.shl"})
_PLAIN_FAMILIES = frozenset({"numeric", "conversion", "compare", "constant"})


@dataclass(frozen=True)
class Access:
    position: int
    address: Affine          # at the access, over the iteration-start values of the locals
    step: Affine             # change of the address per iteration, over invariant locals
    extent: int              # offset + width
    memory: int


@dataclass(frozen=True)
class LoopPlan:
    end: int                 # position of the loop's `end`
    proven: tuple            # Access of every access the unchecked copy does not check


def _simulate(body, start: int, end: int, local_types):
    """(final symbolic value of every local the body sets, [(position, address, extent,
    memory)]) or None when the body is not a straight-line run of plain instructions."""
    scalar = _scalar_codes()
    values: dict = {}
    stack: list = []
    accesses = []

    def current(x):
        if x in values:
            return values[x]
        return _local(x) if local_types[x] == I32 else None

    for pos in range(start + 1, end - 1):
        instr = body[pos]
        info = OPS.get(instr[0])
        if info is None or info.feature is not None:
            return None
        name = info.name
        if name == "local.get":
            stack.append(current(instr[1]))
        elif name in ("local.set", "local.tee"):
            value = stack.pop()
            values[instr[1]] = value if local_types[instr[1]] == I32 else None
            if name == "local.tee":
                stack.append(value)
        elif instr[0] in scalar:
            if not info.sig[1]:
                stack.pop()
            accesses.append((pos, stack.pop(), instr[2] + info.width, instr[3]))
            if info.sig[1]:
                stack.append(None)
        elif name == "i32.const":
            stack.append(_affine(instr[1], {}))
        elif name in _AFFINE_OPS:
            b = stack.pop()
            stack.append(_arith(name, stack.pop(), b))
        elif name == "drop" or name == "global.set":
            stack.pop()
        elif name in ("select", "select_t"):
            del stack[-3:]
            stack.append(None)
        elif name == "global.get":
            stack.append(None)
        elif info.family in _PLAIN_FAMILIES and info.sig is not None:
            del stack[len(stack) - len(info.sig[0]):]
            stack.extend([None] * len(info.sig[1]))
        else:
            return None
    return values, accesses


def _scalar_codes() -> frozenset:
    from .memory import _SCALAR_CODES
    return _SCALAR_CODES


def plan_loop(body, start: int, end: int, local_types) -> LoopPlan | None:
    """The versioning plan of the loop at `start` (ending at `end`), or None."""
    if end - start > MAX_BODY or body[end - 1] != (_BR_IF, 0):
        return None
    simulated = _simulate(body, start, end, local_types)
    if simulated is None:
        return None
    values, accesses = simulated
    invariant = {x for x, t in enumerate(local_types)
                 if t == I32 and values.get(x, _local(x)) == _local(x)}
    steps = {x: _affine(0, {}) for x in invariant}
    for x, value in values.items():
        if x in invariant or value is None:
            continue
        delta = _combine(value, _local(x), -1)
        if all(y in invariant for y, _ in delta[1]):
            steps[x] = delta
    proven = []
    for pos, address, extent, memory in accesses:
        if address is None or any(x not in steps for x, _ in address[1]):
            continue
        step = _affine(0, {})
        for x, c in address[1]:
            step = _combine(step, _scale(steps[x], c), 1)
        proven.append(Access(pos, address, step, extent, memory))
    return LoopPlan(end, tuple(proven)) if proven else None


def _plan_for(t, start: int) -> LoopPlan | None:
    plans = getattr(t, "loop_plans", None)
    if plans is None:
        plans = t.loop_plans = {}
    if start not in plans:
        ft = t.side.block_types[start]
        plans[start] = None if ft.params or ft.results else plan_loop(
            t.code.body, start, t.side.matches[start], t.local_types)
    return plans[start]


def _evaluate(t, form: Affine) -> str:
    """Emit the i32 value of an affine form over the locals' current values."""
    value = str(int_signed(form[0]))
    for x, c in form[1]:
        local = t.value(f"load i32, ptr {t.locals[x]}, align 8")
        term = local if c == 1 else t.value(f"mul i32 {local}, {int_signed(c)}")
        value = t.value(f"add i32 {value}, {term}")
    return value


def int_signed(v: int) -> int:
    return v - (1 << 32) if v & 0x80000000 else v


def _safe_iterations(t, access: Access) -> tuple[str, str, str]:
    """(i64 iterations from now for which `access` stays in bounds and its address does not
    wrap, its address now as i64, its step as a signed i64)."""
    # The address as anchor + constant: accesses that differ only in their constant then
    # share the anchor, and LLVM sees one pointer at several offsets. Valid while the sum
    # stays in [0, 2^32) (then it equals the wasm i32 address); otherwise K = 0.
    anchor = t.value(f"zext i32 {_evaluate(t, (0, access.address[1]))} to i64")
    a = t.value(f"add nsw i64 {anchor}, {int_signed(access.address[0])}")
    s = t.value(f"sext i32 {_evaluate(t, access.step)} to i64")
    size = t.memory_field(vmctx.memory_size(access.memory), "i64")
    end0 = t.value(f"add i64 {a}, {access.extent}")
    no_wrap = t.value(f"icmp ult i64 {a}, 4294967296")
    below = t.value(f"icmp ule i64 {end0}, {size}")
    fits = t.value(f"and i1 {no_wrap}, {below}")
    up = t.value(f"icmp sgt i64 {s}, 0")
    down = t.value(f"icmp slt i64 {s}, 0")
    up_div = t.value(f"select i1 {up}, i64 {s}, i64 1")
    room = t.value(f"sub i64 {size}, {end0}")
    n_up = t.value(f"add i64 {t.value(f'udiv i64 {room}, {up_div}')}, 1")
    neg = t.value(f"sub i64 0, {s}")
    down_div = t.value(f"select i1 {down}, i64 {neg}, i64 1")
    n_down = t.value(f"add i64 {t.value(f'udiv i64 {a}, {down_div}')}, 1")
    moving = t.value(f"select i1 {down}, i64 {n_down}, i64 {UNBOUNDED}")
    n = t.value(f"select i1 {up}, i64 {n_up}, i64 {moving}")
    return t.value(f"select i1 {fits}, i64 {n}, i64 0"), a, s


def address(t, offset: int, memory: int) -> str:
    """In the unchecked copy, the native address of the proven access being emitted: its
    address at loop entry plus iteration index times step (no wrap, by K), plus `offset`.
    Computed in i64 so that LLVM sees plain affine addresses (the wasm i32 arithmetic that
    produced the same value is left to dead-code elimination)."""
    a, s = t.unchecked[t.pos]
    j = t.value(f"load i64, ptr {t.fast_index}, align 8")
    moved = t.value(f"mul nsw i64 {j}, {s}")
    ea = t.value(f"add nsw i64 {a}, {moved}")
    if offset:
        ea = t.value(f"add nuw nsw i64 {ea}, {offset}")
    base = t.memory_field(vmctx.memory_base(memory))
    return t.value(f"getelementptr i8, ptr {base}, i64 {ea}")


def enter(t, frame) -> bool:
    """At a loop's entry: if it is versioned, compute K and branch to the unchecked copy when
    K > 0, else to the checked loop (`frame.target`); returns whether it emitted the branch."""
    plan = _plan_for(t, frame.start)
    if plan is None:
        return False
    k = None
    addresses = {}
    for access in plan.proven:
        n, a, s = _safe_iterations(t, access)
        addresses[access.position] = (a, s)
        k = n if k is None else t.call_intrinsic("llvm.umin.i64", "i64",
                                                 [("i64", k), ("i64", n)])
    index = t.alloca("i64")
    t.emit(f"store i64 0, ptr {index}, align 8")
    fast = t.new_label("fast")
    go = t.value(f"icmp ne i64 {k}, 0")
    t.emit(f"br i1 {go}, label %{fast}, label %{frame.target}")
    pending = getattr(t, "versioned_loops", None)
    if pending is None:
        pending = t.versioned_loops = {}
    pending[frame.start] = (plan, k, index, addresses, fast)
    return True


def leave(t, frame) -> None:
    """At the end of a versioned loop (checked copy just emitted, its exit is the current
    block): emit the unchecked copy and join both exits."""
    entry = getattr(t, "versioned_loops", {}).pop(frame.start, None)
    if entry is None:
        return
    from . import EMITTERS
    plan, k, index, addresses, fast = entry
    join = t.new_label("join")
    t.emit(f"br label %{join}")
    t.start_block(fast)
    body, saved = t.code.body, t.pos
    t.unchecked, t.fast_index = addresses, index
    try:
        for pos in range(frame.start + 1, plan.end - 1):
            t.pos = pos
            EMITTERS[body[pos][0]](t, body[pos])
    finally:
        t.unchecked, t.fast_index = {}, None
        t.pos = saved
    again = t.value(f"icmp ne i32 {t.pop()}, 0")
    j = t.value(f"load i64, ptr {index}, align 8")
    done = t.value(f"add nuw nsw i64 {j}, 1")
    t.emit(f"store i64 {done}, ptr {index}, align 8")
    more = t.value(f"icmp ult i64 {done}, {k}")
    stay = t.value(f"and i1 {again}, {more}")
    out = t.new_label("fastout")
    t.emit(f"br i1 {stay}, label %{fast}, label %{out}")
    t.start_block(out)
    t.emit(f"br i1 {again}, label %{frame.target}, label %{join}")
    t.start_block(join)
