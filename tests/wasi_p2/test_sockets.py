"""Unit tests of `wasi:sockets` (tcp, udp, ip-name-lookup, the allow-lists), on 127.0.0.1
only, calling the host functions with canonical ABI values."""
from __future__ import annotations

import pytest

from pywamr.errors import Trap
from pywamr.wasi import WasiConfig

from .p2_testlib import COMPONENTS, Host, run_cli


TCP, UDP = "wasi:sockets/tcp", "wasi:sockets/udp"
S, POLL = "wasi:io/streams", "wasi:io/poll"


def v4(port, a=(127, 0, 0, 1)):
    return ("ipv4", {"port": port, "address": a})


def net(host):
    return host.call("wasi:sockets/instance-network", "instance-network")


def tcp(host, name, *args):
    return host.call(TCP, f"[method]tcp-socket.{name}", *args)


def new_tcp(host, family="ipv4"):
    label, s = host.call("wasi:sockets/tcp-create-socket", "create-tcp-socket", family)
    assert label == "ok", s
    return s


def wait(host, pollable):
    """Block until `pollable` is ready, then drop it (a pollable is its parent's child: the
    parent cannot be dropped while it lives)."""
    assert host.call(POLL, "poll", [pollable]) == [0]
    host.drop("pollable", pollable)


def listen(host, n):
    server = new_tcp(host)
    assert tcp(host, "start-bind", server, n, v4(0)) == ("ok", None)
    assert tcp(host, "finish-bind", server) == ("ok", None)
    assert tcp(host, "start-listen", server) == ("ok", None)
    assert tcp(host, "finish-listen", server) == ("ok", None)
    assert tcp(host, "is-listening", server) is True
    label, address = tcp(host, "local-address", server)
    return server, address[1]["port"]


def connect(host, n, port):
    client = new_tcp(host)
    assert tcp(host, "start-connect", client, n, v4(port)) == ("ok", None)
    pollable = tcp(host, "subscribe", client)
    while True:
        result = tcp(host, "finish-connect", client)
        if result != ("error", "would-block"):
            host.drop("pollable", pollable)
            return client, result
        host.call(POLL, "poll", [pollable])


@pytest.fixture
def allowed():
    return Host(WasiConfig(allow_net=["127.0.0.1/32"]))


def test_everything_is_denied_by_default():
    host = Host()
    n = net(host)
    for iface, name in (("wasi:sockets/tcp-create-socket", "create-tcp-socket"),
                        ("wasi:sockets/udp-create-socket", "create-udp-socket")):
        for family in ("ipv4", "ipv6"):
            assert host.call(iface, name, family) == ("error", "access-denied")
    assert host.call("wasi:sockets/ip-name-lookup", "resolve-addresses", n, "localhost") == (
        "error", "access-denied")


def test_only_the_allowed_networks_are_reachable(allowed):
    n = net(allowed)
    s = new_tcp(allowed)
    assert tcp(allowed, "start-connect", s, n, v4(80, (10, 0, 0, 1))) == (
        "error", "access-denied")
    assert tcp(allowed, "start-bind", s, n, v4(0, (0, 0, 0, 0))) == ("error", "access-denied")
    label, u = allowed.call("wasi:sockets/udp-create-socket", "create-udp-socket", "ipv4")
    assert allowed.call(UDP, "[method]udp-socket.start-bind", u, n, v4(0, (10, 0, 0, 1))) == (
        "error", "access-denied")


