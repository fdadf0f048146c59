"""The WASI 0.2 host: `wasi:cli`, `wasi:io`, `wasi:clocks`, `wasi:random`, `wasi:filesystem`
as component imports, over the same sandbox, clocks and random source as preview 1.

Sits above `component` (it defines imports through the component `Linker`, with canonical
ABI values: `raw=True`) and beside `p1.py`; `cli/run_component.py` calls the two functions
here. One module per WASI package; `host.py` holds the per-guest state.

    from pywamr.component import Component, Linker
    from pywamr.wasi import WasiConfig, p2
    linker = Linker(engine)
    p2.add_to_linker(linker, WasiConfig(argv=["prog"]).preopen_dir(".", "."))
    instance = linker.instantiate(Component.from_file(engine, "prog.wasm"))

`wasi:sockets` is provided but denied by default: `WasiConfig.allow_net` (CIDR networks,
`pywamr run --allow-net`) and `allow_dns` (`--allow-dns`) open it. Not provided: `wasi:http`
and the unstable `wasi:clocks/timezone` (a guest importing them fails to link, naming them).
"""
from __future__ import annotations

from ..config import WasiConfig
from . import cli, clocks, filesystem, io, random, sockets
from .host import VERSION, P2Host

__all__ = ["add_to_linker", "config_from_cli", "P2Host", "VERSION"]


def add_to_linker(linker, config: WasiConfig | None = None) -> P2Host:
    """Define every WASI 0.2 interface pywamr implements in the component `linker`, over a
    fresh context built from `config`. Returns the host state (its `context` has the
    standard streams and preopens)."""
    host = P2Host(linker, config)
    for package in (io, cli, clocks, random, filesystem, sockets):
        package.define(host)
    return host


def config_from_cli(args, argv: list[str]) -> WasiConfig:
    """The WasiConfig for `pywamr run` options: `args.dir` (HOST[::GUEST]), `args.env`
    (NAME=VALUE, or NAME to pass the host's value), `args.allow_net` (CIDR networks the
    guest's sockets may use), `args.allow_dns`, and the guest's `argv`."""
    return WasiConfig.from_cli(argv, args.env, args.dir, getattr(args, "allow_net", None) or (),
                               bool(getattr(args, "allow_dns", False)))
