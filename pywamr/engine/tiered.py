"""The "auto" engine: start every module on the interpreter at once, compile it with the aot
engine in the background, and switch each instance's calls to native code when it is ready.

Sits in the engine layer, above both engines (it is the one place that runs an instance on
both): a `TieredModule` is a `runtime.interface.CompiledModule` whose instances are made by the
interpreter (`interp.InterpModule`), with private globals as plain values (the interpreter's
fastest storage) until the switch gives them native cells. Memory, tables and globals are the shared
runtime objects and never move; the switch (`TieredInstance.switch`, always on the guest's
own thread) builds the aot engine's native state over the same `InstanceState`
(`AotModule.adopt`) and points every `Function.call` and every name of the
interpreter's namespace at the native entry. Interpreter frames already on the stack finish on
the interpreter; every call they make from then on is native.

Two granularities. The whole module (small modules, up to WHOLE_MODULE_LIMIT bytes of
code): native code calls native code directly, and the compile fills the code cache for the
next run. Single functions (tier_functions.py, tier_sampler.py): a hot function is compiled
alone at O2 and switched in every instance at its next call, long before a whole-module
compile would end; in a module too big to compile whole, warm functions go to a cheap tier
(O0, every call through function records) and hot ones to O2. A switched function keeps its
`Function` object and funcref handle (the handle's record is pointed at the native code, so
tables, globals and native callers all reach the new code); calls between tiers go through
the records (native to interpreter: the host-call path; interpreter to native: the entry
trampoline). The compiles are bounded: whole modules one at a time in a separate process
(`tier_worker.py`), single functions in the aot engine's worker processes, a group at a time,
so the guest's process never holds more than the finished code and an LLVM abort only leaves
the functions concerned on the interpreter.

When (`TierPolicy`, from `Engine(tiering=...)` or $PYWAMR_TIER):
  - "background[:SECONDS]" (default, 0.5 s): a small module whose code has run (the
    interpreter translated one of its functions) for SECONDS is compiled whole in the
    background; each instance switches at its next call into one of its functions once the
    code is ready. Meanwhile (and in big modules, instead) the sampler compiles hot and warm
    functions;
  - "calls:N": compile the whole module at once (in this process) and switch each instance
    after N calls into its functions, counted in every instance: deterministic, for tests and
    the fuzzer;
  - "hot:N": each function compiled alone (at once, O2) after N calls to it, counted in each
    instance: per-function switching, deterministic, for tests and the fuzzer;
  - "cheap:N": the same with the cheap tier's code (O0, every call through records);
  - "osr:N": on-stack replacement, deterministic, for tests and the fuzzer: at the (N+1)th
    loop-header check of a function in an instance, its OSR entry (and normal code) is
    compiled at once and the activation moves to it (tier_osr.py); calls switch after that;
  - "never": the interpreter only.
A module found in the aot cache, or a `.cwasm`, never reaches this class: the engine layer
hands out the aot engine's own module for it (backends.py). Code compiled for single
functions is kept in the code cache's per-function entries (aot/cache_functions.py): the
background policy takes all of it when it links the module's first instance, so functions hot
in an earlier run are native from their first call (`FunctionTiers.load_cached`).

Time to native (background policy): at link an LLVM worker is started and loads LLVM on
another core; the first sample that sees wasm code running imports the translator; the
module's first function seen running in 2 samples (10 ms apart) is compiled alone at O2
(~25 ms in the worker for a small function) and switched at its next call.

On-stack replacement (tier_osr.py): under the background and osr policies the interpreter's
code checks at loop headers for a native entry that takes over the running activation, so a
long loop inside one call (a C program's main loop) moves to native code too. Deliberately not
here: the OSR machinery itself, the choice of hot functions (tier_sampler.py) and the aot
code generator. $PYWAMR_TIER_LOG=1 prints one line per tier-up on stderr (what, seconds to
native).
"""
from __future__ import annotations

import os
import sys
import threading
import time
import weakref
from dataclasses import dataclass

from ..runtime.instantiate import InstanceState
from ..binary.types import EXTERNREF, FUNCREF
from ..runtime.objects import Function, Global
from . import tier_worker
from .tier_functions import FunctionTiers
from .tier_osr import OsrTiers, arm_countdown

