"""`wasi:sockets/tcp` and `tcp-create-socket`: the `tcp-socket` resource and its streams.

Part of the WASI 0.2 host's sockets (`sockets.py` has the policy, addresses and errors). A
socket walks the WIT's states: unbound -> bind-started -> bound -> listen-started ->
listening, or (unbound|bound) -> connect-started -> connected; a call in the wrong state is
`invalid-state`, a `finish-*` without its `start-*` is `not-in-progress`. Connected sockets
give an `input-stream`/`output-stream` pair (`wasi:io`); the host socket is closed when the
socket resource and both streams are dropped.

Spec: wasi-0.2.12/sockets/tcp.wit. Binding or connecting outside the allowed networks is
`access-denied` (see `sockets.Network`).
"""
from __future__ import annotations

import errno
import socket

from .host import P2Host
from .io import (CHECK_WRITE_BUDGET, FdPollable, InputStream, IoError, OutputStream,
                 StreamError, fd_ready)
from .sockets import (SocketError, SocketPollable, family_label, from_host, from_os_error,
                      is_unspecified, socket_creator, socket_result, to_host)
from ..errors import code_from_os_error

NS = 1_000_000_000


class SharedSocket:
    """A host socket and how many resources (socket, streams) still use it."""

    __slots__ = ("sock", "users")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.users = 1

    def acquire(self) -> "SharedSocket":
        self.users += 1
        return self

    def release(self) -> None:
        self.users -= 1
        if self.users == 0:
            self.sock.close()


class TcpInputStream(InputStream):
    __slots__ = ("shared",)

    def __init__(self, shared: SharedSocket):
        self.shared = shared.acquire()

    def _read(self, size: int, blocking: bool) -> bytes:
        sock = self.shared.sock
        if blocking:
            fd_ready(sock.fileno(), timeout=None)
        try:
            data = sock.recv(size)
        except BlockingIOError:
            return b""
        except OSError as exc:
            raise StreamError(IoError(code_from_os_error(exc))) from None
        if not data:
            raise StreamError(None)
        return data

    def subscribe(self):
        return FdPollable(self.shared.sock.fileno())

    def drop(self) -> None:
        self.shared.release()


class TcpOutputStream(OutputStream):
    __slots__ = ("shared",)

    def __init__(self, shared: SharedSocket):
        super().__init__()
        self.shared = shared.acquire()

    def check_write(self) -> int:
        budget = super().check_write()
        return budget if fd_ready(self.shared.sock.fileno(), write=True) else 0

    def _write(self, payload: bytes) -> None:
        sock, view = self.shared.sock, memoryview(payload)
        try:
            while view:
                fd_ready(sock.fileno(), write=True, timeout=None)
                try:
                    view = view[sock.send(view):]
                except BlockingIOError:
                    continue
        except OSError as exc:
            raise StreamError(IoError(code_from_os_error(exc))) from None

    def write(self, payload: bytes, limit: int = CHECK_WRITE_BUDGET) -> None:
        try:
            super().write(payload, limit)
        except StreamError as exc:
            self.closed = True
            raise exc

    def subscribe(self):
        return FdPollable(self.shared.sock.fileno(), write=True)

    def drop(self) -> None:
        self.shared.release()


