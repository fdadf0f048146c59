"""`wasi:sockets`: network, instance-network, ip-name-lookup, and the shared socket helpers.

Part of the WASI 0.2 host (`pywamr.wasi.p2`); `sockets_tcp.py` and `sockets_udp.py` hold the
socket resources. Every socket is denied by default: without any `WasiConfig.allow_net` network
(`pywamr run --allow-net CIDR`) creating a socket is `access-denied` (as in wasmtime); with
some, a guest may bind, connect or send only to addresses inside them; it may resolve names
only with `allow_dns` (`--allow-dns`); anything else is `access-denied`. Host sockets are
non-blocking; waiting is `wasi:io/poll`'s job.

Spec: wasi-0.2.12/sockets/*.wit. Name lookup runs `getaddrinfo` when the guest asks (the
stream's pollable is then always ready); datagram streams cannot be disconnected again
(`not-supported`), since Python offers no `connect(AF_UNSPEC)`.
"""
from __future__ import annotations

import ipaddress
import socket

from ..broker import SocketRequest, approves
from ..errors import ErrorCode, WasiError, code_from_os_error
from .host import P2Host
from .io import IoError, Pollable, fd_ready

NETWORK_ERRORS = {
    ErrorCode.ACCESS: "access-denied", ErrorCode.NOT_PERMITTED: "access-denied",
    ErrorCode.NOT_SUPPORTED: "not-supported",
    ErrorCode.ADDRESS_FAMILY_NOT_SUPPORTED: "not-supported",
    ErrorCode.PROTOCOL_NOT_SUPPORTED: "not-supported", ErrorCode.INVALID: "invalid-argument",
    ErrorCode.NO_MEMORY: "out-of-memory", ErrorCode.NO_BUFFER_SPACE: "out-of-memory",
    ErrorCode.TIMED_OUT: "timeout", ErrorCode.ALREADY: "concurrency-conflict",
    ErrorCode.AGAIN: "would-block", ErrorCode.TOO_MANY_FILES: "new-socket-limit",
    ErrorCode.TOO_MANY_FILES_IN_SYSTEM: "new-socket-limit",
    ErrorCode.ADDRESS_NOT_AVAILABLE: "address-not-bindable",
    ErrorCode.ADDRESS_IN_USE: "address-in-use",
    ErrorCode.HOST_UNREACHABLE: "remote-unreachable",
    ErrorCode.NETWORK_UNREACHABLE: "remote-unreachable",
    ErrorCode.NETWORK_DOWN: "remote-unreachable",
    ErrorCode.CONNECTION_REFUSED: "connection-refused",
    ErrorCode.CONNECTION_RESET: "connection-reset",
    ErrorCode.CONNECTION_ABORTED: "connection-aborted",
    ErrorCode.MESSAGE_SIZE: "datagram-too-large",
}
"""Core error codes as `wasi:sockets/network`'s `error-code` labels (otherwise `unknown`)."""


class SocketError(Exception):
    """A socket operation failed with the network `error-code` label `code`."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def from_os_error(error: OSError) -> SocketError:
    if isinstance(error, BlockingIOError):
        return SocketError("would-block")
    return SocketError(NETWORK_ERRORS.get(code_from_os_error(error), "unknown"))


def socket_result(fn, *args):
    """`result<T, error-code>` of calling `fn`."""
    try:
        return ("ok", fn(*args))
    except SocketError as exc:
        return ("error", exc.code)
    except OSError as exc:
        return ("error", from_os_error(exc).code)
    except WasiError as exc:
        return ("error", NETWORK_ERRORS.get(exc.code, "unknown"))
    except (OverflowError, ValueError):
        # a value the host's socket calls refuse (flow-info beyond 20 bits, for one)
        return ("error", "invalid-argument")


# ---- policy and addresses ------------------------------------------------------------------------

class Network:
    """The `network` resource: what the guest may reach (the config's allow-lists)."""

    __slots__ = ("allowed", "dns", "broker")

    def __init__(self, allowed: list, dns: bool, broker=None):
        self.allowed = allowed
        self.dns = dns
        self.broker = broker

    @classmethod
    def from_config(cls, config) -> "Network":
        return cls([ipaddress.ip_network(c, strict=False) for c in config.allow_net],
                   config.allow_dns, config.broker)

    def check(self, sockaddr: tuple, operation: str, protocol: str) -> None:
        """Raise access-denied unless the host address `sockaddr` lies in an allowed network
        and the capability broker (if any) approves `operation` ("bind", "connect", "send")
        of a `protocol` ("tcp", "udp") socket on it."""
        address = sockaddr[0].split("%", 1)[0]
        ip = ipaddress.ip_address(address)
        if not any(ip.version == net.version and ip in net for net in self.allowed):
            raise SocketError("access-denied")
        if not approves(self.broker, SocketRequest(operation, protocol, address, sockaddr[1])):
            raise SocketError("access-denied")


FAMILIES = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}


def family_label(family: int) -> str:
    return "ipv4" if family == socket.AF_INET else "ipv6"


def to_host(address, family: int) -> tuple:
    """An `ip-socket-address` as a Python sockaddr for a socket of `family`; the wrong
    family (an IPv4-mapped IPv6 address included) is invalid-argument."""
    label, fields = address
    if FAMILIES.get(label) != family:
        raise SocketError("invalid-argument")
    if label == "ipv4":
        return (".".join(str(b) for b in fields["address"]), fields["port"])
    ip = ipaddress.IPv6Address(b"".join(w.to_bytes(2, "big") for w in fields["address"]))
    if ip.ipv4_mapped is not None:
        raise SocketError("invalid-argument")
    return (str(ip), fields["port"], fields["flow-info"], fields["scope-id"])