def test_tcp_echo_over_loopback(allowed):
    host, n = allowed, net(allowed)
    server, port = listen(host, n)
    client, result = connect(host, n, port)
    assert result[0] == "ok"
    c_in, c_out = result[1]
    wait(host, tcp(host, "subscribe", server))
    label, (conn, s_in, s_out) = tcp(host, "accept", server)
    assert label == "ok"
    assert tcp(host, "remote-address", conn) == tcp(host, "local-address", client)
    assert tcp(host, "remote-address", client)[1][1]["port"] == port
    assert host.call(S, "[method]output-stream.check-write", c_out)[1] > 0
    assert host.call(S, "[method]output-stream.blocking-write-and-flush", c_out, b"ping") == (
        "ok", None)
    assert host.call(S, "[method]input-stream.blocking-read", s_in, 100) == ("ok", b"ping")
    assert host.call(S, "[method]input-stream.read", s_in, 100) == ("ok", b"")
    assert host.call(S, "[method]output-stream.write", s_out, b"pong") == ("ok", None)
    wait(host, host.call(S, "[method]input-stream.subscribe", c_in))
    assert host.call(S, "[method]input-stream.read", c_in, 100) == ("ok", b"pong")
    assert tcp(host, "shutdown", client, "send") == ("ok", None)
    assert host.call(S, "[method]input-stream.blocking-read", s_in, 100) == (
        "error", ("closed", None))
    for kind, rep in (("input-stream", c_in), ("output-stream", c_out), ("tcp-socket", client),
                      ("input-stream", s_in), ("output-stream", s_out), ("tcp-socket", conn),
                      ("tcp-socket", server)):
        host.drop(kind, rep)


def test_connection_refused(allowed):
    host, n = allowed, net(allowed)
    server, port = listen(host, n)
    host.drop("tcp-socket", server)         # nobody listens on `port` any more
    client, result = connect(host, n, port)
    assert result == ("error", "connection-refused")


def test_tcp_states_and_arguments(allowed):
    host, n = allowed, net(allowed)
    s = new_tcp(host)
    assert tcp(host, "finish-bind", s) == ("error", "not-in-progress")
    assert tcp(host, "start-listen", s) == ("error", "invalid-state")
    assert tcp(host, "accept", s) == ("error", "invalid-state")
    assert tcp(host, "local-address", s) == ("error", "invalid-state")
    assert tcp(host, "start-connect", s, n, v4(0)) == ("error", "invalid-argument")
    assert tcp(host, "start-connect", s, n, v4(80, (0, 0, 0, 0))) == ("error", "invalid-argument")
    assert tcp(host, "address-family", s) == "ipv4"
    six = new_tcp(host, "ipv6")
    assert tcp(host, "start-bind", six, n, v4(0)) == ("error", "invalid-argument")
    assert tcp(host, "address-family", six) == "ipv6"
    assert tcp(host, "set-listen-backlog-size", s, 0) == ("error", "invalid-argument")
    assert tcp(host, "set-listen-backlog-size", s, 10) == ("ok", None)


def test_tcp_options(allowed):
    host = allowed
    s = new_tcp(host)
    assert tcp(host, "set-keep-alive-enabled", s, True) == ("ok", None)
    assert tcp(host, "keep-alive-enabled", s) == ("ok", True)
    assert tcp(host, "set-keep-alive-idle-time", s, 30 * 10**9) == ("ok", None)
    assert tcp(host, "keep-alive-idle-time", s) == ("ok", 30 * 10**9)
    assert tcp(host, "set-keep-alive-count", s, 0) == ("error", "invalid-argument")
    assert tcp(host, "set-hop-limit", s, 0) == ("error", "invalid-argument")
    assert tcp(host, "set-hop-limit", s, 17) == ("ok", None)
    assert tcp(host, "hop-limit", s) == ("ok", 17)
    assert tcp(host, "set-receive-buffer-size", s, 65536) == ("ok", None)
    assert tcp(host, "receive-buffer-size", s)[1] >= 65536
    six = new_tcp(host, "ipv6")
    assert tcp(host, "set-hop-limit", six, 9) == ("ok", None)
    assert tcp(host, "hop-limit", six) == ("ok", 9)


def udp(host, resource, name, *args):
    return host.call(UDP, f"[method]{resource}.{name}", *args)


