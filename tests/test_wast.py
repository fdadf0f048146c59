"""The `.wast` runner itself (pywamr/wast.py): each rule that makes it strict is shown to fail
a script that breaks it, on small scripts written here (the corpus runs in
test_conformance.py)."""
import json

import pytest

from pywamr_testlib import require_wasm_tools, wat


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    require_wasm_tools()
    monkeypatch.setenv("PYWAMR_CACHE_DIR", str(tmp_path / "cache"))


def run(tmp_path, text, engine_kind="interp", later=None, name="t"):
    """Run a script; `later` maps module index -> features, written as a features.json
    beside it (as the corpus does)."""
    from pywamr.engine import Engine
    from pywamr.wast import run_file
    script = tmp_path / f"{name}.wast"
    script.write_text(text)
    if later is not None:
        listed = {f"{name}.{index}.wasm": list(features) for index, features in later.items()}
        (tmp_path / "features.json").write_text(json.dumps(
            {name: {"group": "test", "modules_beyond_wasm2": listed}}))
    return run_file(script, Engine(engine_kind, cache=False))


def counts(result):
    return result.passed, result.failed, result.skipped, result.unsupported


TRAPS = '''(module
  (table 2 funcref)
  (func $f (result i32) i32.const 1)
  (elem (i32.const 0) $f)
  (func (export "div") (param i32) (result i32) i32.const 1 local.get 0 i32.div_u)
  (func (export "null") (result i32) i32.const 1 call_indirect (result i32))
  (func $deep (export "deep") call $deep))
'''


def test_trap_messages_are_checked(tmp_path, engine_kind):
    result = run(tmp_path, TRAPS + '''(assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "div" (i32.const 0)) "integer overflow")
(assert_trap (invoke "null") "uninitialized element")
(assert_trap (invoke "null") "uninitialized element 1")
(assert_trap (invoke "null") "undefined element")
(assert_trap (invoke "div" (i32.const 1)) "integer divide by zero")
(assert_exhaustion (invoke "deep") "call stack exhausted")
(assert_exhaustion (invoke "div" (i32.const 0)) "call stack exhausted")
''', engine_kind)
    assert counts(result) == (4, 4, 0, 0), result.failures
    assert [line for line, _, _ in result.failures] == [9, 12, 13, 15]
    assert "got trap 'integer divide by zero'" in result.failures[0][2]


def test_link_and_instantiation_messages_are_checked(tmp_path):
    """(`assert_trap` on a module is converted to `assert_uninstantiable`.)"""
    result = run(tmp_path, '''(module (func (export "f")))
(register "M")
(assert_unlinkable (module (import "M" "g" (func))) "unknown import")
(assert_unlinkable (module (import "M" "f" (func (param i32)))) "incompatible import type")
(assert_unlinkable (module (import "M" "f" (func (param i32)))) "unknown import")
(assert_trap (module (func $s unreachable) (start $s)) "unreachable")
(assert_trap (module (memory 0) (data (i32.const 1) "x")) "out of bounds memory access")
(assert_trap (module (func $s unreachable) (start $s)) "out of bounds memory access")
(assert_trap (module (func $s) (start $s)) "unreachable")
''')
    assert counts(result) == (4, 3, 0, 0), result.failures
    assert [line for line, _, _ in result.failures] == [5, 8, 9]
    assert "got an instance" in result.failures[2][2]


LATER = '''(module $T (table (export "tab") 2 funcref) (func (export "get") (result i32)
  i32.const 0 call_indirect (result i32)))
(register "T")
(module $M (import "T" "tab" (table 2 funcref)) (memory i64 1)
  (func $one (result i32) i32.const 1) (elem (i32.const 0) $one)
  (func (export "f") (result i32) i32.const 2))
(register "M" $M)
(assert_return (invoke $M "f") (i32.const 2))
(assert_return (invoke $T "get") (i32.const 1))
(module $U (import "M" "f" (func (result i32))))
(module $V (func (export "g") (result i32) i32.const 3))
(assert_return (invoke $V "g") (i32.const 4))
'''


def test_refused_later_proposal_module_and_its_dependents_are_unsupported(tmp_path):
    """Module 1 (a 64-bit memory) is listed: its refusal, the action on it, the table it would
    have filled and the module importing from it are unsupported; the wrong result on an
    unrelated module still fails."""
    result = run(tmp_path, LATER, later={1: ("memory64",)})
    assert counts(result) == (0, 1, 0, 4), (result.failures, result.unsupported_commands)
    assert [line for line, _, _ in result.unsupported_commands] == [4, 8, 9, 10]
    assert result.failures[0][0] == 12
    assert "memory64 module, refused" in result.unsupported_commands[0][2]


def test_without_features_table_refusals_fail(tmp_path):
    result = run(tmp_path, LATER)
    assert result.unsupported == 0
    assert [line for line, _, _ in result.failures] == [4, 7, 8, 9, 10, 12]


def test_listing_excuses_only_the_listed_module(tmp_path):
    """Listing another module excuses nothing of module 1's refusal."""
    result = run(tmp_path, LATER, later={3: ("memory64",)})
    assert result.unsupported == 0
    assert [line for line, _, _ in result.failures] == [4, 7, 8, 9, 10, 12]


def test_a_listed_module_that_runs_is_judged(tmp_path):
    result = run(tmp_path, '''
(module (func (export "f") (result i32) i32.const 1))
(assert_return (invoke "f") (i32.const 2))
''', later={0: ("extended-const",)})
    assert counts(result) == (0, 1, 0, 0)


def test_text_modules_are_skipped_with_their_commands(tmp_path):
    result = run(tmp_path, '''
(module quote "(func (export \\"f\\"))")
(assert_return (invoke "f"))
(assert_malformed (module quote "(func") "unexpected token")
''')
    assert counts(result) == (0, 0, 3, 0)
    assert all("text" in why for _, _, why in result.skips)


def test_spec_text_agreement():
    from pywamr.wast import spec_text_agrees
    assert spec_text_agrees("uninitialized element", "uninitialized element")
    assert spec_text_agrees("uninitialized element 2", "uninitialized element")
    assert spec_text_agrees("uninitialized", "uninitialized element")
    assert not spec_text_agrees("undefined element", "uninitialized element")
    assert not spec_text_agrees("uninitialized elements", "uninitialized element")


def test_import_namespaces_read_modules_pywamr_refuses():
    from pywamr.wast import import_namespaces
    data = wat('''(module
      (import "a" "f" (func (param i32)))
      (import "b" "t" (table 1 2 funcref))
      (import "c" "m" (memory i64 1))
      (import "d" "g" (global (mut i64)))
      (import "e" "r" (global (ref null func)))
      (memory 1))''')
    assert import_namespaces(data) == {"a", "b", "c", "d", "e"}
    assert import_namespaces(wat("(module)")) == set()
    assert import_namespaces(b"\0asm\1\0\0\0\2\5\1\1a") is None


def test_trap_agreement_by_code_or_own_message():
    from pywamr.errors import Trap, TrapCode
    from pywamr.wast.expect import trap_agrees
    detailed = Trap(TrapCode.MEMORY_OUT_OF_BOUNDS, "string content out-of-bounds")
    assert trap_agrees("out of bounds memory access", detailed)
    assert trap_agrees("string content out-of-bounds", detailed)
    assert not trap_agrees("out of bounds table access", detailed)
    assert trap_agrees("host function error", Trap(TrapCode.HOST))
    assert not trap_agrees("unreachable", Trap(TrapCode.HOST, "boom"))
