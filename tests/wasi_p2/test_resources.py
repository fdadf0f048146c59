"""Ownership and drop order of WASI 0.2 host resources: a pollable subscribed from a stream,
a socket or a name-lookup stream is that resource's child (wasi:io/streams.wit: "implementations
may trap if the parent is dropped before all derived pollables"); dropping the parent first
traps, as in wasmtime ("resource has children"). Resources the WIT does not make children
(streams of a file, a directory-entry stream) outlive their descriptor, as in wasmtime."""
from __future__ import annotations

import subprocess

import pytest

from pywamr.errors import Trap
from pywamr.wasi import WasiConfig

from .p2_testlib import ENGINES, FIXTURES, Host, require_wasm_tools, require_wasmtime, run_cli

S = "wasi:io/streams"


@pytest.mark.parametrize("engine", ENGINES)
def test_dropping_a_stream_before_its_pollable_traps_as_in_wasmtime(engine, tmp_path):
    exe = require_wasm_tools()
    wasm = tmp_path / "child_outlives_parent.wasm"
    subprocess.run([exe, "parse", FIXTURES / "src" / "child_outlives_parent.wat", "-o", wasm],
                   check=True)
    require_wasmtime()
    from .p2_oracle import run_wasmtime_component
    expected = run_wasmtime_component(wasm, ["child"])
    assert expected.trapped and "resource has children" in expected.trap_message, expected
    proc = run_cli("run", "--engine", engine, wasm)
    stderr = proc.stderr.decode()
    assert proc.returncode == 134, stderr
    assert "wasm trap: resource has children" in stderr and "Traceback" not in stderr


def _host():
    return Host(WasiConfig(stdin=b"data", allow_net=["127.0.0.1/32"]))


@pytest.mark.parametrize("parent, get", [("input-stream", "get-stdin"),
                                         ("output-stream", "get-stdout")])
def test_a_stream_with_a_live_pollable_cannot_be_dropped(parent, get):
    host = _host()
    stream = host.call(f"wasi:cli/{get[4:]}", get)
    pollable = host.call(S, f"[method]{parent}.subscribe", stream)
    with pytest.raises(Trap, match=f"resource has children: {parent}"):
        host.drop(parent, stream)
    host.drop("pollable", pollable)
    host.drop(parent, stream)           # children gone: the drop goes through
    assert not host.state.children and not host.state.parents


def test_two_pollables_both_hold_the_parent():
    host = _host()
    stream = host.call("wasi:cli/stdin", "get-stdin")
    first = host.call(S, "[method]input-stream.subscribe", stream)
    second = host.call(S, "[method]input-stream.subscribe", stream)
    host.drop("pollable", first)
    with pytest.raises(Trap, match="resource has children"):
        host.drop("input-stream", stream)
    host.drop("pollable", second)
    host.drop("input-stream", stream)


def test_a_socket_with_a_live_pollable_cannot_be_dropped():
    host = _host()
    status, sock = host.call("wasi:sockets/tcp-create-socket", "create-tcp-socket", "ipv4")
    assert status == "ok"
    pollable = host.call("wasi:sockets/tcp", "[method]tcp-socket.subscribe", sock)
    with pytest.raises(Trap, match="resource has children: tcp-socket"):
        host.drop("tcp-socket", sock)
    host.drop("pollable", pollable)
    host.drop("tcp-socket", sock)


def test_a_timer_pollable_has_no_parent():
    host = _host()
    pollable = host.call("wasi:clocks/monotonic-clock", "subscribe-duration", 0)
    assert ("pollable", pollable) not in host.state.parents
    host.drop("pollable", pollable)


def test_a_directory_entry_stream_outlives_its_descriptor(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"")
    host = Host(WasiConfig().preopen_dir(tmp_path, "/d"))
    [(d, _)] = host.call("wasi:filesystem/preopens", "get-directories")
    label, entries = host.call("wasi:filesystem/types", "[method]descriptor.read-directory", d)
    assert label == "ok"
    host.drop("descriptor", d)
    assert host.call("wasi:filesystem/types",
                     "[method]directory-entry-stream.read-directory-entry", entries) == (
        "ok", ("some", {"type": "regular-file", "name": "a.txt"}))
    host.drop("directory-entry-stream", entries)
