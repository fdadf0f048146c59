"""`pywamr run` on WASI 0.2 command components: output, exit statuses and CLI errors."""
from __future__ import annotations

import pytest

from .p2_testlib import (COMPONENTS, ENGINES, FIXTURES, require_wasm_tools,
                         require_wasmtime, run_cli)


@pytest.mark.parametrize("engine", ENGINES)
def test_composed_calculator_prints_its_sums(engine):
    proc = run_cli("run", "--engine", engine, COMPONENTS / "composed.wasm")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == b"40 + 2 = 42\n100 + 200 = 300\n"


HAND_WRITTEN = {"exit_with_code": 7, "poll_many": 0, "tcp_bind": 101, "two_versions": 0}
"""Components written in WAT (tests/fixtures/wasi_p2/src) and the status each must exit with:
`exit-with-code(7)`; three timers polled at once through the canonical ABI (ok only when
exactly the 30 ms one is reported, after at least 30 ms); a TCP socket, denied by default
(101: create-tcp-socket says access-denied); `wasi:cli/stdout` and `wasi:io/streams` imported at
0.2.9 and 0.2.12 side by side, one line written through each (same stdout as wasmtime)."""


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_hand_written_components_match_wasmtime(name, engine, tmp_path):
    exe = require_wasm_tools()
    import subprocess
    wasm = tmp_path / f"{name}.wasm"
    subprocess.run([exe, "parse", FIXTURES / "src" / f"{name}.wat", "-o", wasm], check=True)
    require_wasmtime()
    from .p2_oracle import run_wasmtime_component
    expected = run_wasmtime_component(wasm, [name])
    assert (expected.exit_code, expected.trapped) == (HAND_WRITTEN[name], False), expected
    proc = run_cli("run", "--engine", engine, wasm)
    assert proc.returncode == HAND_WRITTEN[name], proc.stderr.decode()
    assert proc.stdout == expected.stdout and proc.stderr == expected.stderr


def test_arguments_environment_and_stdin_reach_the_guest():
    proc = run_cli("run", "--env", "FOO=bar", FIXTURES / "args_env.wasm", "one", "two")
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"argv[1] (len 3): [one]" in proc.stdout
    assert b"FOO=bar" in proc.stdout
    proc = run_cli("run", FIXTURES / "stdio.wasm", stdin=b"Hello stdin!\nsecond line\n")
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"stdin bytes: 25\n" in proc.stdout
    assert b"HELLO STDIN!\nSECOND LINE\n" in proc.stdout


def test_a_missing_preopen_directory_is_a_clear_error(tmp_path):
    proc = run_cli("run", "--dir", f"{tmp_path / 'nope'}::/x", FIXTURES / "files.wasm")
    assert proc.returncode == 1
    assert b"is not a directory" in proc.stderr
    assert b"Traceback" not in proc.stderr


def test_a_trap_in_a_component_is_reported():
    proc = run_cli("run", FIXTURES / "trap_div0.wasm")
    assert proc.returncode not in (0, 1)
    assert b"wasm trap" in proc.stderr
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("allow, status", [(["127.0.0.1/32"], 2), (["10.0.0.0/8"], 11),
                                           (["0.0.0.0/0", "::/0"], 2)])
def test_allow_net_opens_exactly_the_given_networks(allow, status, engine, tmp_path):
    """tcp_bind.wat binds 127.0.0.1:0: status 2 when bound, 11 when start-bind is
    access-denied (the socket could be created: some network is allowed)."""
    exe = require_wasm_tools()
    import subprocess
    wasm = tmp_path / "tcp_bind.wasm"
    subprocess.run([exe, "parse", FIXTURES / "src" / "tcp_bind.wat", "-o", wasm], check=True)
    flags = [arg for cidr in allow for arg in ("--allow-net", cidr)]
    proc = run_cli("run", "--engine", engine, *flags, wasm)
    assert proc.returncode == status, proc.stderr.decode()
