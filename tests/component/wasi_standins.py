"""Minimal WASI 0.2 stand-ins, defined in Python through the component Linker, for tests that
run WASI commands (the composed calculator) before pywamr's WASI 0.2 host exists.

They implement what a C command built with the preview-1 adapter calls to print: stdout and
stderr as output streams, exit, no preopens, no terminals. Anything else raises, so a test that
needs more fails loudly instead of passing on a stub."""
from __future__ import annotations

from pywamr.component.values import ComponentError, Ok


class Exit(Exception):
    def __init__(self, status):
        super().__init__(status)
        self.status = status


class OutputStream:
    def __init__(self, sink: bytearray):
        self.sink = sink

    def check_write(self):
        return 1 << 16

    def write(self, contents):
        self.sink.extend(contents)

    def blocking_write_and_flush(self, contents):
        self.sink.extend(contents)

    def blocking_flush(self):
        return None


class InputStream:
    """An empty stdin: the adapter opens it at start-up; reading it is not implemented."""


def _unexpected(name):
    def call(*args):
        raise AssertionError(f"the stand-in WASI host does not implement {name}")
    return call


def define_standins(linker, version: str = "0.2.12"):
    """Define the stand-ins in `linker`; returns (stdout, stderr) bytearrays."""
    out, err = bytearray(), bytearray()
    v = "@" + version
    linker.define_resource("wasi:io/streams" + v, "output-stream", OutputStream)
    linker.define_resource("wasi:io/streams" + v, "input-stream", InputStream)
    linker.define_resource("wasi:io/error" + v, "error")
    for iface, name in [("wasi:cli/terminal-input", "terminal-input"),
                        ("wasi:cli/terminal-output", "terminal-output"),
                        ("wasi:filesystem/types", "descriptor"),
                        ("wasi:filesystem/types", "directory-entry-stream")]:
        linker.define_resource(iface + v, name)
    linker.define_instance("wasi:cli/stdout" + v, {"get-stdout": lambda: OutputStream(out)})
    linker.define_instance("wasi:cli/stderr" + v, {"get-stderr": lambda: OutputStream(err)})
    linker.define_instance("wasi:cli/stdin" + v, {"get-stdin": InputStream})

    def exit_(status):
        raise Exit(0 if isinstance(status, Ok) else 1)
    linker.define_instance("wasi:cli/exit" + v, {"exit": exit_})
    for term in ("stdin", "stdout", "stderr"):
        linker.define_instance(f"wasi:cli/terminal-{term}" + v,
                               {f"get-terminal-{term}": lambda: None})
    linker.define_instance("wasi:filesystem/preopens" + v, {"get-directories": lambda: []})
    fs = {"filesystem-error-code": lambda e: None}
    for method in ("get-flags", "get-type", "append-via-stream", "write-via-stream", "stat"):
        fs[f"[method]descriptor.{method}"] = _unexpected(method)
    linker.define_instance("wasi:filesystem/types" + v, fs)
    return out, err


__all__ = ["define_standins", "Exit", "ComponentError"]