class TcpSocket:
    """The `tcp-socket` resource."""

    __slots__ = ("shared", "family", "state", "backlog", "pending", "network")

    def __init__(self, sock: socket.socket, state: str = "unbound"):
        self.shared = SharedSocket(sock)
        self.family = sock.family
        self.state = state
        self.backlog = 128
        self.pending = None
        self.network = None   # the network it was bound through (asked again on listen)

    @property
    def sock(self) -> socket.socket:
        return self.shared.sock

    def drop(self) -> None:
        self.shared.release()

    def _require(self, *states: str) -> None:
        if self.state not in states:
            raise SocketError("invalid-state")

    def _finish(self, started: str, done: str) -> None:
        if self.state != started:
            raise SocketError("not-in-progress")
        self.state = done

    # binding, listening, connecting
    def start_bind(self, network, address) -> None:
        self._require("unbound")
        sockaddr = to_host(address, self.family)
        network.check(sockaddr, "bind", "tcp")
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(sockaddr)
        except OSError as exc:
            raise from_os_error(exc) from None
        self.network = network
        self.state = "bind-started"

    def finish_bind(self) -> None:
        self._finish("bind-started", "bound")

    def start_listen(self) -> None:
        self._require("bound")
        if self.network is not None:
            self.network.check(self.sock.getsockname(), "listen", "tcp")
        try:
            self.sock.listen(self.backlog)
        except OSError as exc:
            raise from_os_error(exc) from None
        self.state = "listen-started"

    def finish_listen(self) -> None:
        self._finish("listen-started", "listening")

    def start_connect(self, network, address) -> None:
        self._require("unbound", "bound")
        sockaddr = to_host(address, self.family)
        if sockaddr[1] == 0 or is_unspecified(sockaddr):
            raise SocketError("invalid-argument")
        network.check(sockaddr, "connect", "tcp")
        error = self.sock.connect_ex(sockaddr)
        if error not in (0, errno.EINPROGRESS, errno.EAGAIN):
            self.state = "closed"
            raise from_os_error(OSError(error, "connect"))
        self.state = "connect-started"

    def finish_connect(self):
        if self.state != "connect-started":
            raise SocketError("not-in-progress")
        if not fd_ready(self.sock.fileno(), write=True):
            raise SocketError("would-block")
        error = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:
            self.state = "closed"
            raise from_os_error(OSError(error, "connect"))
        self.state = "connected"
        return TcpInputStream(self.shared), TcpOutputStream(self.shared)

    def accept(self):
        self._require("listening")
        try:
            client, _ = self.sock.accept()
        except OSError as exc:
            raise from_os_error(exc) from None
        client.setblocking(False)
        accepted = TcpSocket(client, "connected")
        return accepted, TcpInputStream(accepted.shared), TcpOutputStream(accepted.shared)

    # addresses and state
    def local_address(self):
        if self.state in ("unbound", "closed"):
            raise SocketError("invalid-state")
        return from_host(self.sock.getsockname(), self.family)

    def remote_address(self):
        self._require("connected")
        try:
            return from_host(self.sock.getpeername(), self.family)
        except OSError as exc:
            raise from_os_error(exc) from None

    def is_listening(self) -> bool:
        return self.state == "listening"

    def address_family(self) -> str:
        return family_label(self.family)

    def set_listen_backlog_size(self, value: int) -> None:
        if value == 0:
            raise SocketError("invalid-argument")
        if self.state in ("connect-started", "connected"):
            raise SocketError("invalid-state")
        self.backlog = min(value, 1 << 16)
        if self.state == "listening":
            self.sock.listen(self.backlog)

    def shutdown(self, how: str) -> None:
        self._require("connected")
        try:
            self.sock.shutdown({"receive": socket.SHUT_RD, "send": socket.SHUT_WR,
                                "both": socket.SHUT_RDWR}[how])
        except OSError as exc:
            raise from_os_error(exc) from None

    def pollable(self):
        def want():
            if self.state == "connect-started":
                return "write"
            if self.state == "listening":
                return "read"
            return None
        return SocketPollable(self.sock, want)


