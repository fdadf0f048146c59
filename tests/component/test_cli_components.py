"""`pywamr run` on components: the composed calculator under the WASI 0.2 host, `--invoke`
with WAVE arguments and results, and bad input as one line with exit status 1."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pywamr_testlib import ENGINES  # noqa: E402

FIXTURES = HERE.parent / "fixtures" / "components"


def pywamr(*args):
    return subprocess.run([sys.executable, "-m", "pywamr", *args], capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize("engine_kind", ENGINES)
def test_composed_calculator_runs(engine_kind):
    r = pywamr("run", "--engine", engine_kind, str(FIXTURES / "composed.wasm"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "40 + 2 = 42\n100 + 200 = 300\n"


@pytest.mark.parametrize("engine_kind", ENGINES)
def test_invoke_in_wave(engine_kind):
    echo = str(FIXTURES / "relay-echo-utf16.wasm")
    for call, out in [('echo-point({x: -1, y: 2.5, label: "h\\u{e9}"})',
                       '{x: -1, y: 2.5, label: "hé"}'),
                      ("echo-shape(named(\"x\"))", 'named("x")'),
                      ("echo-nested-option(some(none))", "some(none)"),
                      ("echo-result(err(\"no\"))", 'err("no")'),
                      ("echo-perms({read, exec})", "{read, exec}"),
                      ("echo-many(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)",
                       "(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17)")]:
        r = pywamr("run", "--engine", engine_kind, "--invoke", call, echo)
        assert r.returncode == 0, (call, r.stderr)
        assert r.stdout.strip() == out
    r = pywamr("run", "--engine", engine_kind, "--invoke", "add(40, 2)",
               str(FIXTURES / "adder.wasm"))
    assert r.stdout.strip() == "42"


@pytest.mark.parametrize("args, words", [
    (["--invoke", "echo-u8(300)"], "out of range for u8"),
    (["--invoke", "echo-point({x: 1})"], "missing field"),
    (["--invoke", "nope()"], "no exported function 'nope'"),
    (["--invoke", "echo-u8"], "name(arguments)"),
])
def test_bad_invocations_are_one_line(args, words):
    r = pywamr("run", "--engine", "interp", *args, str(FIXTURES / "echo-utf8.wasm"))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], r.stderr
    assert "Traceback" not in r.stderr
