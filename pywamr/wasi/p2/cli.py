"""`wasi:cli`: environment, exit, the standard streams and the terminal interfaces.

Part of the WASI 0.2 host (`pywamr.wasi.p2`). The standard streams are the shared context's
descriptors 0-2 (`context.py`), wrapped as `wasi:io` streams; arguments and environment come
from the same `WasiConfig` preview 1 reads. `exit` raises `WasiExit`, which unwinds the guest
and reaches the CLI as the process's exit status.

Spec: wasi-0.2.12/cli/*.wit. `initial-cwd` reports none (the guest has no working directory
beyond its preopens), as wasmtime does by default.
"""
from __future__ import annotations

from ...errors import Trap, TrapCode, WasiExit
from .host import P2Host
from .io import CoreInputStream, CoreOutputStream


class TerminalInput:
    """The `terminal-input` resource: the guest's stdin is a terminal (no methods)."""

    __slots__ = ()


class TerminalOutput:
    """The `terminal-output` resource: stdout or stderr is a terminal (no methods)."""

    __slots__ = ()


def _exit(status) -> None:
    label = status[0] if isinstance(status, tuple) else None
    if label not in ("ok", "error"):
        raise Trap(TrapCode.HOST, f"wasi:cli/exit.exit: bad status {status!r}")
    raise WasiExit(0 if label == "ok" else 1)


def _exit_with_code(code: int) -> None:
    raise WasiExit(code)


def define(host: P2Host) -> None:
    context = host.context
    stdin, stdout, stderr = (context.table[fd] for fd in (0, 1, 2))
    host.func("wasi:cli/environment", "get-environment", lambda: list(context.env))
    host.func("wasi:cli/environment", "get-arguments", lambda: list(context.args))
    host.func("wasi:cli/environment", "initial-cwd", lambda: ("none", None))
    host.func("wasi:cli/exit", "exit", _exit)
    host.func("wasi:cli/exit", "exit-with-code", _exit_with_code)
    host.func("wasi:cli/stdin", "get-stdin",
              lambda: host.new("input-stream", CoreInputStream(stdin.input)))
    host.func("wasi:cli/stdout", "get-stdout",
              lambda: host.new("output-stream", CoreOutputStream(stdout.output)))
    host.func("wasi:cli/stderr", "get-stderr",
              lambda: host.new("output-stream", CoreOutputStream(stderr.output)))
    host.resource("wasi:cli/terminal-input", "terminal-input", TerminalInput)
    host.resource("wasi:cli/terminal-output", "terminal-output", TerminalOutput)

    def terminal(descriptor, kind, cls):
        def get():
            if descriptor.isatty():
                return ("some", host.new(kind, cls()))
            return ("none", None)
        return get
    host.func("wasi:cli/terminal-stdin", "get-terminal-stdin",
              terminal(stdin, "terminal-input", TerminalInput))
    host.func("wasi:cli/terminal-stdout", "get-terminal-stdout",
              terminal(stdout, "terminal-output", TerminalOutput))
    host.func("wasi:cli/terminal-stderr", "get-terminal-stderr",
              terminal(stderr, "terminal-output", TerminalOutput))
