"""When tiered modules compile in the background: one daemon thread, one module at a time.

Sits in the engine layer under `tiered.py`'s background policy. A `TieredModule` is submitted
when its first instance is linked; the thread compiles it once its code has run (the
interpreter translated one of its functions) and it was linked at least the policy's delay
ago, oldest first, then arms its instances to switch. A module with more code than
`tiered.WHOLE_MODULE_LIMIT` is never submitted (its warm and hot functions compile alone,
tier_sampler.py). One compile at a time bounds the memory
and CPU that tiering takes from the guest; a module that never runs is never compiled. The
thread never runs guest code and never blocks the guest: it waits on the worker process
without the GIL. Deliberately not here: compiling (tier_worker.py) and switching (tiered.py).
"""
from __future__ import annotations

import threading
import time
import weakref

REARM_AFTER = 0.02      # seconds before re-arming (closes a race with the interpreter's stubs)
_scheduler = None
_scheduler_lock = threading.Lock()


class Scheduler:
    def __init__(self):
        self.pending: list = []         # weak references to TieredModules, oldest first
        self.condition = threading.Condition()
        self.thread: threading.Thread | None = None

    def submit(self, module) -> None:
        with self.condition:
            if module.started or any(ref() is module for ref in self.pending):
                return
            self.pending.append(weakref.ref(module))
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="pywamr-tier-up",
                                               daemon=True)
                self.thread.start()
            self.condition.notify()

    def _next(self):
        """The next module to compile, waiting until there is one."""
        with self.condition:
            while True:
                live = [m for m in (ref() for ref in self.pending)
                        if m is not None and not m.started]
                self.pending = [weakref.ref(m) for m in live]
                now = time.monotonic()
                wait = None
                for module in live:
                    due = module.linked_at + module.policy.delay
                    if module.used and due <= now:
                        module.started = True
                        return module
                    step = max(due - now, 0.0) if module.used else module.policy.delay
                    step = max(step, 0.01)
                    wait = step if wait is None else min(wait, step)
                self.condition.wait(wait)

    def _run(self) -> None:
        while True:
            module = self._next()
            if module.compile_now():
                time.sleep(REARM_AFTER)
                module.rearm()
            del module


def scheduler() -> Scheduler:
    global _scheduler
    with _scheduler_lock:
        if _scheduler is None:
            _scheduler = Scheduler()
        return _scheduler
