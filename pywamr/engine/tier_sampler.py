"""Which functions of tiered modules are hot: a daemon thread that samples the stacks of the
process's other threads every `INTERVAL` seconds and compiles a function once it was the
running wasm function in `HOT_SAMPLES` samples (at O2), and, in a module too big to compile
whole (`tiered.WHOLE_MODULE_LIMIT`), once it was seen running at all: warm, for the cheap tier
(O0, in groups; see `tier_functions.py`). Functions that run only briefly are never sampled
and never compiled (lazy: most of a big runtime never runs, much of the rest runs once).

Sits in the engine layer under `tiered.py` (background policy) and over `tier_functions.py`
(the compile and the arming). Sampling costs the guest nothing per call or per loop
iteration (no counters in generated code): a sample is `sys._current_frames()` and a walk to
the innermost interpreter frame (generated code has the file name "<wasm>"; frames of the
runtime's and the interpreter's helpers above it count for it; any other frame on top, such as
the translator, a host function or WASI, means no wasm code is running). A long activation
is found too: when the same interpreter frame is the innermost wasm frame in `OSR_SAMPLES`
consecutive samples (counting the time it waits on native code it called: the entry
trampolines' Python frames are passed through), its function gets an on-stack-replacement
entry with its native code (tier_osr.py) instead of a plain hot compile, so that the running
activation moves to native code at its next loop header. The thread compiles in turn (it never
runs guest code, and waits on the LLVM worker process without the GIL); while it compiles, it
does not sample.

Deliberately not here: the compile itself and the switch.
"""
from __future__ import annotations

import sys
import threading
import time
import weakref

from .tier_scheduler import REARM_AFTER
from .tiered import WHOLE_MODULE_LIMIT

INTERVAL = 0.01         # a sample costs the guest ~50 us of GIL time: 0.5% at this rate
CHEAP_PERIOD = 0.5      # seconds between two cheap-tier compiles (warm functions batch up)
HOT_SAMPLES = 3
FIRST_HOT_SAMPLES = 2   # a module's first hot function: found sooner, where it matters most
OSR_SAMPLES = 3         # consecutive samples of one interpreter frame: a long activation
_HELPER_MARKS = ("/pywamr/runtime/", "/pywamr/interp/helpers")
_NATIVE_ENTRY_MARK = "<pywamr native entry>"      # aot/entry.py's generated callables
_sampler = None
_sampler_lock = threading.Lock()