# A whole-module compile costs seconds of CPU (3 s for a 150 KB C kernel): it starts once the
# module's code has run this long, so that a short run (hello) never starts one only to kill
# it at exit, and the first hot function's compile (tier_functions.py, ~0.2 s after link)
# does not share a core with it.
DEFAULT_DELAY = 0.5
# Modules with more code than this never compile whole at O2 in the background (a 1 MB module
# takes minutes of CPU on a core the guest may need): their hot functions compile alone at
# O2, the rest in the cheap tier (tier_functions.py).
WHOLE_MODULE_LIMIT = 512 * 1024
REFERENCE_TYPES = (FUNCREF, EXTERNREF)


@dataclass(frozen=True)
class TierPolicy:
    """When modules tier up; see the module docstring."""
    mode: str = "background"    # "background" | "calls" | "hot" | "cheap" | "osr" | "never"
    delay: float = DEFAULT_DELAY    # background: seconds of use before compiling
    calls: int = 0                  # calls, hot: calls on the interpreter before the switch

    @classmethod
    def parse(cls, text: "str | TierPolicy | None") -> "TierPolicy":
        if isinstance(text, TierPolicy):
            return text
        if not text:
            text = os.environ.get("PYWAMR_TIER") or "background"
        mode, _, arg = text.strip().partition(":")
        try:
            if mode == "background":
                delay = float(arg) if arg else DEFAULT_DELAY
                if delay < 0:
                    raise ValueError
                return cls("background", delay=delay)
            if mode in ("calls", "hot", "cheap", "osr"):
                calls = int(arg)
                if calls < 0:
                    raise ValueError
                return cls(mode, calls=calls)
            if mode == "never" and not arg:
                return cls("never")
        except ValueError:
            pass
        raise ValueError(f"bad tiering policy {text!r}: use background[:SECONDS], calls:N, "
                         f"hot:N, cheap:N, osr:N or never")

    @property
    def osr(self) -> bool:
        """Whether the interpreter's code gets on-stack-replacement checks (tier_osr.py)."""
        return self.mode in ("background", "osr")


class TieredModule:
    """A module that runs on the interpreter until its native code is ready (module
    docstring). `compile_native()` returns the aot engine's module for it (blocking)."""

    engine_name = "auto"
    private_globals = True      # plain values while on the interpreter; cells from the switch

    def __init__(self, validated, interp_module, compile_native, policy: TierPolicy,
                 cache=None):
        self.validated = validated
        self.cache = cache                  # the aot code cache (per-function entries), or None
        self.module = validated.module
        self.interp = interp_module
        self.compile_native = compile_native
        self.policy = policy
        self.native = None                  # the AotModule, once ready
        self.failure: BaseException | None = None
        self.started = False                # a compile was started (or done)
        self.linked_at: float | None = None
        self.ready_after: float | None = None
        self._lock = threading.Lock()
        self._instances: "weakref.WeakSet[TieredInstance]" = weakref.WeakSet()
        self.functions = FunctionTiers(self)    # per-function compiles (hot functions)
        self.osr = OsrTiers(self)               # on-stack-replacement entries
        self.samples: dict[int, int] = {}       # function index -> samples (tier_sampler.py)
        self.warm: set[int] = set()             # sampled, waiting for the cheap tier
        self.cheap_compiled_at = 0.0            # when the last cheap-tier group was compiled
        self.code_size = sum(code.size for code in self.module.codes)
        self.prestarted = False                 # the LLVM worker was started for it

    def function_name(self, index: int) -> str:
        return self.module.func_name(index)

    def since_link(self) -> float:
        """Seconds since the first instance was linked (0.0 before), for the tier-up log."""
        return time.monotonic() - self.linked_at if self.linked_at is not None else 0.0

    @property
    def used(self) -> bool:
        """Whether any of the module's code has run (the interpreter translated something)."""
        return self.interp.translated_count > 0

    # -- runtime.interface.CompiledModule ------------------------------------------------------
    def define_functions(self, state: InstanceState) -> list[Function]:
        return self.interp.define_functions(state)

    def link(self, state: InstanceState) -> None:
        self.interp.link(state)
        tier = TieredInstance(self, state)
        state.engine_data["__tier__"] = tier     # lives exactly as long as the instance
        self._instances.add(tier)
        if self.linked_at is None:
            self.linked_at = time.monotonic()
        if self.policy.mode == "calls":
            if self.compile_now():
                tier.arm(countdown=self.policy.calls)
        elif self.native is not None:
            tier.switch()
        elif self.policy.mode in ("hot", "cheap"):
            tier.arm_hot(self.policy.calls)
        elif self.policy.mode == "osr":
            arm_countdown(tier, self.policy.calls)
        elif self.policy.mode == "background":
            if not self.prestarted:
                # the LLVM worker starts with the guest (on another core: ~70 ms of CPU), so
                # that the first hot function finds LLVM loaded (tier_worker.py)
                self.prestarted = True
                tier_worker.prestart_llvm_worker(warm=True)
                self.functions.load_cached()    # code an earlier run compiled: native at once
            for partial in {id(p): p for p in self.functions.native_of.values()}.values():
                tier.arm_functions(partial)
            self.osr.arm_instance(tier)
            from .tier_sampler import sampler
            sampler().watch(self)
            if self.code_size <= WHOLE_MODULE_LIMIT:
                from .tier_scheduler import scheduler
                scheduler().submit(self)

    # -- tiering ---------------------------------------------------------------------------
    def compile_now(self) -> bool:
        """Compile (or wait for the background compile) and arm every live instance to switch
        at its next call. Returns whether native code is ready (False: the compile failed and
        the module stays on the interpreter; `failure` says why)."""
        with self._lock:
            if self.native is None and self.failure is None:
                self.started = True
                try:
                    self.native = self.compile_native()
                except Exception as exc:  # LLVM failed or is missing: stay on the interpreter
                    self.failure = exc
                else:
                    self.ready_after = (time.monotonic() - self.linked_at
                                        if self.linked_at is not None else 0.0)
                    if os.environ.get("PYWAMR_TIER_LOG"):
                        print(f"pywamr: tier-up: {len(self.module.codes)} functions native "
                              f"after {self.ready_after:.3f}s", file=sys.stderr, flush=True)
                if self.failure is not None and os.environ.get("PYWAMR_TIER_LOG") \
                        and not tier_worker.exiting:
                    print(f"pywamr: tier-up failed, staying on the interpreter: "
                          f"{self.failure}", file=sys.stderr, flush=True)
        if self.native is None:
            return False
        if self.policy.mode != "calls":
            for tier in list(self._instances):
                tier.arm()
        return True

    def rearm(self) -> None:
        """Arm again the functions whose interpreter stub installed itself over the switch
        stub while the switch stub was being installed (see `TieredInstance.arm`)."""
        if self.native is not None:
            for tier in list(self._instances):
                tier.arm()


