"""The embedder's description of a WASI environment: arguments, environment, preopens, stdio.

A plain configuration object, read once by `WasiContext` (context.py) when a host is set up
(`add_to_linker` in linker.py); it holds no open resources, so one config can serve many
instances. It knows nothing of linkers or engines.
"""
from __future__ import annotations

import os

from .clocks import Clocks, host_random


class WasiConfig:
    """What a WASI guest may see.

    - `argv`: the guest's arguments (argv[0] is the program name).
    - `env`: a dict or a list of (name, value) pairs.
    - `preopens`: (host_path, guest_path) pairs; they become fds 3, 4, ... in order.
    - `stdin`/`stdout`/`stderr`: None inherits the process's fd 0/1/2; otherwise a Python file
      object (binary or text; text is bridged with UTF-8, errors='replace'). `stdin` may also be
      bytes.
    - `clocks`: a `Clocks` (or compatible) object; `random`: a callable size -> bytes.
    - `allow_net`: networks (CIDR strings such as "127.0.0.1/32") a WASI 0.2 guest may bind,
      connect or send to; empty (the default) denies all sockets. `allow_dns`: may it
      resolve host names. Preview 1 has no sockets and ignores both.
    - `broker`: a capability broker, `broker(request) -> bool`, asked before each filesystem
      open or change beneath a preopen (a `FileRequest`) and each socket bind, listen,
      connect and send-to (a `SocketRequest`); see broker.py. It narrows the grants above,
      never widens them. None (the default) approves whatever the grants allow.
    """

    __slots__ = ("argv", "env", "preopens", "stdin", "stdout", "stderr", "clocks", "random",
                 "allow_net", "allow_dns", "broker")

    def __init__(self, argv=None, env=None, preopens=None, stdin=None, stdout=None, stderr=None,
                 clocks=None, random=None, allow_net=None, allow_dns=False, broker=None):
        self.argv: list[str] = list(argv or [])
        self.env = env if env is not None else {}
        self.preopens: list[tuple[str, str]] = list(preopens or [])
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.clocks = clocks if clocks is not None else Clocks()
        self.random = random if random is not None else host_random
        self.allow_net: list[str] = list(allow_net or [])
        self.allow_dns = bool(allow_dns)
        if broker is not None and not callable(broker):
            raise TypeError("WasiConfig(broker=...) must be callable: broker(request) -> bool")
        self.broker = broker

    def preopen_dir(self, host_path, guest_path: str) -> "WasiConfig":
        """Grant the guest the host directory `host_path`, visible as `guest_path`."""
        self.preopens.append((os.fspath(host_path), guest_path))
        return self

    def inherit_argv(self) -> "WasiConfig":
        import sys
        self.argv = list(sys.argv)
        return self

    def inherit_env(self) -> "WasiConfig":
        self.env = dict(os.environ)
        return self

    def inherit_stdin(self) -> "WasiConfig":
        self.stdin = None
        return self

    def inherit_stdout(self) -> "WasiConfig":
        self.stdout = None
        return self

    def inherit_stderr(self) -> "WasiConfig":
        self.stderr = None
        return self

    def inherit_stdio(self) -> "WasiConfig":
        self.stdin = self.stdout = self.stderr = None
        return self

    def stdin_bytes(self, payload: bytes) -> "WasiConfig":
        """Let the guest read exactly `payload` from stdin, then end of file."""
        self.stdin = bytes(payload)
        return self

    @classmethod
    def from_cli(cls, argv, env_options=(), dir_options=(), allow_net=(),
                 allow_dns=False) -> "WasiConfig":
        """A config from command-line style options: `NAME=VALUE` (or `NAME`, passing the
        host's value), `HOST[::GUEST]` (GUEST defaults to HOST) and CIDR networks. A HOST
        that is not a directory or a malformed network raises `WasmError`."""
        import ipaddress
        from ..errors import WasmError
        config = cls(argv=argv, allow_dns=allow_dns)
        for cidr in allow_net:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise WasmError(f"--allow-net {cidr}: {exc}") from None
            config.allow_net.append(cidr)
        env = {}
        for item in env_options:
            name, sep, value = item.partition("=")
            env[name] = value if sep else os.environ.get(name, "")
        config.env = env
        for spec in dir_options:
            host, sep, guest = spec.partition("::")
            if not os.path.isdir(host):
                raise WasmError(f"--dir {spec}: {host} is not a directory")
            config.preopen_dir(host, guest if sep else host)
        return config

    def env_pairs(self) -> list[tuple[str, str]]:
        """The environment as an ordered list of (name, value) pairs."""
        if isinstance(self.env, dict):
            return list(self.env.items())
        return [(name, value) for name, value in self.env]
