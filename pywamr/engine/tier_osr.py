"""On-stack replacement for tiered modules: a function whose interpreter activation runs a long
loop moves to native code in the middle of that activation, at a loop header.

Sits in the engine layer beside `tier_functions.py` (per-function compiles) and under
`tiered.py` (which owns an `OsrTiers` per module) and `tier_sampler.py` (which finds long
activations). The pieces:

- The interpreter module of a tiered module is translated with OSR checks
  (`InterpModule(osr=True)`): the header of each loop that has no parameters over an empty
  operand stack runs `if o<F>: return o<F>(l0, ..., l<n>, <loop id>)`; `o<F>` is None in the
  instance's namespace until F's OSR entry is ready.
- `OsrTiers.compile` compiles F alone with its OSR entry (`aot.compile_functions(..., osr=)`,
  at the hot tier's level), registers F's normal code with the per-function tiers (its next
  calls switch too) and sets `o<F>` in every live instance to a switch stub: a dict write,
  safe from any thread.
- The stub runs on the guest's thread at the next loop header of any activation of F: it
  switches the instance's pending partial modules (`TieredInstance.apply_pending`: private
  globals get their native cells first, memories and tables are shared objects anyway), takes
  the native state of F's partial module, installs the OSR entry's callable as `o<F>` and
  enters it with every local. The entry callable converts the values exactly as a call's
  arguments and results are converted (`aot/entry.py`), so f32/f64 NaN payloads, v128 and
  references cross unchanged; the native code returns F's results, which the interpreter frame
  returns at once. Traps raised in it carry the native frames above it and then the interpreter
  frames below (the replaced frame names F).
- When: the sampler sees the same interpreter frame of F in `OSR_SAMPLES` consecutive samples
  (tier_sampler.py), or, deterministically for tests and the fuzzer, the "osr:N" policy
  (`arm_countdown`): at the (N+1)th loop-header check of F in an instance, F's entry is
  compiled at once and taken there.

`OsrTiers.entries` counts the activations that moved, `OsrTiers.loops` where (tests; one
count per activation, nothing per iteration); $PYWAMR_TIER_LOG=1 prints a
line when an entry is ready and when an instance first takes it. Deliberately not here:
the checks (interp/structured.py), the entry's code (aot/osr.py), and functions the
interpreter gives no checks (tail calls, the flat form, more than
`interp.instance.MAX_OSR_LOCALS` locals): they switch at their next call, as before.
"""
from __future__ import annotations

import os
import sys
import threading
import time


class OsrTiers:
    """The OSR entries of one `TieredModule`."""

    def __init__(self, owner):
        self.owner = owner
        self.partials: dict = {}        # function index -> partial AotModule with its entry
        self.requested: set[int] = set()
        self.lock = threading.Lock()
        self.entries = 0                # activations that moved to native code
        self.loops: dict = {}           # (function index, loop id) -> entries there
        self.failure: BaseException | None = None

    def compile(self, index: int) -> bool:
        """Compile function `index` with its OSR entry (blocking the calling thread; LLVM
        runs in the aot engine's worker processes) and arm every live instance. Returns
        whether the entry is ready (False: already requested, or the compile failed and the
        function stays on the interpreter)."""
        owner = self.owner
        with self.lock:
            if index in self.requested:
                return index in self.partials
            self.requested.add(index)
        from .tier_functions import HOT_OPT_LEVEL
        from .tier_worker import compile_partial, load_lock
        with owner.functions.lock:
            owner.functions.requested.add(index)    # the hot tier need not compile it again
        started = time.monotonic()
        try:
            with load_lock:
                partial = compile_partial(owner.validated, [index], HOT_OPT_LEVEL, True,
                                          osr=(index,))
        except Exception as exc:  # LLVM failed or is missing: the function stays interpreted
            self.failure = exc
            _log(f"tier-up: OSR entry of {owner.function_name(index)} failed, it stays on "
                 f"the interpreter: {exc}")
            return False
        self.partials[index] = partial
        owner.functions._ready(partial, [index], HOT_OPT_LEVEL)   # its next calls, too
        for tier in list(owner._instances):
            arm(tier, index, partial)
        after = owner.since_link()
        _log(f"tier-up: OSR entry of {owner.function_name(index)} native after {after:.3f}s "
             f"(compiled in {time.monotonic() - started:.3f}s)")
        return True

    def arm_instance(self, tier) -> None:
        """Arm a new instance with every OSR entry compiled so far."""
        for index, partial in list(self.partials.items()):
            arm(tier, index, partial)


def arm(tier, index: int, partial) -> None:
    """Set `o<index>` of `tier`'s namespace to a stub that switches at the next loop header
    (safe from any thread: one dict write; the switch runs on the guest's thread)."""
    name = f"o{index}"
    ns = tier.state.engine_data
    if name not in ns:
        return          # the instance's code has no OSR checks

    def stub(*args):
        return enter(tier, index, partial)(*args)
    ns[name] = stub


def enter(tier, index: int, partial):
    """Switch `tier`'s instance to `partial`'s native state and return the callable of
    function `index`'s OSR entry, installed as `o<index>` (guest thread only)."""
    ns = tier.state.engine_data
    owner = tier.owner
    tier.apply_pending()        # partial modules ready, this one included; globals to cells
    native = next((n for n in ns.get("__natives__", ()) if n.loaded is partial), None)
    if native is None:          # the whole module switched meanwhile: only link the entry
        if not tier.cells:
            tier._globals_to_cells(ns)
        native, _ = partial.adopt_functions(tier.state, frozenset(partial.defined))
        ns.setdefault("__natives__", []).append(native)      # lives with the instance
    call = native.osr_entry(index)
    osr = owner.osr
    logged = False

    def entry(*args):
        nonlocal logged
        osr.entries += 1
        where = (index, args[-1])
        osr.loops[where] = osr.loops.get(where, 0) + 1
        if not logged:
            logged = True
            after = owner.since_link()
            _log(f"tier-up: on-stack replacement of {owner.function_name(index)} at loop "
                 f"{args[-1]} after {after:.3f}s")
        return call(*args)
    ns[f"o{index}"] = entry
    return entry


class _Countdown:
    """"osr:N" policy: `o<index>` of one instance until the function's OSR entry is ready;
    false for its first N loop-header checks, then compiles the entry at once (if no instance
    did) and is true, so the check enters it (through the stub `arm` installed)."""

    __slots__ = ("tier", "index", "remaining")

    def __init__(self, tier, index: int, remaining: int):
        self.tier, self.index, self.remaining = tier, index, remaining

    def __bool__(self) -> bool:
        self.remaining -= 1
        if self.remaining >= 0:
            return False
        ns = self.tier.state.engine_data
        name = f"o{self.index}"
        if not self.tier.owner.osr.compile(self.index) or ns.get(name) is self:
            ns[name] = None         # failed (or no stub): this instance stays interpreted
            return False
        return True


def arm_countdown(tier, countdown: int) -> None:
    """"osr:N" policy: give every defined function of `tier`'s instance a countdown (above),
    or the stub of an entry another instance compiled already."""
    ns = tier.state.engine_data
    for index, _function in tier.defined():
        if f"o{index}" in ns:
            ns[f"o{index}"] = _Countdown(tier, index, countdown)
    tier.owner.osr.arm_instance(tier)


def _log(message: str) -> None:
    if os.environ.get("PYWAMR_TIER_LOG"):
        print(f"pywamr: {message}", file=sys.stderr, flush=True)
