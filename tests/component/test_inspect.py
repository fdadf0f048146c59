"""`pywamr inspect` (pywamr/cli/inspect.py) and the WIT rendering behind it
(pywamr/component/wit.py): components print their imports and exports as a WIT world, core
modules their imports and exports with core types, bad input one line and exit status 1."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pywamr.cli.inspect import describe
from pywamr.component.types import (BOOL, STRING, U8, U32, BorrowType, CaseType, FieldType,
                                    FuncType, ListType, OwnType, RecordType, ResourceType,
                                    ResultType, VariantType)
from pywamr.component.wit import Names, func_signature, valtype
from pywamr_testlib import wat

ROOT = Path(__file__).resolve().parents[2]

STREAMS = """
(component
  (import "wasi:io/streams@0.2.0" (instance $s
    (export "output-stream" (type $os (sub resource)))
    (type $err (variant (case "closed") (case "failed" string)))
    (export "stream-error" (type $e (eq $err)))
    (type $res (result (error $e)))
    (export "[method]output-stream.write"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result $res)))
    (export "[constructor]output-stream" (func (param "n" u32) (result (own $os))))
    (export "[static]output-stream.make" (func (result (own $os))))
    (type $fl (flags "read" "write"))
    (export "perms" (type (eq $fl)))
    (type $en (enum "x" "y"))
    (export "en" (type $en2 (eq $en)))
    (type $rec (record (field "a" $en2) (field "b" (option (tuple u8 s64)))))
    (export "rec" (type (eq $rec)))))
  (import "log" (func (param "msg" string)))
  (core module $m (func (export "run")))
  (core instance $i (instantiate $m))
  (func $run (canon lift (core func $i "run")))
  (export "run" (func $run)))
"""

EXPECTED = """\
world streams {
  import wasi:io/streams@0.2.0: interface {
    resource output-stream {
      write: func(contents: list<u8>) -> result<_, stream-error>;
      constructor(n: u32);
      make: static func() -> own<output-stream>;
    }
    variant stream-error { closed, failed(string) }
    flags perms { read, write }
    enum en { x, y }
    record rec { a: en, b: option<tuple<u8, s64>> }
  }
  import log: func(msg: string);
  export run: func();
}
"""


def pywamr(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pywamr", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT)


def test_component_world(tmp_path):
    path = tmp_path / "streams.wasm"
    path.write_bytes(wat(STREAMS))
    proc = pywamr("inspect", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == EXPECTED


def test_core_module(tmp_path):
    path = tmp_path / "core.wasm"
    path.write_bytes(wat("""(module
        (import "env" "f" (func (param i32) (result i64)))
        (memory (export "m") 1 2)
        (global (export "g") (mut i32) (i32.const 0))
        (func (export "h")))"""))
    proc = pywamr("inspect", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ('(module\n  (import "env" "f" (func (param i32) (result i64)))\n'
                           '  (export "m" (memory 1 2))\n  (export "g" (global (mut i32)))\n'
                           '  (export "h" (func))\n)\n')


def test_exported_resources_and_nested_instances():
    text = describe(wat("""(component
        (type $r (resource (rep i32)))
        (export $r2 "thing" (type $r))
        (core module $m (func (export "f") (param i32) (result i32) local.get 0))
        (core instance $i (instantiate $m))
        (func $f (param "x" (borrow $r2)) (result u32) (canon lift (core func $i "f")))
        (instance $bag (export "get" (func $f)))
        (export "api" (instance $bag)))"""), "x")
    assert "export thing: resource thing;" not in text
    assert "export resource thing;" in text
    assert "export api: interface {" in text
    assert "get: func(x: borrow<thing>) -> u32;" in text


@pytest.mark.parametrize("content,message", [
    (b"", "magic header"),
    (b"hello world, not wasm", "magic header"),
    (b"\0asm\x0d\0\x01\0\x07\x05\x01", "out of bounds"),
    (b"\0asm\x01\0\0\0\x01\x05", "out of bounds"),
])
def test_bad_input_is_one_line(tmp_path, content, message):
    path = tmp_path / "bad.wasm"
    path.write_bytes(content)
    proc = pywamr("inspect", str(path))
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_component_is_one_line(tmp_path):
    path = tmp_path / "bad.wasm"
    path.write_bytes(wat('(component (import "a" (func)) (import "a" (func)))'))
    proc = pywamr("inspect", str(path))
    assert proc.returncode == 1
    assert "duplicate import name" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_missing_file():
    proc = pywamr("inspect", "/nonexistent/x.wasm")
    assert proc.returncode == 1 and "No such file" in proc.stderr


def test_valtype_rendering():
    names = Names()
    r = ResourceType("file")
    names.add(r, "file")
    rec = RecordType((FieldType("a", U32), FieldType("b", ListType(U8, 4))))
    assert valtype(rec, names) == "record { a: u32, b: list<u8, 4> }"
    names.add(rec, "point")
    assert valtype(ListType(rec), names) == "list<point>"
    assert valtype(ResultType(None, STRING), names) == "result<_, string>"
    assert valtype(ResultType(U32, None), names) == "result<u32>"
    assert valtype(ResultType(), names) == "result"
    assert valtype(VariantType((CaseType("a"), CaseType("b", BOOL))), names) == \
        "variant { a, b(bool) }"
    ft = FuncType((("self", BorrowType(r)), ("n", U32)), OwnType(r))
    assert func_signature(ft, names) == "func(self: borrow<file>, n: u32) -> own<file>"
    assert func_signature(ft, names, skip_self=True) == "func(n: u32) -> own<file>"
