"""Worker-process side of parallel compilation: IR text in, object bytes out.

Started by `compiler.WorkerPool` (`compiler.worker_argv`) and then answers requests on
stdin/stdout until stdin closes, so an LLVM abort kills only the worker. Frames: request = u32
length + IR text (UTF-8); reply = u8 status (0 ok, 1 error) + u32 length + object bytes or
error message. A request of length 0 is a warm-up: load LLVM and make the host's target
machine now, without a reply (`compiler.WorkerPool.prestart(warm=True)`: the tiered engine
has LLVM loaded while the guest starts, so that its first hot function does not wait for it).

The pool starts it as `python -S -c <boot> AOT_DIR --serve`: without `site` (its .pth
processing costs ~40 ms of CPU; the parent's `sys.path` comes in $PYTHONPATH instead) and
without the `pywamr` packages' `__init__` modules (~60 ms of CPU): the boot line makes a bare
package whose path is this directory, so this module, `codegen` and `marks` load as its
submodules and nothing else of pywamr is imported. `python -m pywamr.aot.worker --serve` works
too, and `python -m pywamr.aot.worker IN.ll OUT.o` compiles one chunk (for debugging).
Imports nothing of pywamr but `codegen` (and its `marks`).
"""
from __future__ import annotations

import os
import struct
import sys


def compile_chunk(ir_text: str) -> bytes:
    from .codegen import compile_ir
    return compile_ir(ir_text)


def warm_up() -> None:
    """Load LLVM and create the default target machine."""
    from .codegen import target_machine
    target_machine()


def _read_exact(stream, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        part = stream.read(n - len(data))
        if not part:
            return None
        data += part
    return data


def serve() -> int:
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    while True:
        head = _read_exact(stdin, 4)
        if head is None:
            return 0
        (n,) = struct.unpack("<I", head)
        if n == 0:
            warm_up()
            continue
        text = _read_exact(stdin, n)
        if text is None:
            return 0
        try:
            payload = compile_chunk(text.decode())
            status = 0
        except Exception as exc:  # reported to the parent as a compile error
            payload = f"{type(exc).__name__}: {exc}".encode()
            status = 1
        try:
            stdout.write(struct.pack("<BI", status, len(payload)) + payload)
            stdout.flush()
        except (BrokenPipeError, ValueError):   # the parent is gone (it exited): nothing to say
            _quiet_exit()
            return 0


def _quiet_exit() -> None:
    """Leave without Python's complaint about flushing a stdout whose reader is gone."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass


def main(argv: list[str]) -> int:
    if argv == ["--serve"]:
        return serve()
    if len(argv) != 2:
        print("usage: python -m pywamr.aot.worker (--serve | IN.ll OUT.o)", file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        obj = compile_chunk(f.read())
    with open(argv[1], "wb") as f:
        f.write(obj)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
