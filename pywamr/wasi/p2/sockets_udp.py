"""`wasi:sockets/udp` and `udp-create-socket`: the `udp-socket` resource and its datagram
streams.

Part of the WASI 0.2 host's sockets (`sockets.py` has the policy, addresses and errors).
A socket is bound (`start-bind`/`finish-bind`), then `stream(remote)` gives the incoming and
outgoing datagram streams, optionally connected to `remote`. Every destination a datagram is
sent to must lie in an allowed network (`access-denied` otherwise).

Spec: wasi-0.2.12/sockets/udp.wit. Not supported: un-connecting a connected socket with
`stream(none)` (`not-supported`).
"""
from __future__ import annotations

import socket

from ...errors import Trap, TrapCode
from .host import P2Host
from .io import fd_ready
from .sockets import (SocketError, SocketPollable, family_label, from_host, from_os_error,
                      is_unspecified, socket_creator, socket_result, to_host)
from .sockets_tcp import SharedSocket, _family_hop_limit, define_options

MAX_DATAGRAMS = 64
"""The most datagrams one `receive` returns and one `send` accepts (`check-send`)."""

MAX_DATAGRAM = 65535


class UdpSocket:
    """The `udp-socket` resource."""

    __slots__ = ("shared", "family", "state", "remote", "network")

    def __init__(self, sock: socket.socket):
        self.shared = SharedSocket(sock)
        self.family = sock.family
        self.state = "unbound"
        self.remote = None
        self.network = None

    @property
    def sock(self) -> socket.socket:
        return self.shared.sock

    def drop(self) -> None:
        self.shared.release()

    def start_bind(self, network, address) -> None:
        if self.state != "unbound":
            raise SocketError("invalid-state")
        sockaddr = to_host(address, self.family)
        network.check(sockaddr, "bind", "udp")
        try:
            self.sock.bind(sockaddr)
        except OSError as exc:
            raise from_os_error(exc) from None
        self.network = network
        self.state = "bind-started"

    def finish_bind(self) -> None:
        if self.state != "bind-started":
            raise SocketError("not-in-progress")
        self.state = "bound"

    def stream(self, remote):
        if self.state != "bound":
            raise SocketError("invalid-state")
        if remote[0] == "some":
            sockaddr = to_host(remote[1], self.family)
            if sockaddr[1] == 0 or is_unspecified(sockaddr):
                raise SocketError("invalid-argument")
            self.network.check(sockaddr, "connect", "udp")
            try:
                self.sock.connect(sockaddr)
            except OSError as exc:
                raise from_os_error(exc) from None
            self.remote = sockaddr
        elif self.remote is not None:
            raise SocketError("not-supported")
        return IncomingDatagramStream(self), OutgoingDatagramStream(self)

    def local_address(self):
        if self.state == "unbound":
            raise SocketError("invalid-state")
        return from_host(self.sock.getsockname(), self.family)

    def remote_address(self):
        if self.remote is None:
            raise SocketError("invalid-state")
        return from_host(self.sock.getpeername(), self.family)

    def address_family(self) -> str:
        return family_label(self.family)

    def pollable(self):
        return SocketPollable(self.sock, lambda: None)


class IncomingDatagramStream:
    """The `incoming-datagram-stream` resource."""

    __slots__ = ("owner", "shared")

    def __init__(self, owner: UdpSocket):
        self.owner = owner
        self.shared = owner.shared.acquire()

    def drop(self) -> None:
        self.shared.release()

    def receive(self, max_results: int) -> list:
        received = []
        while len(received) < min(max_results, MAX_DATAGRAMS):
            try:
                data, sender = self.shared.sock.recvfrom(MAX_DATAGRAM)
            except BlockingIOError:
                break
            except OSError as exc:
                if received:
                    break
                raise from_os_error(exc) from None
            received.append({"data": data,
                             "remote-address": from_host(sender, self.owner.family)})
        return received

    def pollable(self):
        return SocketPollable(self.shared.sock, lambda: "read")