class Sampler:
    def __init__(self):
        self.modules: "weakref.WeakSet" = weakref.WeakSet()
        self.codes: dict = {}       # code object -> (weak ref to TieredModule, function index)
        self.known = 0
        self.activations: dict = {}     # thread id -> (innermost wasm frame, samples in a row)
        self.prestart = False
        self.started_worker = False
        self.thread = threading.Thread(target=self._run, name="pywamr-tier-sampler",
                                       daemon=True)
        self.thread.start()

    def watch(self, module) -> None:
        """Sample `module`'s code from now on. The first sample that finds wasm code running
        gets the compile ready (`tier_worker.prepare_partial_compiles`, on the sampler's
        thread), so that the first hot function waits for neither an LLVM worker nor the
        translator's imports; a program whose wasm code hardly runs (hello) pays for none."""
        self.modules.add(module)

    def _refresh(self) -> None:
        """Learn the code objects the interpreter made since the last refresh."""
        known = 0
        for module in list(self.modules):
            ref = weakref.ref(module)
            try:
                items = list(module.interp._codes.items())
            except RuntimeError:        # translated meanwhile: next time
                continue
            known += len(items)
            for index, (code, *_rest) in items:     # (code, consts, makes tail calls)
                self.codes.setdefault(code, (ref, index))
        self.known = known

    @staticmethod
    def _running_frame(frame):
        """(innermost wasm frame, whether it runs itself) if wasm code is what runs: its own
        code or its helpers' (True), or native code it called (False); else (None, False)."""
        native = False
        for _ in range(6):
            if frame is None:
                break
            name = frame.f_code.co_filename
            if name == "<wasm>":
                return frame, not native
            if name == _NATIVE_ENTRY_MARK:
                native = True
            elif not any(mark in name for mark in _HELPER_MARKS):
                break
            frame = frame.f_back
        return None, False

    def _module_of(self, code):
        """(TieredModule, function index) whose interpreter code `code` is, or None."""
        hit = self.codes.get(code)
        if hit is None:
            self._refresh()
            hit = self.codes.get(code)
            if hit is None:
                return None
        module = hit[0]()
        return (module, hit[1]) if module is not None else None

    def _streak(self, ident: int, frame, activations: dict) -> int:
        """In how many samples in a row, this one included, `frame` was the innermost wasm
        frame of thread `ident` (OSR_SAMPLES: a long activation)."""
        previous = self.activations.get(ident)
        streak = previous[1] + 1 if previous is not None and previous[0] is frame else 1
        activations[ident] = (frame, streak)
        return streak

    def _sample(self) -> dict:
        me = threading.get_ident()
        hot: dict = {}
        activations: dict = {}
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            frame, running = self._running_frame(frame)
            if frame is None:
                continue
            streak = self._streak(ident, frame, activations)
            long = streak == OSR_SAMPLES
            if not (running or long):
                continue
            found = self._module_of(frame.f_code)
            if found is None:
                continue
            module, index = found
            entry = hot.setdefault(id(module), (module, [], [], []))
            osr_candidate = (module.interp.has_osr_checks(index)
                             and index not in module.osr.requested)
            if long and osr_candidate:
                entry[3].append(index)
                continue
            if not running or module.native is not None:
                continue
            count = module.samples.get(index, 0) + 1
            if not self.started_worker:     # wasm code runs: get ready to compile some
                self.started_worker = self.prestart = True
            module.samples[index] = count
            if streak > 1 and osr_candidate:
                # one activation seen again: if it lasts, its OSR compile (normal code and
                # entry together) serves it; a hot compile now would delay that one
                continue
            due = HOT_SAMPLES if module.functions.requested else FIRST_HOT_SAMPLES
            if count >= due and index not in module.functions.requested:
                entry[1].append(index)
            elif count == 1 and module.code_size > WHOLE_MODULE_LIMIT:
                entry[2].append(index)
        self.activations = activations      # only threads still running wasm code
        return hot

    def _run(self) -> None:
        pause = INTERVAL
        while True:
            time.sleep(pause)
            pause = INTERVAL
            if not self.modules:
                continue
            hot = self._sample()
            if self.prestart:
                self.prestart = False
                from .tier_worker import prepare_partial_compiles
                prepare_partial_compiles()
                pause = 0.0     # the imports took longer than an interval: sample again now
            for module, hot_indices, warm_indices, osr_indices in hot.values():
                for index in osr_indices:
                    if module.osr.compile(index):
                        self._rearm(module)
                if hot_indices:
                    module.warm.difference_update(hot_indices)
                    self._compile(module, hot_indices, cheap=False)
                module.warm.update(warm_indices)
                now = time.monotonic()
                if module.warm and now - module.cheap_compiled_at >= CHEAP_PERIOD:
                    group = sorted(module.warm)
                    module.warm.clear()
                    self._compile(module, group, cheap=True)
                    module.cheap_compiled_at = time.monotonic()
                del module

    @classmethod
    def _compile(cls, module, indices, cheap: bool) -> None:
        if module.functions.compile(indices, cheap=cheap):
            cls._rearm(module)

    @staticmethod
    def _rearm(module) -> None:
        """After new native code: arm its functions again a moment later (closes the race
        with the interpreter's translate-on-first-call stubs, see `TieredInstance.arm`)."""
        time.sleep(REARM_AFTER)
        module.functions.rearm()


def sampler() -> Sampler:
    global _sampler
    with _sampler_lock:
        if _sampler is None:
            _sampler = Sampler()
        return _sampler
