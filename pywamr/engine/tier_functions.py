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


class FunctionTiers:
    """The per-function compiles of one `TieredModule`."""

    def __init__(self, owner):
        self.owner = owner
        self.requested: set[int] = set()
        self.native_of: dict = {}           # function index -> partial AotModule with its code
        self.lock = threading.Lock()
        self.batches = 0
        self.failure: BaseException | None = None
        self.first_native_after: float | None = None

    def compile(self, indices) -> bool:
        """Compile those of `indices` not compiled yet as one partial module (blocking the
        calling thread, not the guest: LLVM runs in a worker process) and arm every live
        instance to switch them at their next call. Returns whether any new code is ready."""
        owner = self.owner
        with self.lock:
            todo = sorted(set(indices) - self.requested)
            if not todo or owner.native is not None:
                return False
            self.requested.update(todo)
        from .. import aot
        from .tier_worker import load_lock
        started = time.monotonic()
        try:
            with load_lock:
                partial = aot.compile_functions(owner.validated, todo, opt_level=HOT_OPT_LEVEL)
        except Exception as exc:  # LLVM failed or is missing: those functions stay interpreted
            self.failure = exc
            if os.environ.get("PYWAMR_TIER_LOG"):
                print(f"pywamr: tier-up of {len(todo)} functions failed, they stay on the "
                      f"interpreter: {exc}", file=sys.stderr, flush=True)
            return False
        for index in todo:
            self.native_of[index] = partial
        self.batches += 1
        if self.first_native_after is None and owner.linked_at is not None:
            self.first_native_after = time.monotonic() - owner.linked_at
        if os.environ.get("PYWAMR_TIER_LOG"):
            names = ", ".join(owner.function_name(i) for i in todo[:4])
            more = f" and {len(todo) - 4} more" if len(todo) > 4 else ""
            after = time.monotonic() - owner.linked_at if owner.linked_at else 0.0
            print(f"pywamr: tier-up: hot functions {names}{more} native after {after:.3f}s "
                  f"(compiled in {time.monotonic() - started:.3f}s)", file=sys.stderr,
                  flush=True)
        for tier in list(owner._instances):
            tier.arm_functions(partial)
        return True

    def rearm(self) -> None:
        """Arm again every compiled function (closes the race with the interpreter's
        translate-on-first-call stub, see `TieredInstance.arm`)."""
        partials = {id(p): p for p in self.native_of.values()}
        for tier in list(self.owner._instances):
            for partial in partials.values():
                tier.arm_functions(partial, again=True)
