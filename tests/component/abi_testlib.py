"""Helpers of the canonical ABI tests: guest core modules with a memory and a bump `realloc`.

`Guest(extra)` assembles a core module (memory "memory" of one page, a bump allocator from
1024 exported as "realloc", a call counter "realloc_calls", plus the WAT in `extra`) and
instantiates it on the interp engine (or `engine_kind`) with the given imports; `guest.opts(encoding)` gives the
canonical options over it.
"""
from __future__ import annotations

from pywamr import Engine, Linker, Module, Store
from pywamr.component.abi import CanonicalOptions, LiftLowerContext
from pywamr.component.state import ComponentInstance
from pywamr_testlib import wat

BUMP_WAT = """
  (memory (export "memory") 1)
  (global $bump (export "bump") (mut i32) (i32.const 1024))
  (global $calls (export "realloc_calls") (mut i32) (i32.const 0))
  (func $realloc (export "realloc")
        (param $old i32) (param $old_size i32) (param $align i32) (param $size i32)
        (result i32)
    (local $ptr i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (local.set $ptr (i32.and (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
    (global.set $bump (i32.add (local.get $ptr) (local.get $size)))
    (block $ok
      (br_if $ok (i32.le_u (global.get $bump) (i32.mul (memory.size) (i32.const 65536))))
      (br_if $ok (i32.ne (i32.const -1) (memory.grow
        (i32.add (i32.const 1) (i32.shr_u (i32.sub (global.get $bump)
                                                   (i32.mul (memory.size) (i32.const 65536)))
                                          (i32.const 16))))))
      unreachable)
    (memory.copy (local.get $ptr) (local.get $old)
      (select (local.get $old_size) (local.get $size)
              (i32.lt_u (local.get $old_size) (local.get $size))))
    (local.get $ptr))
"""

_ENGINES: dict = {}
_MODULES: dict = {}


def engine(kind: str = "interp") -> Engine:
    if kind not in _ENGINES:
        _ENGINES[kind] = Engine(kind)
    return _ENGINES[kind]


class Guest:
    """A core instance with memory and realloc; `imports` maps (module, name) to Functions."""

    def __init__(self, extra: str = "", imports: dict | None = None, imports_wat: str = "",
                 parent: ComponentInstance | None = None, name: str = "guest",
                 engine_kind: str = "interp", donut_reentrance: bool = True):
        text = f"(module {imports_wat} {BUMP_WAT} {extra})"
        module = _MODULES.get((text, engine_kind))
        if module is None:
            module = _MODULES[text, engine_kind] = Module(engine(engine_kind), wat(text))
        linker = Linker(engine(engine_kind))
        for (mod, field), func in (imports or {}).items():
            linker.define(mod, field, func)
        self.instance = linker.instantiate(Store(engine(engine_kind)), module)
        self.exports = self.instance.state.exports
        self.memory = self.exports["memory"]
        self.realloc = self.exports["realloc"]
        self.state = ComponentInstance(parent, name, donut_reentrance=donut_reentrance)

    def func(self, name: str):
        return self.exports[name]

    def global_value(self, name: str):
        return self.exports[name].value

    @property
    def realloc_calls(self) -> int:
        return self.exports["realloc_calls"].value

    def opts(self, encoding: str = "utf8", post_return: str | None = None,
             realloc: bool = True) -> CanonicalOptions:
        return CanonicalOptions(memory=self.memory, string_encoding=encoding,
                                realloc=self.realloc if realloc else None,
                                post_return=self.exports[post_return] if post_return else None)

    def cx(self, encoding: str = "utf8", borrow_scope=None) -> LiftLowerContext:
        return LiftLowerContext(self.opts(encoding), self.state, borrow_scope)

    def bytes(self, ptr: int, n: int) -> bytes:
        return bytes(self.memory.data[ptr:ptr + n])

    def write(self, ptr: int, payload: bytes) -> None:
        self.memory.data[ptr:ptr + len(payload)] = payload


class LateFunction:
    """An import whose target is bound after instantiation (a lowered function needs the
    importing instance's own memory and realloc): `.function` to import, `.bind(f)` later."""

    def __init__(self, core_type):
        from pywamr.runtime.objects import Function
        self.target = None
        self.function = Function(core_type, self._call, "late", host=True)

    def _call(self, *args):
        return self.target.call(*args)

    def bind(self, function) -> None:
        self.target = function
