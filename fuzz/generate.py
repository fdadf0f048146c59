"""Module generation: deterministic seed bytes fed to `wasm-tools smith`.

Module `index` of campaign `seed` is a pure function of the two numbers and the wasm-tools
version: the seed bytes come from `random.Random(f"{seed}:{index}:{attempt}")`, `attempt`
counting smith's rare refusals. The flags restrict smith to what pywamr supports (core Wasm
2.0 without SIMD), forbid imports other than the fuzz host's (`host.py`, which both sides
implement; one module in three may use it), export everything, canonicalize NaNs, bound
memories and tables (a declared maximum, so `memory.grow` cannot reach sizes where engines may
legitimately differ), and insert smith's fuel counter so every call terminates (an exhausted
counter traps with `unreachable`). Odd modules avoid traps; one in eight gets much more fuel.
It does not generate invalid modules (the byte-mutation test in tests/test_binary.py does).

Modes (`MODES`) change smith's flags for a whole campaign: "core" (the default, above),
"multi-memory" (two to four memories per module, the fuzz host's imported memory among them
when a module imports, so memory instructions name memories other than 0), "tail-call"
(smith may emit `return_call` and `return_call_indirect`), "simd" (the
fixed-width SIMD proposal: v128 locals, globals, parameters and results and the 0xFD
instructions; smith's NaN canonicalisation covers f32x4/f64x2 results too) and "relaxed-simd"
(SIMD plus the relaxed-SIMD instructions, whose results wasmtime fixes by its x86-64 choices).
"""
from __future__ import annotations

import atexit
import os
import random
import subprocess
import tempfile

from .host import IMPORTS_WAT
from .tools import wasm_tools

FUEL = 1000
DEEP_FUEL = 100_000     # one module in eight: deep recursion and long loops

SMITH_FLAGS = (
    "--ensure-termination", "--fuel", str(FUEL),
    "--export-everything", "true",
    # a NaN's sign and payload are nondeterministic (spec), yet smith folds float results into
    # integer globals through i32.reinterpret_f32 + xor: without canonical NaNs wasmtime
    # (0xffc00000 from x86) and pywamr (0x7fc00000) differ in bit 31 and nothing is wrong
    "--canonicalize-nans", "true",
    "--max-imports", "0",
    # Wasm 2.0 features stay on (their defaults); everything later is off
    "--simd-enabled", "false",
    "--relaxed-simd-enabled", "false",
    "--threads-enabled", "false",
    "--shared-everything-threads-enabled", "false",
    "--gc-enabled", "false",
    "--exceptions-enabled", "false",
    "--tail-call-enabled", "false",
    "--memory64-enabled", "false",
    "--custom-page-sizes-enabled", "false",
    "--wide-arithmetic-enabled", "false",
    "--extended-const-enabled", "false",
    "--custom-descriptors-enabled", "false",
    "--compact-imports-enabled", "false",
    "--max-memories", "1",
    "--memory-max-size-required", "true",
    "--max-memory32-bytes", str(64 * 65536),
    "--table-max-size-required", "true",
    "--max-table-elements", "1000",
    "--min-types", "3",
    "--min-funcs", "5",
    "--max-funcs", "40",
    "--max-instructions", "400",
)


# Flags a mode replaces in SMITH_FLAGS: flag -> its value(s) in that mode.
MODES: dict[str, dict[str, tuple[str, ...]]] = {
    "core": {},
    "multi-memory": {"--max-memories": ("4",), "--min-memories": ("2",)},
    "tail-call": {"--tail-call-enabled": ("true",)},
    "simd": {"--simd-enabled": ("true",)},
    "relaxed-simd": {"--simd-enabled": ("true",), "--relaxed-simd-enabled": ("true",)},
}

_imports_path: str | None = None


def _available_imports() -> str:
    """A file holding `host.IMPORTS_WAT` in binary form (written once per process)."""
    global _imports_path
    if _imports_path is None:
        proc = subprocess.run([wasm_tools(), "parse", "-", "-o", "/dev/stdout"],
                              input=IMPORTS_WAT.encode(), capture_output=True, check=True)
        handle, _imports_path = tempfile.mkstemp(prefix="fuzz-imports-", suffix=".wasm")
        os.write(handle, proc.stdout)
        os.close(handle)
        atexit.register(os.unlink, _imports_path)
    return _imports_path


def _with_mode(flags: tuple[str, ...], mode: str) -> tuple[str, ...]:
    """`flags` with the values `MODES[mode]` gives (a flag not in `flags` is appended)."""
    out = list(flags)
    for flag, values in MODES[mode].items():
        if flag in out:
            position = out.index(flag)
            out[position + 1:position + 2] = values
        else:
            out.extend((flag, *values))
    return tuple(out)


def smith_flags(index: int, mode: str = "core") -> tuple[str, ...]:
    """Odd modules ask smith to avoid traps (more calls return values to compare); one module
    in three may import from the fuzz host (`host.py`); one in eight gets `DEEP_FUEL`, enough
    to exhaust an engine's call stack (such cases are usually inconclusive, but they exercise
    the stack guards)."""
    flags = _with_mode(SMITH_FLAGS, mode) + (("--disallow-traps", "true") if index % 2 else ())
    if index % 8 == 7:
        position = flags.index("--fuel")
        flags = flags[:position + 1] + (str(DEEP_FUEL),) + flags[position + 2:]
    if index % 3 == 2:
        position = flags.index("--max-imports")
        flags = flags[:position] + flags[position + 2:] + (
            "--available-imports", _available_imports())
    return flags


def seed_bytes(seed: int, index: int, attempt: int = 0) -> bytes:
    rng = random.Random(f"{seed}:{index}:{attempt}")
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(256, 8192)))


def smith(data: bytes, flags: tuple[str, ...] = SMITH_FLAGS) -> bytes | None:
    """Run smith on seed bytes; None when smith cannot build a module from them (exit 2)."""
    proc = subprocess.run([wasm_tools(), "smith", *flags, "-o", "/dev/stdout"],
                          input=data, capture_output=True)
    if proc.returncode == 2:
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"wasm-tools smith failed: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def generate_module(seed: int, index: int, mode: str = "core") -> bytes:
    """The module of campaign `seed` at position `index` in `mode` (retrying smith's rare
    refusals)."""
    for attempt in range(20):
        module = smith(seed_bytes(seed, index, attempt), smith_flags(index, mode))
        if module is not None:
            return module
    raise RuntimeError(f"wasm-tools smith refused 20 seeds for module {seed}:{index}")
