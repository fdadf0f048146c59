"""The capability broker (`WasiConfig(broker=...)`, pywamr/wasi/broker.py): one Python callback
approves or denies each filesystem open or change and each socket bind, listen, connect and
send-to, for preview-1 modules and WASI 0.2 components alike, on both engines.

The file program is tests/fixtures/wasi/src/broker.c, run as a preview-1 module
(tests/fixtures/wasi/broker.wasm) and as a command component (tests/fixtures/wasi_p2/
broker.wasm). Sockets use loopback only."""
from __future__ import annotations

import io
import os
import socket

import pytest

from pywamr import Engine
from pywamr.errors import WasiExit
from pywamr.wasi import FileRequest, SocketRequest, WasiConfig

from .p2_testlib import ENGINES, FIXTURES, P1_FIXTURES, require_wasm_tools, Host

ALL_APPROVED = b"""read public.txt: ok (7 bytes: public
)
read secret/key.txt: ok (4 bytes: key
)
read via ..: ok (7 bytes: public
)
create new.txt: ok (0 bytes)
append public.txt: ok (0 bytes)
mkdir made: ok
unlink public.txt: ok
rename public.txt: error errno=44 (No such file or directory)
stat secret/key.txt: ok
"""

DENIED = b"""read public.txt: ok (7 bytes: public
)
read secret/key.txt: error errno=2 (Permission denied)
read via ..: ok (7 bytes: public
)
create new.txt: error errno=2 (Permission denied)
append public.txt: error errno=2 (Permission denied)
mkdir made: error errno=2 (Permission denied)
unlink public.txt: error errno=2 (Permission denied)
rename public.txt: error errno=2 (Permission denied)
stat secret/key.txt: ok
"""
"""What broker.c prints when `_deny_secrets_and_writes` is the broker: reads outside
`secret/` pass, everything else is EACCES (errno 2 in wasi-libc), stat is not brokered."""


def _tree(root) -> None:
    (root / "secret").mkdir(parents=True)
    (root / "public.txt").write_bytes(b"public\n")
    (root / "secret" / "key.txt").write_bytes(b"key\n")


class Recorder:
    """A broker that records every request and applies `decide`."""

    def __init__(self, decide):
        self.decide = decide
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        return self.decide(request)


def _deny_secrets_and_writes(request) -> bool:
    if request.path.startswith("/sandbox/secret"):
        return False
    return request.operation == "open" and not (request.write or request.create
                                                or request.truncate)


def _run_module(engine_kind: str, config: WasiConfig) -> None:
    from pywamr.engine import Linker, Module
    from pywamr.wasi import add_to_linker
    engine = Engine(engine_kind)
    linker = Linker(engine)
    add_to_linker(linker, config)
    instance = linker.instantiate(None, Module(engine, (P1_FIXTURES / "broker.wasm").read_bytes()))
    try:
        instance.exports["_start"]()
    except WasiExit as exc:
        assert exc.status == 0


def _run_component(engine_kind: str, config: WasiConfig) -> None:
    from pywamr.component import Component, Linker
    from pywamr.wasi import p2
    engine = Engine(engine_kind)
    linker = Linker(engine)
    host = p2.add_to_linker(linker, config)
    try:
        instance = linker.instantiate(Component.from_file(engine, FIXTURES / "broker.wasm"))
        run = next(v for k, v in instance.exports.items() if k.startswith("wasi:cli/run@"))
        assert run["run"]() is None
    finally:
        host.close()


RUNNERS = {"preview1": _run_module, "preview2": _run_component}


def _run(kind, engine, tmp_path, broker):
    _tree(tmp_path / "tree")
    out = io.BytesIO()
    config = WasiConfig(argv=["broker.wasm", "/sandbox"], stdout=out, broker=broker)
    RUNNERS[kind](engine, config.preopen_dir(tmp_path / "tree", "/sandbox"))
    return out.getvalue()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", sorted(RUNNERS))