def test_udp_datagrams_over_loopback(allowed):
    host, n = allowed, net(allowed)
    sockets = []
    for _ in range(2):
        label, u = host.call("wasi:sockets/udp-create-socket", "create-udp-socket", "ipv4")
        assert udp(host, "udp-socket", "start-bind", u, n, v4(0)) == ("ok", None)
        assert udp(host, "udp-socket", "finish-bind", u) == ("ok", None)
        sockets.append(u)
    a, b = sockets
    a_addr = udp(host, "udp-socket", "local-address", a)[1]
    b_addr = udp(host, "udp-socket", "local-address", b)[1]
    label, (a_in, a_out) = udp(host, "udp-socket", "stream", a, ("none", None))
    label, (b_in, b_out) = udp(host, "udp-socket", "stream", b, ("some", a_addr))
    assert udp(host, "udp-socket", "remote-address", b) == ("ok", a_addr)
    assert udp(host, "udp-socket", "remote-address", a) == ("error", "invalid-state")
    with pytest.raises(Trap):      # nothing granted by check-send yet
        udp(host, "outgoing-datagram-stream", "send", b_out,
            [{"data": b"x", "remote-address": ("none", None)}])
    assert udp(host, "outgoing-datagram-stream", "check-send", b_out)[1] >= 2
    assert udp(host, "outgoing-datagram-stream", "send", b_out,
               [{"data": b"one", "remote-address": ("none", None)},
                {"data": b"two", "remote-address": ("some", a_addr)}]) == ("ok", 2)
    pollable = udp(host, "incoming-datagram-stream", "subscribe", a_in)
    got = []
    while len(got) < 2:
        host.call(POLL, "poll", [pollable])
        got += udp(host, "incoming-datagram-stream", "receive", a_in, 10)[1]
    assert [(d["data"], d["remote-address"]) for d in got] == [(b"one", b_addr),
                                                               (b"two", b_addr)]
    udp(host, "outgoing-datagram-stream", "check-send", a_out)
    assert udp(host, "outgoing-datagram-stream", "send", a_out,
               [{"data": b"x", "remote-address": ("none", None)}]) == (
        "error", "invalid-argument")
    assert udp(host, "outgoing-datagram-stream", "send", a_out,
               [{"data": b"x", "remote-address": ("some", v4(9, (10, 1, 2, 3)))}]) == (
        "error", "access-denied")


def test_name_lookup():
    host = Host(WasiConfig(allow_dns=True))     # names only: sockets stay denied
    n = net(host)
    lookup = "wasi:sockets/ip-name-lookup"

    def resolve(name):
        label, stream = host.call(lookup, "resolve-addresses", n, name)
        if label == "error":
            return label, stream
        found = []
        while True:
            label, item = host.call(lookup, "[method]resolve-address-stream.resolve-next-address",
                                    stream)
            if label == "error":
                return label, item
            if item[0] == "none":
                return "ok", found
            found.append(item[1])
    assert resolve("127.0.0.1") == ("ok", [("ipv4", (127, 0, 0, 1))])
    assert resolve("::1") == ("ok", [("ipv6", (0, 0, 0, 0, 0, 0, 0, 1))])
    assert resolve("") == ("error", "invalid-argument")
    assert resolve("bad name") == ("error", "invalid-argument")
    label, found = resolve("localhost")      # /etc/hosts: no query leaves the machine
    assert label == "ok" and found and set(found) <= {("ipv4", (127, 0, 0, 1)),
                                                     ("ipv6", (0, 0, 0, 0, 0, 0, 0, 1))}


def test_ip_literals_resolve_without_dns_permission():
    host = Host()
    label, stream = host.call("wasi:sockets/ip-name-lookup", "resolve-addresses", net(host),
                              "10.1.2.3")
    assert label == "ok"


def test_a_bad_allow_net_is_a_clear_cli_error():
    proc = run_cli("run", "--allow-net", "not-a-network", COMPONENTS / "composed.wasm")
    assert proc.returncode == 1
    assert b"--allow-net not-a-network" in proc.stderr and b"Traceback" not in proc.stderr


def test_out_of_range_socket_arguments_are_errors_not_crashes():
    host = Host(WasiConfig(allow_net=["127.0.0.1/32", "::1/128"]))
    n = net(host)
    six = new_tcp(host, "ipv6")
    bad = ("ipv6", {"port": 1, "flow-info": 2**32 - 1, "address": (0, 0, 0, 0, 0, 0, 0, 1),
                    "scope-id": 0})
    assert tcp(host, "start-connect", six, n, bad) == ("error", "invalid-argument")
    s = new_tcp(host)
    assert tcp(host, "set-receive-buffer-size", s, 2**64 - 1) == ("ok", None)
    assert tcp(host, "set-keep-alive-idle-time", s, 2**64 - 1) == ("ok", None)
