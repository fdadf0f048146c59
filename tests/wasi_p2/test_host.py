"""Unit tests of the WASI 0.2 host functions, called as the canonical ABI would call them
(reps in, canonical values out), without a guest: poll, streams, clocks, random, cli,
filesystem. The real-component path is covered by test_differential.py and test_cli.py."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from pywamr.errors import Trap, WasiExit
from pywamr.wasi import WasiConfig, p2
from pywamr.wasi.streams import HostFdInput

from .p2_testlib import Host


def test_every_import_of_the_cli_world_is_defined():
    host = Host()
    wit = _wit_reference()
    if wit is None:
        pytest.skip("the WASI 0.2.12 WIT reference is not on this machine "
                    "(set PYWAMR_WASI_WIT to its directory)")
    missing = []
    for iface, pkg in [("environment", "cli"), ("exit", "cli"), ("stdin", "cli"),
                       ("stdout", "cli"), ("stderr", "cli"), ("terminal-stdin", "cli"),
                       ("terminal-stdout", "cli"), ("terminal-stderr", "cli"),
                       ("streams", "io"), ("poll", "io"), ("error", "io"),
                       ("monotonic-clock", "clocks"), ("wall-clock", "clocks"),
                       ("random", "random"), ("insecure", "random"),
                       ("insecure-seed", "random"), ("types", "filesystem"),
                       ("preopens", "filesystem"), ("network", "sockets"),
                       ("instance-network", "sockets"), ("ip-name-lookup", "sockets"),
                       ("tcp", "sockets"), ("tcp-create-socket", "sockets"),
                       ("udp", "sockets"), ("udp-create-socket", "sockets")]:
        defined = host.linker.definitions.get(f"wasi:{pkg}/{iface}@{p2.VERSION}", {})
        for name in _wit_functions(wit, pkg, iface):
            if name not in defined:
                missing.append(f"wasi:{pkg}/{iface}#{name}")
    assert not missing, missing


def _wit_reference() -> Path | None:
    """The directory of the WASI 0.2.12 WIT files (shared/reference beside the checkout)."""
    root = Path(__file__).resolve().parents[2]
    for candidate in (os.environ.get("PYWAMR_WASI_WIT"),
                      root.parent / "shared" / "reference" / "wasi-0.2.12",
                      root.parent.parent / "shared" / "reference" / "wasi-0.2.12"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def _wit_functions(root: Path, package: str, iface: str) -> list[str]:
    """Function names of one interface, read from the WIT text ([method]r.m for methods)."""
    import re
    text = "".join(p.read_text() for p in (root / package).glob("*.wit"))
    body = re.search(r"interface " + re.escape(iface) + r" \{(.*?)\n\}", text, re.S).group(1)
    names, resource = [], None
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("///") or line.startswith("@"):
            continue
        m = re.match(r"resource ([\w-]+) \{", line)
        if m:
            resource = m.group(1)
            continue
        if line == "}":
            resource = None
            continue
        m = re.match(r"(%?[\w-]+): (static )?func\(", line)
        if m:
            fname = m.group(1).lstrip("%")
            if resource is None:
                names.append(fname)
            elif m.group(2):
                names.append(f"[static]{resource}.{fname}")
            else:
                names.append(f"[method]{resource}.{fname}")
        elif re.match(r"constructor\(", line) and resource:
            names.append(f"[constructor]{resource}")
    assert names, f"no functions found in the WIT of {package}/{iface}"
    return names


# ---- wasi:cli ---------------------------------------------------------------------------------

def test_environment_arguments_and_cwd():
    host = Host(WasiConfig(argv=["prog", "a b"], env={"X": "1", "Y": "é"}))
    assert host.call("wasi:cli/environment", "get-arguments") == ["prog", "a b"]
    assert host.call("wasi:cli/environment", "get-environment") == [("X", "1"), ("Y", "é")]
    assert host.call("wasi:cli/environment", "initial-cwd") == ("none", None)


@pytest.mark.parametrize("call, status", [(("exit", ("ok", None)), 0),
                                          (("exit", ("error", None)), 1),
                                          (("exit-with-code", 0), 0),
                                          (("exit-with-code", 42), 42),
                                          (("exit-with-code", 255), 255)])
def test_exit_raises_wasi_exit_with_the_status(call, status):
    with pytest.raises(WasiExit) as info:
        Host().call("wasi:cli/exit", *call)
    assert info.value.status == status


def test_stdout_and_stderr_write_through(tmp_path):
    import io
    out, err = io.BytesIO(), io.StringIO()
    host = Host(WasiConfig(stdout=out, stderr=err))
    s = host.call("wasi:cli/stdout", "get-stdout")
    e = host.call("wasi:cli/stderr", "get-stderr")
    streams = "wasi:io/streams"
    budget = host.call(streams, "[method]output-stream.check-write", s)
    assert budget[0] == "ok" and budget[1] >= 4096
    assert host.call(streams, "[method]output-stream.write", s, b"hello ") == ("ok", None)
    assert host.call(streams, "[method]output-stream.blocking-write-and-flush", s,
                     b"world\n") == ("ok", None)
    assert host.call(streams, "[method]output-stream.write-zeroes", s, 3) == ("ok", None)
    assert host.call(streams, "[method]output-stream.blocking-write-zeroes-and-flush", s,
                     2) == ("ok", None)
    assert host.call(streams, "[method]output-stream.flush", s) == ("ok", None)
    assert host.call(streams, "[method]output-stream.blocking-flush", s) == ("ok", None)
    assert out.getvalue() == b"hello world\n\0\0\0\0\0"
    host.call(streams, "[method]output-stream.write", e, "☃".encode()[:2])
    host.call(streams, "[method]output-stream.write", e, "☃".encode()[2:])
    assert err.getvalue() == "☃"


def test_writes_beyond_what_is_permitted_trap():
    host = Host(WasiConfig(stdout=__import__("io").BytesIO()))
    s = host.call("wasi:cli/stdout", "get-stdout")
    with pytest.raises(Trap):
        host.call("wasi:io/streams", "[method]output-stream.blocking-write-and-flush", s,
                  bytes(4097))
    with pytest.raises(Trap):
        host.call("wasi:io/streams", "[method]output-stream.blocking-write-zeroes-and-flush",
                  s, 1 << 40)
    with pytest.raises(Trap):
        host.call("wasi:io/streams", "[method]output-stream.write-zeroes", s, 1 << 40)


def test_stdin_read_skip_and_end_of_stream():
    host = Host(WasiConfig(stdin=b"abcdefgh"))
    i = host.call("wasi:cli/stdin", "get-stdin")
    streams = "wasi:io/streams"
    assert host.call(streams, "[method]input-stream.read", i, 3) == ("ok", b"abc")
    assert host.call(streams, "[method]input-stream.read", i, 0) == ("ok", b"")
    assert host.call(streams, "[method]input-stream.skip", i, 2) == ("ok", 2)
    assert host.call(streams, "[method]input-stream.blocking-read", i, 10) == ("ok", b"fgh")
    assert host.call(streams, "[method]input-stream.read", i, 1) == ("error", ("closed", None))
    assert host.call(streams, "[method]input-stream.blocking-skip", i, 1) == (
        "error", ("closed", None))


def test_splice_moves_bytes_between_streams():
    import io
    out = io.BytesIO()
    host = Host(WasiConfig(stdin=b"0123456789", stdout=out))
    i = host.call("wasi:cli/stdin", "get-stdin")
    s = host.call("wasi:cli/stdout", "get-stdout")
    streams = "wasi:io/streams"
    assert host.call(streams, "[method]output-stream.splice", s, i, 4) == ("ok", 4)
    assert host.call(streams, "[method]output-stream.blocking-splice", s, i, 100) == ("ok", 6)
    assert host.call(streams, "[method]output-stream.splice", s, i, 1) == (
        "error", ("closed", None))
    assert out.getvalue() == b"0123456789"


def test_terminals_are_absent_when_not_a_tty():
    import io
    host = Host(WasiConfig(stdin=b"", stdout=io.BytesIO(), stderr=io.BytesIO()))
    for term in ("stdin", "stdout", "stderr"):
        assert host.call(f"wasi:cli/terminal-{term}", f"get-terminal-{term}") == ("none", None)


def test_a_write_error_is_last_operation_failed_with_an_error_resource():
    r, w = os.pipe()
    os.close(r)
    from pywamr.wasi.streams import HostFdOutput
    host = Host(WasiConfig(stdout=HostFdOutput(w)))
    try:
        s = host.call("wasi:cli/stdout", "get-stdout")
        label, (case, error) = host.call("wasi:io/streams", "[method]output-stream.write", s,
                                         b"x")
        assert (label, case) == ("error", "last-operation-failed")
        text = host.call("wasi:io/error", "[method]error.to-debug-string", error)
        assert "pipe" in text
        assert host.call("wasi:filesystem/types", "filesystem-error-code", error) == (
            "some", "pipe")
        assert host.call("wasi:io/streams", "[method]output-stream.check-write", s) == (
            "error", ("closed", None))
    finally:
        os.close(w)


# ---- wasi:io/poll and wasi:clocks ----------------------------------------------------------------

MONO = "wasi:clocks/monotonic-clock"
POLL = "wasi:io/poll"


def test_subscribe_duration_really_sleeps():
    host = Host()
    start = time.monotonic()
    p = host.call(MONO, "subscribe-duration", 60_000_000)
    assert host.call(POLL, "[method]pollable.ready", p) is False
    host.call(POLL, "[method]pollable.block", p)
    assert time.monotonic() - start >= 0.06
    assert host.call(POLL, "[method]pollable.ready", p) is True


def test_subscribe_instant_in_the_past_is_ready():
    host = Host()
    now = host.call(MONO, "now")
    assert host.call(POLL, "[method]pollable.ready", host.call(MONO, "subscribe-instant", now))
    assert host.call(POLL, "[method]pollable.ready", host.call(MONO, "subscribe-instant", 0))
    assert host.call(MONO, "resolution") >= 1


def test_poll_waits_for_the_first_of_many_timers():
    host = Host()
    late = host.call(MONO, "subscribe-duration", 5_000_000_000)
    soon = host.call(MONO, "subscribe-duration", 50_000_000)
    later = host.call(MONO, "subscribe-duration", 10_000_000_000)
    start = time.monotonic()
    assert host.call(POLL, "poll", [late, soon, later]) == [1]
    elapsed = time.monotonic() - start
    assert 0.05 <= elapsed < 2.0


def test_poll_reports_every_ready_pollable():
    host = Host()
    a = host.call(MONO, "subscribe-duration", 0)
    b = host.call(MONO, "subscribe-duration", 10_000_000_000)
    c = host.call("wasi:cli/stdout", "get-stdout")
    c_ready = host.call("wasi:io/streams", "[method]output-stream.subscribe", c)
    assert host.call(POLL, "poll", [a, b, c_ready, a]) == [0, 2, 3]


def test_poll_of_an_empty_list_traps():
    with pytest.raises(Trap):
        Host().call(POLL, "poll", [])


def test_poll_wakes_when_an_input_stream_becomes_readable():
    r, w = os.pipe()
    host = Host(WasiConfig(stdin=HostFdInput(r)))
    try:
        i = host.call("wasi:cli/stdin", "get-stdin")
        readable = host.call("wasi:io/streams", "[method]input-stream.subscribe", i)
        timer = host.call(MONO, "subscribe-duration", 10_000_000_000)
        assert host.call("wasi:io/streams", "[method]input-stream.read", i, 10) == ("ok", b"")
        threading.Timer(0.05, lambda: os.write(w, b"hi")).start()
        start = time.monotonic()
        assert host.call(POLL, "poll", [timer, readable]) == [1]
        assert time.monotonic() - start < 5
        assert host.call("wasi:io/streams", "[method]input-stream.read", i, 10) == ("ok", b"hi")
    finally:
        os.close(r)
        os.close(w)


def test_poll_uses_the_configured_clocks():
    from pywamr.wasi.clocks import ClockId, Clocks

    class Fake(Clocks):
        __slots__ = ("t",)

        def __init__(self):
            self.t = 1000

        def now(self, clock):
            return self.t if clock is ClockId.MONOTONIC else 5_000_000_123

        def sleep(self, ns):
            self.t += ns
    fake = Fake()
    host = Host(WasiConfig(clocks=fake))
    assert host.call(MONO, "now") == 1000
    p = host.call(MONO, "subscribe-duration", 3600 * 10**9)   # an hour, in fake time
    assert host.call(POLL, "poll", [p]) == [0]
    assert fake.t >= 1000 + 3600 * 10**9
    assert host.call("wasi:clocks/wall-clock", "now") == {"seconds": 5, "nanoseconds": 123}


def test_dropping_a_pollable_releases_it():
    host = Host()
    p = host.call(MONO, "subscribe-duration", 0)
    table = host.state.types["pollable"].host_table
    assert p in table.objects
    host.drop("pollable", p)
    assert p not in table.objects


# ---- wasi:random ------------------------------------------------------------------------------

def test_random_comes_from_the_configured_source():
    host = Host(WasiConfig(random=lambda n: b"\x01" * n))
    assert host.call("wasi:random/random", "get-random-bytes", 4) == b"\x01\x01\x01\x01"
    assert host.call("wasi:random/random", "get-random-u64") == 0x0101010101010101
    seed = host.call("wasi:random/insecure-seed", "insecure-seed")
    assert seed == host.call("wasi:random/insecure-seed", "insecure-seed")
    assert len(host.call("wasi:random/insecure", "get-insecure-random-bytes", 33)) == 33
    assert 0 <= host.call("wasi:random/insecure", "get-insecure-random-u64") < 2**64


def test_random_rejects_a_huge_request_without_allocating():
    host = Host()
    with pytest.raises(Trap):
        host.call("wasi:random/random", "get-random-bytes", 2**63)
    with pytest.raises(Trap):
        host.call("wasi:random/insecure", "get-insecure-random-bytes", 2**40)


def test_poll_waits_on_descriptors_beyond_fd_setsize():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 1500:
        pytest.skip(f"the descriptor limit ({hard}) does not allow fd 1500")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1600), hard))
    r, w = os.pipe()
    high = os.dup2(r, 1500)
    host = Host(WasiConfig(stdin=HostFdInput(high)))
    try:
        i = host.call("wasi:cli/stdin", "get-stdin")
        readable = host.call("wasi:io/streams", "[method]input-stream.subscribe", i)
        assert host.call(POLL, "[method]pollable.ready", readable) is False
        threading.Timer(0.05, lambda: os.write(w, b"x")).start()
        timer = host.call(MONO, "subscribe-duration", 10_000_000_000)
        assert host.call(POLL, "poll", [timer, readable]) == [1]
    finally:
        for fd in (r, w, high):
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