def test_without_a_denial_everything_runs(kind, engine, tmp_path):
    broker = Recorder(lambda request: True)
    assert _run(kind, engine, tmp_path, broker) == ALL_APPROVED
    assert (tmp_path / "tree" / "new.txt").exists() and (tmp_path / "tree" / "made").is_dir()
    opens = [r for r in broker.requests if r.operation == "open"]
    assert FileRequest("open", "/sandbox/secret/key.txt", read=True) in opens
    assert FileRequest("open", "/sandbox/public.txt", read=True) in opens
    assert any(r.path == "/sandbox/new.txt" and r.create and r.write for r in opens)
    assert FileRequest("create-directory", "/sandbox/made") in broker.requests
    assert FileRequest("unlink", "/sandbox/public.txt") in broker.requests
    assert FileRequest("rename", "/sandbox/public.txt", "/sandbox/moved.txt") in broker.requests


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", sorted(RUNNERS))
def test_denials_reach_the_guest_as_access_and_never_the_host(kind, engine, tmp_path):
    broker = Recorder(_deny_secrets_and_writes)
    assert _run(kind, engine, tmp_path, broker) == DENIED
    tree = tmp_path / "tree"
    assert sorted(os.listdir(tree)) == ["public.txt", "secret"]
    assert (tree / "public.txt").read_bytes() == b"public\n"
    # the ".." path is judged by where it leads, normalised
    assert FileRequest("open", "/sandbox/public.txt", read=True) in broker.requests
    assert not any(".." in r.path for r in broker.requests)


def test_a_broker_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        WasiConfig(broker="yes")


def test_anything_but_true_denies(tmp_path):
    """A broker returning a truthy non-bool (1, "yes") still denies: only True approves."""
    out = _run("preview1", "interp", tmp_path, lambda request: 1)
    assert out.count(b"Permission denied") == 8


def test_a_broker_that_raises_propagates_to_the_embedder(tmp_path):
    class Boom(Exception):
        pass

    def broker(request):
        raise Boom(request.path)

    with pytest.raises(Boom, match="/sandbox/public.txt"):
        _run("preview1", "interp", tmp_path, broker)


def test_the_broker_sees_where_a_path_leads_not_how_it_is_spelt(tmp_path):
    """Symbolic links inside the sandbox and `..` are resolved before the broker is asked,
    so an alias cannot slip a denied place past a path-prefix policy."""
    root = tmp_path / "tree"
    _tree(root)
    (root / "alias").symlink_to("secret")
    (root / "sub").mkdir()
    broker = Recorder(lambda request: not request.path.startswith("/sandbox/secret"))
    host = Host(WasiConfig(broker=broker).preopen_dir(root, "/sandbox"))
    [(d, _)] = host.call("wasi:filesystem/preopens", "get-directories")

    def open_at(descriptor, path, follow=True):
        flags = frozenset({"symlink-follow"}) if follow else frozenset()
        return host.call("wasi:filesystem/types", "[method]descriptor.open-at", descriptor,
                         flags, path, frozenset(), frozenset({"read"}))

    for path in ("alias/key.txt", "sub/../alias/key.txt", "alias/../secret/key.txt"):
        assert open_at(d, path) == ("error", "access"), path
        assert broker.requests[-1].path == "/sandbox/secret/key.txt"
    assert open_at(d, "alias") == ("error", "access")          # followed: the directory
    label, sub = open_at(d, "sub")
    assert label == "ok"
    (root / "sub" / "inner.txt").write_bytes(b"")
    label, inner = open_at(sub, "./inner.txt")                 # named from the preopen down
    assert label == "ok" and broker.requests[-1].path == "/sandbox/sub/inner.txt"
    asked = len(broker.requests)
    # above an opened directory is outside its sandbox: refused before the broker is asked
    assert open_at(sub, "../public.txt") == ("error", "not-permitted")
    assert len(broker.requests) == asked
    for rep in (inner, sub, d):
        host.drop("descriptor", rep)


# ---- sockets ---------------------------------------------------------------------------------

