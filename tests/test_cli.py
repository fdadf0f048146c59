"""The command line: run --invoke, error reporting without tracebacks, wast summaries."""
import subprocess
import sys

import pytest

from pywamr_testlib import ROOT, needs_aot, wat

EXAMPLES = ROOT / "examples"


def pywamr(*args, input=None):
    return subprocess.run([sys.executable, "-m", "pywamr", *args], capture_output=True,
                          text=True, input=input, cwd=ROOT)


@pytest.mark.parametrize("engine", ["interp"])
def test_invoke_prints_results(engine):
    out = pywamr("run", "--engine", engine, "--invoke", "add", str(EXAMPLES / "add.wasm"), "2", "3")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "5\n"
    out = pywamr("run", "--engine", engine, "--invoke", "fib", str(EXAMPLES / "add.wasm"), "20")
    assert out.stdout == "6765\n"


def test_hello_example_runs():
    out = pywamr("run", "--engine", "interp", str(EXAMPLES / "hello.wasm"), "world")
    assert out.returncode == 0
    assert "Hello from WebAssembly!" in out.stdout and "world" in out.stdout


@pytest.mark.parametrize("content,message", [
    (None, "No such file"),
    (b"garbage", "magic header"),
    (b"\0asm\1\0\0\0\1\5\1\x60", "out of bounds"),
])
def test_bad_input_is_one_line(tmp_path, content, message):
    path = tmp_path / "m.wasm"
    if content is not None:
        path.write_bytes(content)
    out = pywamr("run", "--engine", "interp", str(path))
    assert out.returncode == 1
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_unknown_import_names_it(tmp_path):
    path = tmp_path / "m.wasm"
    path.write_bytes(wat('(module (import "env" "missing" (func)))'))
    out = pywamr("run", "--engine", "interp", str(path))
    assert out.returncode == 1 and '"env" "missing"' in out.stderr
    assert "Traceback" not in out.stderr


def test_trap_reports_backtrace(tmp_path):
    path = tmp_path / "m.wasm"
    path.write_bytes(wat('(module (func $deep (unreachable)) '
                         '(func (export "_start") (call $deep)))'))
    out = pywamr("run", "--engine", "interp", str(path))
    assert out.returncode == 134
    assert "wasm trap: unreachable" in out.stderr and "deep" in out.stderr


def test_wast_summary(tmp_path):
    script = tmp_path / "t.wast"
    script.write_text('(module (func (export "f") (result i32) i32.const 7))\n'
                      '(assert_return (invoke "f") (i32.const 7))\n'
                      '(assert_return (invoke "f") (i32.const 8))\n'
                      '(assert_malformed (module quote "(func") "unexpected")\n')
    out = pywamr("wast", "--engine", "interp", str(script))
    assert out.returncode == 1
    assert out.stdout.strip().splitlines()[-1] == "1 passed, 1 failed, 1 skipped"


@needs_aot
def test_compile_then_run_artifact(tmp_path):
    import shutil
    wasm = tmp_path / "hello.wasm"
    shutil.copy(EXAMPLES / "hello.wasm", wasm)
    cache = str(tmp_path / "cache")
    out = pywamr("compile", "--cache-dir", cache, str(wasm), "-o", str(tmp_path / "hello.cwasm"))
    assert out.returncode == 0, out.stderr
    run = pywamr("run", "--cache-dir", cache, str(tmp_path / "hello.cwasm"), "x")
    assert run.returncode == 0 and "Hello from WebAssembly!" in run.stdout
    # the artifact beside the .wasm is used; a stale one is refused and the module recompiled
    wasm.write_bytes(wat('(module (func (export "_start")))'))
    stale = pywamr("run", "--engine", "aot", "--cache-dir", cache, str(wasm))
    assert stale.returncode == 0
    assert "ignoring" in stale.stderr and "Traceback" not in stale.stderr


@needs_aot
def test_foreign_artifact_refused(tmp_path):
    bogus = tmp_path / "x.cwasm"
    bogus.write_bytes(b"not an artifact at all")
    out = pywamr("run", str(bogus))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
