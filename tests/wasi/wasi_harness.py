"""Two interchangeable ways to call preview-1 functions from a test: ours and wasmtime's.

`PywamrWasi` calls pywamr's host functions with the engine's own `Caller`, bound to a real
instance that exports a memory (as a guest would); `WasmtimeWasi` instantiates a
tiny module in the `wasmtime` package that re-exports every wasi_snapshot_preview1 import, so
a differential test can run the same calls on both and compare errnos and memory.
"""
from __future__ import annotations

import struct

from pywamr.binary.types import I32, I64
from pywamr.engine import Engine, Linker, Module
from pywamr.engine.api import Caller
from pywamr.wasi import WasiConfig, WasiContext, host_functions
from pywamr_testlib import wat
from pywamr.wasi.p1_abi import SIGNATURES

PAGES = 2


def memory_caller(pages: int = PAGES) -> Caller:
    """What the engine passes to a host function: a `Caller` whose instance (a module that
    only exports `memory`) is the calling guest."""
    engine = Engine("interp")
    module = Module(engine, wat(f'(module (memory (export "memory") {pages}))'))
    caller = Caller()
    caller.attach(Linker(engine).instantiate(None, module).state)
    return caller


class PywamrWasi:
    """pywamr's preview-1 host on a fresh memory."""

    def __init__(self, config: WasiConfig):
        self.ctx = WasiContext(config)
        self.functions = host_functions(self.ctx)
        self.caller = memory_caller()

    def call(self, name: str, *args) -> int:
        functype, function = self.functions[name]
        assert len(args) == len(functype.params), name
        masks = {I32: 0xFFFFFFFF, I64: 0xFFFFFFFFFFFFFFFF}
        return function(self.caller, *(arg & masks[t] for arg, t in zip(args, functype.params)))

    def read(self, address: int, size: int) -> bytes:
        return bytes(self.caller.memory.data[address:address + size])

    def write(self, address: int, payload: bytes) -> None:
        self.caller.memory.data[address:address + len(payload)] = payload

    def close(self) -> None:
        self.ctx.close_all()


def _wat_module() -> str:
    names = {I32: "i32", I64: "i64"}
    lines = ["(module"]
    for name, functype in SIGNATURES.items():
        params = " ".join(names[t] for t in functype.params)
        result = " (result i32)" if functype.results else ""
        lines.append(f'  (import "wasi_snapshot_preview1" "{name}" '
                     f'(func ${name} (param {params}){result}))')
    lines.append(f"  (memory (export \"memory\") {PAGES})")
    for name, functype in SIGNATURES.items():
        params = " ".join(names[t] for t in functype.params)
        result = " (result i32)" if functype.results else ""
        gets = " ".join(f"(local.get {i})" for i in range(len(functype.params)))
        lines.append(f'  (func (export "{name}") (param {params}){result} (call ${name} {gets}))')
    lines.append(")")
    return "\n".join(lines)


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


class WasmtimeWasi:
    """wasmtime's preview-1 host, driven through re-exported imports."""

    def __init__(self, preopens=(), argv=(), env=(), stdout_path=None, stdin_path=None):
        import wasmtime
        self.engine = wasmtime.Engine()
        self.store = wasmtime.Store(self.engine)
        config = wasmtime.WasiConfig()
        config.argv = list(argv)
        config.env = [list(pair) for pair in env]
        for host, guest in preopens:
            config.preopen_dir(str(host), guest)
        if stdout_path is not None:
            config.stdout_file = str(stdout_path)
        if stdin_path is not None:
            config.stdin_file = str(stdin_path)
        self.store.set_wasi(config)
        linker = wasmtime.Linker(self.engine)
        linker.define_wasi()
        module = wasmtime.Module(self.engine, _wat_module())
        self.instance = linker.instantiate(self.store, module)
        self.exports = self.instance.exports(self.store)
        self.memory = self.exports["memory"]

    def call(self, name: str, *args) -> int:
        functype = SIGNATURES[name]
        converted = [_signed(arg, 32 if t == I32 else 64) for arg, t in zip(args, functype.params)]
        return self.exports[name](self.store, *converted)

    def read(self, address: int, size: int) -> bytes:
        return bytes(self.memory.read(self.store, address, address + size))

    def write(self, address: int, payload: bytes) -> None:
        self.memory.write(self.store, payload, address)

    def close(self) -> None:
        pass


class Guest:
    """Convenience calls on either host: strings placed in memory, results read back."""

    SCRATCH = 1024
    OUT = 64

    def __init__(self, host):
        self.host = host
        self.cursor = self.SCRATCH

    def put(self, payload: bytes) -> tuple[int, int]:
        address = self.cursor
        self.host.write(address, payload)
        self.cursor += (len(payload) + 7) & ~7
        if self.cursor > 60000:
            self.cursor = self.SCRATCH
        return address, len(payload)

    def u32(self, address: int = OUT) -> int:
        return struct.unpack("<I", self.host.read(address, 4))[0]

    def u64(self, address: int = OUT) -> int:
        return struct.unpack("<Q", self.host.read(address, 8))[0]

    def open(self, directory_fd: int, path: str, oflags: int = 0, rights: int = (1 << 30) - 1,
             fdflags: int = 0, lookup: int = 1) -> tuple[int, int]:
        address, length = self.put(path.encode())
        errno = self.host.call("path_open", directory_fd, lookup, address, length, oflags,
                               rights, rights, fdflags, self.OUT)
        return errno, (self.u32() if errno == 0 else -1)

    def path_call(self, name: str, directory_fd: int, path: str, *rest) -> int:
        address, length = self.put(path.encode())
        return self.host.call(name, directory_fd, address, length, *rest)

    def write_fd(self, fd: int, payload: bytes) -> tuple[int, int]:
        address, length = self.put(payload)
        iovec, _ = self.put(struct.pack("<II", address, length))
        errno = self.host.call("fd_write", fd, iovec, 1, self.OUT)
        return errno, (self.u32() if errno == 0 else -1)

    def read_fd(self, fd: int, size: int) -> tuple[int, bytes]:
        address, _ = self.put(bytes(size))
        iovec, _ = self.put(struct.pack("<II", address, size))
        errno = self.host.call("fd_read", fd, iovec, 1, self.OUT)
        if errno:
            return errno, b""
        return errno, self.host.read(address, self.u32())

    def close(self, fd: int) -> int:
        return self.host.call("fd_close", fd)