# options: (WIT name, level, option, to host, from host); durations are ns, the host's seconds
def _options(family: int):
    hop = ((socket.IPPROTO_IP, socket.IP_TTL) if family == socket.AF_INET
           else (socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS))
    seconds = (lambda ns: max(1, min(ns // NS, 32767)), lambda s: s * NS)
    same = (lambda v: v, lambda v: v)
    return {
        "keep-alive-enabled": (socket.SOL_SOCKET, socket.SO_KEEPALIVE,
                               lambda v: int(bool(v)), bool, False),
        "keep-alive-idle-time": (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, *seconds, True),
        "keep-alive-interval": (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, *seconds, True),
        "keep-alive-count": (socket.IPPROTO_TCP, socket.TCP_KEEPCNT,
                             lambda v: min(v, 127), int, True),
        "hop-limit": (*hop, *same, True),
        "receive-buffer-size": (socket.SOL_SOCKET, socket.SO_RCVBUF,
                                lambda v: min(v, 1 << 30), int, True),
        "send-buffer-size": (socket.SOL_SOCKET, socket.SO_SNDBUF,
                             lambda v: min(v, 1 << 30), int, True),
    }


def define_options(host: P2Host, iface: str, resource: str, options: dict) -> None:
    """`r.name()` and `r.set-name(v)` for each socket option (a zero where the WIT forbids it
    is invalid-argument)."""
    for name, (level, option, to_host_, from_host_, nonzero) in options.items():
        def getter(s, level=level, option=option, from_host_=from_host_):
            sock = host.get(resource, s).sock
            return socket_result(lambda: from_host_(sock.getsockopt(level, option)))

        def setter(s, value, level=level, option=option, to_host_=to_host_, nonzero=nonzero):
            sock = host.get(resource, s).sock

            def run():
                if nonzero and value == 0:
                    raise SocketError("invalid-argument")
                sock.setsockopt(level, option, to_host_(value))
            return socket_result(run)
        host.func(iface, f"[method]{resource}.{name}", getter)
        host.func(iface, f"[method]{resource}.set-{name}", setter)


def define(host: P2Host) -> None:
    iface = "wasi:sockets/tcp"
    host.resource(iface, "tcp-socket", TcpSocket)

    host.func("wasi:sockets/tcp-create-socket", "create-tcp-socket",
              socket_creator(host, "tcp-socket", TcpSocket, socket.SOCK_STREAM))

    def method(name, convert=lambda v: v, network=False):
        attr = name.replace("-", "_")

        def call(s, *args):
            obj = host.get("tcp-socket", s)
            if network:
                args = (host.get("network", args[0]),) + args[1:]
            return socket_result(lambda: convert(getattr(obj, attr)(*args)))
        host.func(iface, f"[method]tcp-socket.{name}", call)

    def streams(pair):
        return tuple(host.new(k, v) for k, v in zip(("input-stream", "output-stream"), pair))

    def accepted(triple):
        sock, i, o = triple
        return (host.new("tcp-socket", sock), host.new("input-stream", i),
                host.new("output-stream", o))
    for name in ("finish-bind", "start-listen", "finish-listen", "local-address",
                 "remote-address", "set-listen-backlog-size", "shutdown"):
        method(name)
    method("start-bind", network=True)
    method("start-connect", network=True)
    method("finish-connect", streams)
    method("accept", accepted)
    host.func(iface, "[method]tcp-socket.is-listening",
              lambda s: host.get("tcp-socket", s).is_listening())
    host.func(iface, "[method]tcp-socket.address-family",
              lambda s: host.get("tcp-socket", s).address_family())
    host.func(iface, "[method]tcp-socket.subscribe",
              lambda s: host.new_child("pollable", host.get("tcp-socket", s).pollable(),
                                       "tcp-socket", s))
    options = _options(socket.AF_INET)
    hop6 = _options(socket.AF_INET6)["hop-limit"]

    def per_family(s):   # hop-limit's option depends on the socket's family
        return hop6 if host.get("tcp-socket", s).family == socket.AF_INET6 else None
    define_options(host, iface, "tcp-socket", options)
    _family_hop_limit(host, iface, "tcp-socket", "hop-limit", per_family, options["hop-limit"])


def _family_hop_limit(host, iface, resource, name, per_family, v4) -> None:
    """Redefine `name`/`set-name` so that IPv6 sockets use the IPv6 option."""
    def getter(s):
        level, option, _, from_host_, _ = per_family(s) or v4
        sock = host.get(resource, s).sock
        return socket_result(lambda: from_host_(sock.getsockopt(level, option)))

    def setter(s, value):
        level, option, to_host_, _, _ = per_family(s) or v4
        sock = host.get(resource, s).sock

        def run():
            if value == 0:
                raise SocketError("invalid-argument")
            sock.setsockopt(level, option, to_host_(value))
        return socket_result(run)
    host.func(iface, f"[method]{resource}.{name}", getter)
    host.func(iface, f"[method]{resource}.set-{name}", setter)
