"""Trap backtraces of components: name the component instance and core module of each frame.

The engines give each backtrace frame (`errors.Frame`) the runtime state of its core instance
(the interpreter) or the syntax tree of its core module (the aot engine's native frames know
only their code). `instance.py` records here, as it runs the plan, where every core instance
it makes lives (the plan's component instance path and the module's label); a `Trap` leaving
a component function then gets a `location` on each frame it can place. Frames of core
instances outside this component (a host's own modules) are left as they are.

When a module is instantiated more than once in one component and the engine names only the
module, the frame is placed in the first of those instances and says that there are more.
"""
from __future__ import annotations

from ..errors import Frame, Trap


class FrameLocator:
    """Where each core instance of one component instance runs."""

    __slots__ = ("by_state", "by_module")

    def __init__(self):
        self.by_state: dict[int, str] = {}
        self.by_module: dict[int, list[str]] = {}

    def record(self, step, core_instance) -> None:
        """Remember where `core_instance` (an engine Instance made by plan step `step`,
        an `InstantiateCore`) lives."""
        state = core_instance.state
        where = f"component {step.component}, core module {step.module_label}"
        self.by_state[id(state)] = where
        self.by_module.setdefault(id(state.module), []).append(where)

    def place(self, trap: Trap) -> Trap:
        """Give every frame of `trap` this component knows a `location`."""
        for frame in trap.frames:
            if not isinstance(frame, Frame) or frame.location is not None:
                continue
            if frame.instance is not None and id(frame.instance) in self.by_state:
                frame.location = self.by_state[id(frame.instance)]
            elif frame.module is not None and id(frame.module) in self.by_module:
                places = self.by_module[id(frame.module)]
                frame.location = places[0] if len(places) == 1 else (
                    f"{places[0]}, or one of its {len(places) - 1} other instances")
        return trap