def _tcp_bind_wasm(tmp_path):
    import subprocess
    exe = require_wasm_tools()
    wasm = tmp_path / "tcp_bind.wasm"
    subprocess.run([exe, "parse", FIXTURES / "src" / "tcp_bind.wat", "-o", wasm], check=True)
    return wasm


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("approve, status", [(True, 2), (False, 11)])
def test_a_component_bind_is_brokered(approve, status, engine, tmp_path):
    """tcp_bind.wat binds 127.0.0.1:0 and exits 2 when bound, 11 when start-bind is
    access-denied (tests/wasi_p2/test_cli.py)."""
    from pywamr.component import Component, Linker
    from pywamr.wasi import p2
    wasm = _tcp_bind_wasm(tmp_path)
    broker = Recorder(lambda request: approve)
    eng = Engine(engine)
    linker = Linker(eng)
    host = p2.add_to_linker(linker, WasiConfig(allow_net=["127.0.0.1/32"], broker=broker))
    try:
        instance = linker.instantiate(Component.from_file(eng, wasm))
        run = next(v for k, v in instance.exports.items() if k.startswith("wasi:cli/run@"))
        with pytest.raises(WasiExit) as info:
            run["run"]()
    finally:
        host.close()
    assert info.value.status == status
    assert broker.requests == [SocketRequest("bind", "tcp", "127.0.0.1", 0)]


def _socket_host(broker):
    return Host(WasiConfig(allow_net=["127.0.0.1/32"], broker=broker))


def _tcp(host):
    status, rep = host.call("wasi:sockets/tcp-create-socket", "create-tcp-socket", "ipv4")
    assert status == "ok"
    return rep


def _ipv4(port, address=(127, 0, 0, 1)):
    return ("ipv4", {"port": port, "address": address})


def test_connect_listen_and_send_to_are_brokered():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    denied_port = port
    broker = Recorder(lambda r: not (r.operation in ("connect", "send") and r.port == denied_port))
    host = _socket_host(broker)
    network = host.call("wasi:sockets/instance-network", "instance-network")
    tcp = "wasi:sockets/tcp"
    sock = _tcp(host)
    assert host.call(tcp, "[method]tcp-socket.start-connect", sock, network, _ipv4(port)) == \
        ("error", "access-denied")
    assert broker.requests[-1] == SocketRequest("connect", "tcp", "127.0.0.1", port)
    listener.settimeout(0.05)
    with pytest.raises(socket.timeout):          # the host never connected
        listener.accept()
    listener.close()
    # listen: asked with the address the socket is bound to
    server = _tcp(host)
    assert host.call(tcp, "[method]tcp-socket.start-bind", server, network, _ipv4(0)) == \
        ("ok", None)
    assert host.call(tcp, "[method]tcp-socket.finish-bind", server) == ("ok", None)
    broker.decide = lambda r: r.operation != "listen"
    assert host.call(tcp, "[method]tcp-socket.start-listen", server) == \
        ("error", "access-denied")
    assert broker.requests[-1].operation == "listen"
    assert broker.requests[-1].address == "127.0.0.1" and broker.requests[-1].port > 0
    # udp send-to
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    udp_port = receiver.getsockname()[1]
    broker.decide = lambda r: not (r.operation == "send" and r.port == udp_port)
    status, udp = host.call("wasi:sockets/udp-create-socket", "create-udp-socket", "ipv4")
    assert status == "ok"
    udp_iface = "wasi:sockets/udp"
    assert host.call(udp_iface, "[method]udp-socket.start-bind", udp, network, _ipv4(0)) == \
        ("ok", None)
    assert host.call(udp_iface, "[method]udp-socket.finish-bind", udp) == ("ok", None)
    status, (incoming, outgoing) = host.call(udp_iface, "[method]udp-socket.stream", udp,
                                             ("none", None))
    assert status == "ok"
    assert host.call(udp_iface, "[method]outgoing-datagram-stream.check-send", outgoing)[0] == "ok"
    datagram = {"data": b"hi", "remote-address": ("some", _ipv4(udp_port))}
    assert host.call(udp_iface, "[method]outgoing-datagram-stream.send", outgoing,
                     [datagram]) == ("error", "access-denied")
    assert broker.requests[-1] == SocketRequest("send", "udp", "127.0.0.1", udp_port)
    receiver.settimeout(0.05)
    with pytest.raises(socket.timeout):          # nothing was sent
        receiver.recv(16)
    receiver.close()