class OutgoingDatagramStream:
    """The `outgoing-datagram-stream` resource: `check-send` grants, `send` spends."""

    __slots__ = ("owner", "shared", "permit")

    def __init__(self, owner: UdpSocket):
        self.owner = owner
        self.shared = owner.shared.acquire()
        self.permit = 0

    def drop(self) -> None:
        self.shared.release()

    def check_send(self) -> int:
        writable = fd_ready(self.shared.sock.fileno(), write=True)
        self.permit = MAX_DATAGRAMS if writable else 0
        return self.permit

    def send(self, datagrams: list) -> int:
        if len(datagrams) > self.permit:
            raise Trap(TrapCode.HOST, f"wasi:sockets/udp: send of {len(datagrams)} datagrams "
                                      f"exceeds the {self.permit} check-send permitted")
        sent = 0
        for datagram in datagrams:
            try:
                self._send_one(datagram)
            except (SocketError, OSError) as exc:
                if sent:
                    break
                raise exc if isinstance(exc, SocketError) else from_os_error(exc) from None
            sent += 1
        self.permit -= sent
        return sent

    def _send_one(self, datagram: dict) -> None:
        owner, remote = self.owner, datagram["remote-address"]
        data = bytes(datagram["data"])
        if remote[0] == "none":
            if owner.remote is None:
                raise SocketError("invalid-argument")
            self.shared.sock.send(data)
            return
        sockaddr = to_host(remote[1], owner.family)
        if owner.remote is not None and sockaddr[:2] != owner.remote[:2]:
            raise SocketError("invalid-argument")
        if sockaddr[1] == 0 or is_unspecified(sockaddr):
            raise SocketError("invalid-argument")
        owner.network.check(sockaddr, "send", "udp")
        if owner.remote is not None:
            self.shared.sock.send(data)
        else:
            self.shared.sock.sendto(data, sockaddr)

    def pollable(self):
        return SocketPollable(self.shared.sock, lambda: "write")


def define(host: P2Host) -> None:
    iface = "wasi:sockets/udp"
    host.resource(iface, "udp-socket", UdpSocket)
    host.resource(iface, "incoming-datagram-stream", IncomingDatagramStream)
    host.resource(iface, "outgoing-datagram-stream", OutgoingDatagramStream)

    host.func("wasi:sockets/udp-create-socket", "create-udp-socket",
              socket_creator(host, "udp-socket", UdpSocket, socket.SOCK_DGRAM))

    def method(resource, name, convert=lambda v: v, network=False):
        attr = name.replace("-", "_")

        def call(s, *args):
            obj = host.get(resource, s)
            if network:
                args = (host.get("network", args[0]),) + args[1:]
            return socket_result(lambda: convert(getattr(obj, attr)(*args)))
        host.func(iface, f"[method]{resource}.{name}", call)

    def streams(pair):
        return (host.new("incoming-datagram-stream", pair[0]),
                host.new("outgoing-datagram-stream", pair[1]))
    method("udp-socket", "start-bind", network=True)
    method("udp-socket", "finish-bind")
    method("udp-socket", "stream", streams)
    method("udp-socket", "local-address")
    method("udp-socket", "remote-address")
    method("incoming-datagram-stream", "receive")
    method("outgoing-datagram-stream", "check-send")
    method("outgoing-datagram-stream", "send")
    host.func(iface, "[method]udp-socket.address-family",
              lambda s: host.get("udp-socket", s).address_family())
    for resource in ("udp-socket", "incoming-datagram-stream", "outgoing-datagram-stream"):
        host.func(iface, f"[method]{resource}.subscribe",
                  lambda s, r=resource: host.new_child("pollable", host.get(r, s).pollable(),
                                                       r, s))
    from .sockets_tcp import _options
    options = _options(socket.AF_INET)
    define_options(host, iface, "udp-socket",
                   {k: options[k] for k in ("receive-buffer-size", "send-buffer-size")})
    hop6 = _options(socket.AF_INET6)["hop-limit"]
    _family_hop_limit(host, iface, "udp-socket", "unicast-hop-limit",
                      lambda s: hop6 if host.get("udp-socket", s).family == socket.AF_INET6
                      else None, options["hop-limit"])
