"""Reference runner for WASI 0.2 command components, on the `wasmtime` PyPI package.

`run_wasmtime_component` runs a component's `wasi:cli/run` export the way `pywamr run` is
expected to and returns the same `Outcome` as tests/oracle.py (stdout, stderr, exit status,
trap), so the differential tests compare like with like. Test code only: pywamr itself never
imports wasmtime.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from oracle import Outcome, _env_pairs  # noqa: E402  (tests/oracle.py)


def _run_export(store, instance):
    """The `run` function of the exported `wasi:cli/run@0.2.x` interface."""
    for minor in range(20, -1, -1):
        iface = instance.get_export_index(store, f"wasi:cli/run@0.2.{minor}")
        if iface is not None:
            index = instance.get_export_index(store, "run", iface)
            return instance.get_func(store, index)
    raise LookupError("component exports no wasi:cli/run@0.2.x")


def run_wasmtime_component(wasm_path, argv, env=None, dirs=(), stdin: bytes = b"") -> Outcome:
    """Run the command component at `wasm_path` under wasmtime with WASI 0.2.

    `argv` is the complete argv (argv[0] included); `dirs` are (host, guest) preopens.
    `exit(ok)` or returning ok is status 0; `exit(err)` 1; `exit-with-code(n)` n; any other
    trap gives trapped=True and status -1."""
    import wasmtime
    import wasmtime.component as component

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = component.Linker(engine)
    linker.add_wasip2()
    comp = component.Component.from_file(engine, str(wasm_path))
    with tempfile.TemporaryDirectory(prefix="p2-oracle-") as td:
        paths = {name: os.path.join(td, name) for name in ("stdin", "stdout", "stderr")}
        Path(paths["stdin"]).write_bytes(stdin or b"")
        config = wasmtime.WasiConfig()
        config.argv = [str(a) for a in argv]
        config.env = _env_pairs(env)
        for host, guest in dirs:
            config.preopen_dir(str(host), str(guest))
        config.stdin_file = paths["stdin"]
        config.stdout_file = paths["stdout"]
        config.stderr_file = paths["stderr"]
        store.set_wasi(config)
        status, trapped, message = 0, False, ""
        try:
            instance = linker.instantiate(store, comp)
            result = _run_export(store, instance)(store)
            status = 0 if getattr(result, "tag", None) == "ok" else 1
        except wasmtime.ExitTrap as exc:
            status = exc.code
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            trapped, status, message = True, -1, str(exc)
        finally:
            del store
        out = Path(paths["stdout"]).read_bytes()
        err = Path(paths["stderr"]).read_bytes()
    return Outcome(out, err, status, trapped, message)
