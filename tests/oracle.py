"""Reference ("oracle") runner for WASI programs, built on the ``wasmtime``
PyPI package.

``run_wasmtime`` runs a wasm32-wasi command module the way ``pywamr run``
is expected to, and reports what happened in an :class:`Outcome`, so that
tests can compare pywamr's observable behaviour against wasmtime's.

Can also be used from the command line::

    python tests/oracle.py prog.wasm [--dir HOST::GUEST] [--env K=V] [args...]
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence, Union

__all__ = [
    "Outcome",
    "run_wasmtime",
    "FIXTURES_DIR",
    "load_manifest",
    "prepare_sandbox",
    "run_manifest_entry",
]

FIXTURES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "wasi")


@dataclass
class Outcome:
    stdout: bytes
    stderr: bytes
    exit_code: int
    trapped: bool
    trap_message: str = ""


EnvLike = Union[Mapping[str, str], Iterable[Sequence[str]], None]


def _env_pairs(env: EnvLike) -> list[tuple[str, str]]:
    if env is None:
        return []
    if isinstance(env, Mapping):
        return [(str(k), str(v)) for k, v in env.items()]
    pairs = []
    for item in env:
        if isinstance(item, str):
            k, _, v = item.partition("=")
            pairs.append((k, v))
        else:
            k, v = item
            pairs.append((str(k), str(v)))
    return pairs


def run_wasmtime(
    wasm_path: Union[str, os.PathLike],
    argv: Sequence[str],
    env: EnvLike = None,
    dirs: Sequence[tuple[str, str]] = (),
    stdin: bytes = b"",
) -> Outcome:
    """Run ``wasm_path`` as a WASI command under wasmtime.

    ``argv`` is the *complete* guest argv, including ``argv[0]``.
    ``env`` is a mapping or a list of ``(key, value)`` pairs / ``"K=V"`` strings.
    ``dirs`` is a list of ``(host_path, guest_path)`` preopens, in fd order (3, 4, ...).
    ``stdin`` is the full contents of the guest's stdin.

    A normal return from ``_start`` is exit code 0; ``proc_exit(n)`` gives
    exit code ``n`` (not a trap).  Any other trap gives ``trapped=True``,
    ``exit_code=-1`` and the trap text in ``trap_message``.
    """
    import wasmtime

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    module = wasmtime.Module.from_file(engine, str(wasm_path))

    with tempfile.TemporaryDirectory(prefix="oracle-stdio-") as td:
        in_path = os.path.join(td, "stdin")
        out_path = os.path.join(td, "stdout")
        err_path = os.path.join(td, "stderr")
        with open(in_path, "wb") as f:
            f.write(stdin or b"")

        cfg = wasmtime.WasiConfig()
        cfg.argv = [str(a) for a in argv]
        cfg.env = _env_pairs(env)
        for host, guest in dirs:
            cfg.preopen_dir(str(host), str(guest))
        cfg.stdin_file = in_path
        cfg.stdout_file = out_path
        cfg.stderr_file = err_path
        store.set_wasi(cfg)

        exit_code = 0
        trapped = False
        trap_message = ""
        try:
            instance = linker.instantiate(store, module)
            start = instance.exports(store)["_start"]
            start(store)
        except wasmtime.ExitTrap as e:
            exit_code = e.code
        except wasmtime.Trap as e:
            trapped = True
            exit_code = -1
            trap_message = e.message
        except wasmtime.WasmtimeError as e:
            # e.g. a trap wrapped into an error by a host call
            trapped = True
            exit_code = -1
            trap_message = str(e)
        finally:
            # Make sure the store releases the stdio file handles.
            del store

        with open(out_path, "rb") as f:
            out = f.read()
        with open(err_path, "rb") as f:
            err = f.read()
    return Outcome(out, err, exit_code, trapped, trap_message)


def load_manifest(fixtures_dir: str = FIXTURES_DIR) -> dict:
    """Load ``tests/fixtures/wasi/manifest.json``."""
    import json

    with open(os.path.join(fixtures_dir, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def prepare_sandbox(entry: dict, workdir: str, fixtures_dir: str = FIXTURES_DIR) -> list[tuple[str, str]]:
    """Create a fresh copy of the fixture tree for one run of ``entry``.

    Lays out ``workdir/tree`` (a copy of ``tests/fixtures/wasi/tree``), any
    ``setup.outside_files`` as siblings of it in ``workdir``, and any
    ``setup.symlinks`` inside the copied tree.  Returns the preopen list
    ``[(host, guest)]`` (empty when the entry needs no directory).
    """
    import shutil

    if not entry.get("preopen"):
        return []
    manifest_tree = "tree"
    host = os.path.join(workdir, "tree")
    shutil.copytree(os.path.join(fixtures_dir, manifest_tree), host, symlinks=True)
    setup = entry.get("setup") or {}
    for name, content in (setup.get("outside_files") or {}).items():
        with open(os.path.join(workdir, name), "w", encoding="utf-8") as f:
            f.write(content)
    for link in setup.get("symlinks") or []:
        os.symlink(link["target"], os.path.join(host, link["path"]))
    return [(host, entry["preopen"])]


def run_manifest_entry(entry: dict, workdir: str, fixtures_dir: str = FIXTURES_DIR) -> Outcome:
    """Run one manifest entry under wasmtime in a fresh sandbox below ``workdir``."""
    dirs = prepare_sandbox(entry, workdir, fixtures_dir)
    wasm = os.path.join(fixtures_dir, entry["wasm"])
    return run_wasmtime(
        wasm,
        [wasm, *entry.get("args", [])],
        entry.get("env") or {},
        dirs,
        entry.get("stdin", "").encode("utf-8"),
    )


def _check_manifest() -> int:
    """Run every manifest entry under wasmtime and check exit status / trap."""
    bad = 0
    for entry in load_manifest()["programs"]:
        with tempfile.TemporaryDirectory(prefix="oracle-") as wd:
            o = run_manifest_entry(entry, wd)
        ok = o.trapped == entry["trap"] and (o.trapped or o.exit_code == entry["exit_code"])
        if o.trapped and entry.get("trap_kind"):
            ok = ok and entry["trap_kind"] in o.trap_message
        bad += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {entry['name']:<20} exit={o.exit_code} trapped={o.trapped}"
              f" stdout={len(o.stdout)}B {o.trap_message.strip().splitlines()[-1] if o.trapped else ''}")
    return 1 if bad else 0


def _main(args: list[str]) -> int:
    if args == ["--check-manifest"]:
        return _check_manifest()
    dirs: list[tuple[str, str]] = []
    env: list[tuple[str, str]] = []
    i = 0
    while i < len(args) and args[i].startswith("--"):
        if args[i] == "--dir":
            host, _, guest = args[i + 1].partition("::")
            dirs.append((host, guest or host))
            i += 2
        elif args[i] == "--env":
            k, _, v = args[i + 1].partition("=")
            env.append((k, v))
            i += 2
        else:
            raise SystemExit(f"unknown option {args[i]}")
    wasm, rest = args[i], args[i + 1 :]
    stdin = b"" if sys.stdin.isatty() else sys.stdin.buffer.read()
    o = run_wasmtime(wasm, [wasm, *rest], env, dirs, stdin)
    sys.stdout.buffer.write(o.stdout)
    sys.stderr.buffer.write(o.stderr)
    if o.trapped:
        sys.stderr.write(f"wasm trap: {o.trap_message}\n")
        return 134
    return o.exit_code


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
