"""The host that fuzz modules may import from: one description, implemented by both runners.

Some generated modules import from the module "host" (smith picks any subset of `IMPORTS_WAT`):
functions with simple deterministic bodies written once here in terms of Python values
(signed ints, floats), a memory, two globals and a table. Each runner builds these objects in
its own runtime's terms, fresh per module; every host call is logged, and the host objects'
final states are compared like exports (under the names "host:memory", ...).
"""
from __future__ import annotations

IMPORTS_WAT = """(module
  (import "host" "mix_i32" (func (param i32 i32) (result i32)))
  (import "host" "mix_i64" (func (param i64) (result i64)))
  (import "host" "mix_f64" (func (param f64 f32) (result f64)))
  (import "host" "log" (func (param i32)))
  (import "host" "memory" (memory 1 4))
  (import "host" "global_i32" (global (mut i32)))
  (import "host" "global_f64" (global f64))
  (import "host" "table" (table 4 16 funcref)))"""

# name -> (parameter types, result types); the memory is 1..4 pages, the table 4..16 funcref
FUNCTIONS = {
    "mix_i32": (("i32", "i32"), ("i32",)),
    "mix_i64": (("i64",), ("i64",)),
    "mix_f64": (("f64", "f32"), ("f64",)),
    "log": (("i32",), ()),
}
MEMORY_LIMITS = (1, 4)
TABLE_LIMITS = (4, 16)
GLOBALS = {"global_i32": ("i32", True, 7), "global_f64": ("f64", False, -1.25)}


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def behaviour(name: str, log: list):
    """The Python body of host function `name`; calls are appended to `log`."""
    from .values import value_key
    params = FUNCTIONS[name][0]

    def body(*args):
        log.append([name, *map(value_key, params, args)])
        if name == "mix_i32":
            return _signed(args[0] * 31 + args[1], 32)
        if name == "mix_i64":
            return _signed(args[0] ^ (args[0] >> 7), 64)
        if name == "mix_f64":
            return args[0] * 0.5 + args[1]
        return None
    return body
