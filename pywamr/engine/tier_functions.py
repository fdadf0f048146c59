"""Per-function tiering: compile some functions of a tiered module alone (its hot ones) and
switch each of them, in every instance, at its next call once its native code is ready.

Sits in the engine layer under `tiered.py` (which owns a `FunctionTiers` per module and does
the switch on the guest's thread, `TieredInstance.apply_pending`) and over the aot engine's
partial modules (`aot.compile_functions`: native code for the chosen functions only; calls
from it to any other function go through that function's record, whatever tier it is on).
Which functions: the sampler (`tier_sampler.py`, background policy) or a per-function call
count ("hot:N" policy, deterministic, for tests and the fuzzer).

A function is compiled once per module (`requested`), at `HOT_OPT_LEVEL`, in the aot engine's
worker processes (an LLVM abort fails that compile only; the function stays interpreted).
Deliberately not here: choosing the functions, the whole-module compile (tiered.py,
tier_worker.py) and on-stack replacement (a loop running in an interpreter frame stays there).
"""
from __future__ import annotations

import os
import sys
import threading
import time

HOT_OPT_LEVEL = 2
CHEAP_OPT_LEVEL = 0             # no IR passes, fast instruction selection (AOT-NOTES, BENCHMARKS)
CHEAP_GROUP_INSTRUCTIONS = 20000   # at most this many wasm instructions per cheap compile


class FunctionTiers:
    """The per-function compiles of one `TieredModule`."""

    def __init__(self, owner):
        self.owner = owner
        self.requested: set[int] = set()            # compiled hot (or being compiled)
        self.cheap_requested: set[int] = set()      # compiled by the cheap tier
        self.native_of: dict = {}           # function index -> partial AotModule with its code
        self.levels: dict = {}              # function index -> opt level of that code
        self.lock = threading.Lock()
        self.batches = 0
        self.failure: BaseException | None = None
        self.first_native_after: float | None = None
        self.cached: set[int] = set()       # functions whose code came from the code cache

    def compile(self, indices, cheap: bool = False) -> bool:
        """Compile those of `indices` not compiled yet as one partial module (blocking the
        calling thread, not the guest: LLVM runs in a worker process) and arm every live
        instance to switch them at their next call. Returns whether any new code is ready.

        Hot (default): at HOT_OPT_LEVEL, calls inside the group direct. `cheap`: at
        CHEAP_OPT_LEVEL, every call through function records (a function compiled hot later
        then serves all its callers), the group cut at CHEAP_GROUP_INSTRUCTIONS."""
        owner = self.owner
        first = owner.interp.validated.num_imported_funcs
        with self.lock:
            taken = self.requested if not cheap else self.requested | self.cheap_requested
            todo = sorted(set(indices) - taken)
            if cheap:
                size, cut = 0, len(todo)
                for k, index in enumerate(todo):
                    size += len(owner.module.codes[index - first].body)
                    if size >= CHEAP_GROUP_INSTRUCTIONS:
                        cut = k + 1
                        break
                owner.warm.update(todo[cut:])       # the next group
                todo = todo[:cut]
            if not todo or owner.native is not None:
                return False
            (self.cheap_requested if cheap else self.requested).update(todo)
        from .tier_worker import compile_partial, load_lock, prompt_gil
        started = time.monotonic()
        level = CHEAP_OPT_LEVEL if cheap else HOT_OPT_LEVEL
        try:
            with load_lock, prompt_gil():
                partial = compile_partial(owner.validated, todo, level, not cheap,
                                          cache=owner.cache)
        except Exception as exc:  # LLVM failed or is missing: those functions stay interpreted
            self.failure = exc
            if os.environ.get("PYWAMR_TIER_LOG"):
                print(f"pywamr: tier-up of {len(todo)} functions failed, they stay on the "
                      f"interpreter: {exc}", file=sys.stderr, flush=True)
            return False
        self._ready(partial, todo, level)
        self.batches += 1
        if self.first_native_after is None and owner.linked_at is not None:
            self.first_native_after = time.monotonic() - owner.linked_at
        if os.environ.get("PYWAMR_TIER_LOG"):
            names = ", ".join(owner.function_name(i) for i in todo[:4])
            more = f" and {len(todo) - 4} more" if len(todo) > 4 else ""
            after = owner.since_link()
            kind = "warm functions (cheap tier)" if cheap else "hot functions"
            how = "from the code cache" if partial.from_cache else "compiled"
            print(f"pywamr: tier-up: {kind} {names}{more} native after {after:.3f}s "
                  f"({how} in {time.monotonic() - started:.3f}s)", file=sys.stderr,
                  flush=True)
        return True

    def load_cached(self) -> int:
        """Take the code of every group of functions an earlier run compiled for this module
        and left in the code cache (`aot.load_cached_functions`), before any instance runs:
        the caller arms the instance it links. O0 groups first, so that O2 code of the same
        functions replaces theirs. Returns how many functions have cached code; a cache
        that cannot be read only means none."""
        owner = self.owner
        if owner.cache is None:
            return 0
        from .tier_worker import cached_partials, load_lock
        started = time.monotonic()
        try:
            with load_lock:
                found = cached_partials(owner.validated, owner.cache)
        except Exception:   # never let the cache keep the guest from running
            return 0
        with self.lock:
            for partial, level, direct in sorted(found, key=lambda item: item[1]):
                indices = sorted(partial.defined)
                (self.requested if direct else self.cheap_requested).update(indices)
                self._record(partial, indices, level)
                self.cached.update(indices)
        if found and os.environ.get("PYWAMR_TIER_LOG"):
            after = owner.since_link()
            print(f"pywamr: tier-up: {len(self.cached)} functions native from the code cache "
                  f"({len(found)} groups) after {after:.3f}s (loaded in "
                  f"{time.monotonic() - started:.3f}s)", file=sys.stderr, flush=True)
        if found and self.first_native_after is None and owner.linked_at is not None:
            self.first_native_after = time.monotonic() - owner.linked_at
        return len(self.cached)

    def _ready(self, partial, indices, level: int) -> None:
        """Record a compiled partial module and arm every live instance to switch to it."""
        self._record(partial, indices, level)
        for tier in list(self.owner._instances):
            tier.arm_functions(partial)

    def _record(self, partial, indices, level: int) -> None:
        partial.tier_level = level
        for index in indices:
            if self.levels.get(index, -1) < level:
                self.native_of[index] = partial
                self.levels[index] = level

    def rearm(self) -> None:
        """Arm again every compiled function (closes the race with the interpreter's
        translate-on-first-call stub, see `TieredInstance.arm`)."""
        partials = {id(p): p for p in self.native_of.values()}
        for tier in list(self.owner._instances):
            for partial in partials.values():
                tier.arm_functions(partial, again=True)