def from_host(sockaddr: tuple, family: int):
    """A Python sockaddr as an `ip-socket-address`."""
    if family == socket.AF_INET:
        host, port = sockaddr[:2]
        return ("ipv4", {"port": port, "address": tuple(int(b) for b in host.split("."))})
    host, port, flow, scope = sockaddr
    packed = ipaddress.IPv6Address(host.split("%", 1)[0]).packed
    words = tuple(int.from_bytes(packed[i:i + 2], "big") for i in range(0, 16, 2))
    return ("ipv6", {"port": port, "flow-info": flow, "address": words, "scope-id": scope})


def ip_address_value(text: str):
    """An `ip-address` variant from an address string."""
    ip = ipaddress.ip_address(text.split("%", 1)[0])
    if ip.version == 4:
        return ("ipv4", tuple(ip.packed))
    return ("ipv6", tuple(int.from_bytes(ip.packed[i:i + 2], "big") for i in range(0, 16, 2)))


def is_unspecified(sockaddr: tuple) -> bool:
    return ipaddress.ip_address(sockaddr[0].split("%", 1)[0]).is_unspecified


def new_host_socket(family_label_: str, kind: int) -> socket.socket:
    family = FAMILIES[family_label_]
    try:
        sock = socket.socket(family, kind)
    except OSError as exc:
        raise from_os_error(exc) from None
    sock.setblocking(False)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    return sock


def socket_creator(host: P2Host, resource: str, cls, kind: int):
    """`create-tcp-socket` / `create-udp-socket`: a new host socket of `kind` wrapped in
    `cls` as the resource `resource`; with no network granted at all, `access-denied` (as
    wasmtime)."""
    def create(family: str):
        if family not in FAMILIES:
            return ("error", "not-supported")
        if not host.config.allow_net:
            return ("error", "access-denied")
        return socket_result(lambda: host.new(resource, cls(new_host_socket(family, kind))))
    return create


class SocketPollable(Pollable):
    """Ready when the socket is readable (or writable) according to `want()`, which returns
    None (ready now), "read" or "write"."""

    __slots__ = ("sock", "want")

    def __init__(self, sock, want):
        self.sock = sock
        self.want = want

    def ready(self) -> bool:
        direction = self.want()
        return direction is None or fd_ready(self.sock.fileno(), direction == "write")

    def host_fd(self):
        direction = self.want()
        if direction is None or self.sock.fileno() < 0:
            return None
        return self.sock.fileno(), direction == "write"


# ---- wasi:sockets/ip-name-lookup --------------------------------------------------------------

class ResolveAddressStream:
    """The `resolve-address-stream` resource: addresses found (or the error) at creation."""

    __slots__ = ("addresses", "error")

    def __init__(self, addresses: list, error: str | None):
        self.addresses = addresses
        self.error = error

    def next(self):
        if self.error is not None:
            error, self.error = self.error, None
            raise SocketError(error)
        if not self.addresses:
            return ("none", None)
        return ("some", self.addresses.pop(0))


def resolve(network: Network, name: str) -> ResolveAddressStream:
    try:
        return ResolveAddressStream([ip_address_value(name.strip("[]"))], None)
    except ValueError:
        pass
    if not name or len(name) > 253 or any(c.isspace() or c in "/\\:@%" for c in name):
        raise SocketError("invalid-argument")
    try:
        name.encode("idna")
    except UnicodeError:
        raise SocketError("invalid-argument") from None
    if not network.dns:
        raise SocketError("access-denied")
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        code = {socket.EAI_NONAME: "name-unresolvable",
                socket.EAI_AGAIN: "temporary-resolver-failure"}.get(exc.errno,
                                                                     "permanent-resolver-failure")
        return ResolveAddressStream([], code)
    seen, found = set(), []
    for _, _, _, _, sockaddr in infos:
        if sockaddr[0] not in seen:
            seen.add(sockaddr[0])
            found.append(ip_address_value(sockaddr[0]))
    return ResolveAddressStream(found, None)


# ---- the definitions ---------------------------------------------------------------------------

def define(host: P2Host) -> None:
    from . import sockets_tcp, sockets_udp
    host.resource("wasi:sockets/network", "network", Network)
    host.resource("wasi:sockets/ip-name-lookup", "resolve-address-stream", ResolveAddressStream)
    host.func("wasi:sockets/instance-network", "instance-network",
              lambda: host.new("network", Network.from_config(host.config)))

    def network_error_code(e):
        error = host.get("error", e)
        code = NETWORK_ERRORS.get(error.code) if isinstance(error, IoError) else None
        return ("none", None) if code is None else ("some", code)
    host.func("wasi:sockets/network", "network-error-code", network_error_code)

    lookup = "wasi:sockets/ip-name-lookup"
    host.func(lookup, "resolve-addresses", lambda n, name: socket_result(
        lambda: host.new("resolve-address-stream", resolve(host.get("network", n), name))))
    host.func(lookup, "[method]resolve-address-stream.resolve-next-address",
              lambda s: socket_result(host.get("resolve-address-stream", s).next))
    host.func(lookup, "[method]resolve-address-stream.subscribe",
              lambda s: host.new_child("pollable", Pollable(), "resolve-address-stream", s))
    sockets_tcp.define(host)
    sockets_udp.define(host)