class TieredInstance:
    """One instance of a `TieredModule`: its state, and the switch to native code."""

    __slots__ = ("owner", "state", "native", "calls", "remaining", "pending",
                 "function_calls", "levels", "cells", "__weakref__")

    def __init__(self, owner: TieredModule, state: InstanceState):
        self.owner = owner
        self.state = state
        self.native = None      # the AotInstance once switched
        self.calls: list = []   # then: the native entries of the defined functions, in order
        self.remaining = 0
        self.pending: list = []             # partial modules ready, not yet switched to
        self.function_calls: dict = {}      # function index -> native entry (per-function)
        self.levels: dict = {}              # function index -> opt level of that entry
        self.cells = False                  # private globals have native cells

    # -- per-function tiering (tier_functions.py) ----------------------------------------------
    def arm_functions(self, partial, again: bool = False) -> None:
        """Make the next call of each function of `partial` (a partial aot module) switch
        it to native code. Safe from any thread: writes `call` attributes and namespace
        entries only; the switch runs on the caller's thread (`apply_pending`)."""
        if self.native is not None:
            return
        if not again:
            self.pending.append(partial)
        ns = self.state.engine_data
        level = getattr(partial, "tier_level", 0)
        for index in partial.defined:
            if self.levels.get(index, -1) >= level and not again:
                continue            # already on code as good
            call = self.function_calls.get(index) if again else None
            stub = call if call is not None else self._function_switch_stub(index)
            ns[f"f{index}"] = stub
            self.state.funcs[index].call = stub

    def _function_switch_stub(self, index: int):
        def stub(*args):
            self.apply_pending()
            call = self.function_calls.get(index)
            if call is None:        # the whole module switched meanwhile
                call = self.calls[index - self.owner.interp.validated.num_imported_funcs]
            return call(*args)
        return stub

    def apply_pending(self) -> None:
        """Switch the functions of every partial module that is ready (guest thread only)."""
        if self.native is not None:
            self.pending.clear()
            return
        ns = self.state.engine_data
        if self.pending and not self.cells:
            self._globals_to_cells(ns)
        while self.pending:
            partial = self.pending.pop(0)
            level = partial.tier_level
            skip = frozenset(i for i in partial.defined if self.levels.get(i, -1) > level)
            native, calls = partial.adopt_functions(self.state, skip)
            ns.setdefault("__natives__", []).append(native)     # lives with the instance
            for index, call in calls.items():
                self.function_calls[index] = call
                self.levels[index] = level
                self.state.funcs[index].call = call
                ns[f"f{index}"] = call

    def arm_hot(self, countdown: int) -> None:
        """"hot:N" policy: each function compiles alone after N calls to it (counted in this
        instance; a function another instance compiled switches at its next call here)."""
        ns = self.state.engine_data
        for index, function in self.defined():
            stub = self._hot_stub(ns, index, countdown)
            ns[f"f{index}"] = stub
            function.call = stub

    def _hot_stub(self, ns: dict, index: int, countdown: int):
        owner = self.owner
        translated = None
        remaining = countdown

        def stub(*args):
            nonlocal translated, remaining
            if index not in self.function_calls and self.native is None:
                remaining -= 1
                if remaining < 0 and index not in owner.functions.native_of:
                    owner.functions.compile([index], cheap=owner.policy.mode == "cheap")
                if index in owner.functions.native_of:
                    self.apply_pending()
                else:               # not yet due, or its compile failed: interpreted
                    if translated is None:
                        translated = owner.interp.translated(ns, index)
                    return translated(*args)
            call = self.function_calls.get(index)
            if call is None:
                call = self.calls[index - owner.interp.validated.num_imported_funcs]
            return call(*args)
        return stub

    @property
    def switched(self) -> bool:
        return self.native is not None

    def defined(self):
        first = self.owner.interp.validated.num_imported_funcs
        return list(enumerate(self.state.funcs[first:], first))

    def arm(self, countdown: int | None = None) -> None:
        """Make every call into the instance's functions go through a switch stub: with
        `countdown`, one that counts calls and switches after that many (calls policy); else
        one that switches at once. Safe from any thread: the stubs only write `call`
        attributes and namespace entries, and the switch itself runs on the caller's thread."""
        if self.native is not None:
            return
        ns = self.state.engine_data
        if countdown is not None:
            self.remaining = countdown
        for position, (index, function) in enumerate(self.defined()):
            if countdown is not None:
                stub = self._counting_stub(ns, index, position)
            else:
                stub = self._switch_stub(position)
            ns[f"f{index}"] = stub
            function.call = stub
        if self.native is not None:     # the guest switched meanwhile: undo what we wrote
            self._install_native()

    def _switch_stub(self, position: int):
        def stub(*args):
            self.switch()
            return self.calls[position](*args)
        return stub

    def _counting_stub(self, ns: dict, index: int, position: int):
        interp = self.owner.interp
        translated = None

        def stub(*args):
            nonlocal translated
            if self.native is None:
                self.remaining -= 1
                if self.remaining >= 0:
                    if translated is None:
                        translated = interp.translated(ns, index)
                    return translated(*args)
                self.switch()
            return self.calls[position](*args)
        return stub

    def _globals_to_cells(self, ns: dict) -> None:
        """Give each private global (a plain value, the interpreter's cheapest storage; no one
        else can reach it) a native cell holding its current value, for native code to share.
        Interpreter frames on the stack read globals through the namespace, so they see the
        new cell at their next access."""
        self.cells = True
        for index, g in enumerate(self.state.globals):
            if g.address() is None and g.type.valtype not in REFERENCE_TYPES:
                cell = Global(g.type, g.value)
                self.state.globals[index] = cell
                ns[f"g{index}"] = cell.accessor()

    def switch(self) -> None:
        """Run this instance on native code from now on (idempotent; guest thread only)."""
        if self.native is not None:
            return
        state = self.state
        ns = state.engine_data
        if not self.cells:
            self._globals_to_cells(ns)
        self.pending.clear()
        native, calls = self.owner.native.adopt(state)
        ns["__native__"] = native       # the instance keeps its native state alive
        self.calls = calls
        self.native = native
        self._install_native()

    def _install_native(self) -> None:
        ns = self.state.engine_data
        for (index, function), call in zip(self.defined(), self.calls):
            function.call = call
            ns[f"f{index}"] = call
