"""Shrinking a failing fuzz case with `wasm-tools shrink` and turning it into a fixture.

    python -m fuzz.shrink CASE.wasm --engine interp [-o SMALL.wasm] [--fixture NAME]

The interestingness predicate re-runs the whole comparison (wasmtime against the engine) on
each candidate and keeps it when it fails the same way: same status, and for an escaped
exception the same exception type, for a mismatch the same kind of first difference (a call,
a global, a memory, ...). `wasm-tools shrink` runs a two-line shell predicate that
asks this process over a pair of FIFOs, so Python and the runtimes are imported once; each
candidate is judged in a forked child under a time limit, because shrinking can delete smith's
fuel check and leave a loop that never ends.
With `--fixture NAME`, the result is written to `tests/fixtures/fuzz/NAME.wasm` with
wasmtime's outcome beside it as `NAME.json` (and its text as `NAME.wat`, for readers).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import shlex
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from .compare import ESCAPED
from .tools import wasm_tools

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "fuzz"
CANDIDATE_SECONDS = 30


def failure_signature(data: bytes, kind: str) -> str | None:
    """How pywamr's `kind` engine fails on `data` against wasmtime, or None if it does not."""
    from .compare import compare
    from .oracle import run_wasmtime
    from .subject import make_engine, run_pywamr
    try:
        expected = run_wasmtime(data)
    except Exception:   # noqa: BLE001 - wasmtime rejects the candidate: not interesting
        return None
    verdict = compare(expected, run_pywamr(data, make_engine(kind)))
    if not verdict.failed:
        return None
    if verdict.status == ESCAPED:     # "escaped: TypeError: ..." -> the exception type
        return f"{ESCAPED}:{verdict.details[0].split(':')[1].strip()}"
    return f"{verdict.status}:{verdict.details[0].split()[0]}"   # call, global, memory, ...


def _judge(path: str, kind: str, signature: str) -> int:
    """0 when the candidate fails like the original; judged in a forked child under a time
    limit (a candidate may loop forever), so the parent's imports are paid once."""
    context = multiprocessing.get_context("fork")
    child = context.Process(target=lambda: os._exit(
        0 if failure_signature(Path(path).read_bytes(), kind) == signature else 1))
    child.start()
    child.join(CANDIDATE_SECONDS)
    if child.is_alive():
        child.kill()
        child.join()
        return 1
    return 0 if child.exitcode == 0 else 1


def _serve(requests: Path, replies: Path, kind: str, signature: str) -> None:
    """Answer the predicate script's questions over two FIFOs until an empty request."""
    while True:
        with open(requests) as stream:
            path = stream.readline().strip()
        if not path:
            return
        answer = _judge(path, kind, signature)
        with open(replies, "w") as stream:
            stream.write(f"{answer}\n")


def _predicate_script(directory: Path, requests: Path, replies: Path) -> Path:
    script = directory / "predicate.sh"
    script.write_text("#!/bin/sh\n"
                      f"printf '%s\\n' \"$(realpath \"$1\")\" > {shlex.quote(str(requests))}\n"
                      f"read answer < {shlex.quote(str(replies))}\n"
                      "exit \"$answer\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def shrink(data: bytes, kind: str, attempts: int = 1000) -> bytes:
    signature = failure_signature(data, kind)
    if signature is None:
        raise ValueError(f"the case does not fail on {kind}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        source, result = tmp_path / "case.wasm", tmp_path / "small.wasm"
        requests, replies = tmp_path / "requests", tmp_path / "replies"
        os.mkfifo(requests)
        os.mkfifo(replies)
        source.write_bytes(data)
        script = _predicate_script(tmp_path, requests, replies)
        server = threading.Thread(target=_serve, args=(requests, replies, kind, signature),
                                  daemon=True)
        server.start()
        try:
            subprocess.run([wasm_tools(), "shrink", "--attempts", str(attempts), str(script),
                            str(source), "-o", str(result)], check=True)
        finally:
            with open(requests, "w"):
                pass            # an empty request stops the server
            server.join()
        return result.read_bytes()


def write_fixture(name: str, data: bytes) -> Path:
    from .oracle import run_wasmtime
    FIXTURES.mkdir(parents=True, exist_ok=True)
    path = FIXTURES / f"{name}.wasm"
    path.write_bytes(data)
    path.with_suffix(".json").write_text(run_wasmtime(data).to_json() + "\n")
    text = subprocess.run([wasm_tools(), "print", str(path)], capture_output=True, check=True)
    path.with_suffix(".wat").write_bytes(text.stdout)    # for readers; the test uses the .wasm
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m fuzz.shrink")
    parser.add_argument("case")
    parser.add_argument("--engine", required=True, choices=("interp", "aot"))
    parser.add_argument("-o", "--output")
    parser.add_argument("--fixture", help="write tests/fixtures/fuzz/NAME.wasm and NAME.json")
    parser.add_argument("--attempts", type=int, default=1000)
    args = parser.parse_args(argv)
    small = shrink(Path(args.case).read_bytes(), args.engine, args.attempts)
    if args.output:
        Path(args.output).write_bytes(small)
    if args.fixture:
        print(f"fixture: {write_fixture(args.fixture, small)}")
    print(f"shrunk to {len(small)} bytes; signature {failure_signature(small, args.engine)}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYWAMR_NO_CACHE", "1")
    sys.exit(main())
