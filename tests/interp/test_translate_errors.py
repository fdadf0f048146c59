"""How the interpreter's translator fails: an inconsistency is a `TranslatorBug` naming the
function, CPython's nesting limits (and only those) send the function to the flat form."""
import pytest

import pywamr.interp.translate as translate
from pywamr import Engine, Module
from pywamr.engine import Instance
from pywamr.interp.stack import TranslatorBug
from pywamr.record import replace
from pywamr_testlib import wat

SIMPLE = """(module (func $answer (export "f") (param i32) (result i32)
  (i32.add (local.get 0) (i32.const 1))))"""


def _parts(text: str):
    compiled = Module(Engine("interp"), wat(text)).compiled
    v = compiled.validated
    return compiled.module, v


def test_height_mismatch_is_a_bug_naming_the_function():
    module, v = _parts(SIMPLE)
    info = v.funcs[0]
    wrong = replace(info, heights=(0, 2, 2, 1))     # validator says 0, 1, 2, 1
    with pytest.raises(TranslatorBug, match=r"answer.*height 1 != validated height 2"):
        translate.compile_function(module.types, v.func_types, wrong, module.codes[0], "f0",
                                   "answer")


def test_other_compile_errors_are_bugs_not_fallbacks(monkeypatch):
    module, v = _parts(SIMPLE)
    attempts = []

    def broken(*args, **kwargs):
        attempts.append(kwargs)
        return "def f0(l0):\n    return l0 +\n", {}
    monkeypatch.setattr(translate, "translate_function", broken)
    with pytest.raises(TranslatorBug, match="answer: CPython rejected the translation"):
        translate.compile_function(module.types, v.func_types, v.funcs[0], module.codes[0],
                                   "f0", "answer")
    assert len(attempts) == 1


def test_translator_exceptions_are_bugs(monkeypatch):
    module, v = _parts(SIMPLE)

    def broken(*args, **kwargs):
        raise KeyError("i32.frobnicate")
    monkeypatch.setattr(translate, "translate_function", broken)
    with pytest.raises(TranslatorBug, match="translating function answer: KeyError"):
        translate.compile_function(module.types, v.func_types, v.funcs[0], module.codes[0],
                                   "f0", "answer")


def test_nesting_limit_retries_in_flat_form(monkeypatch):
    """Force the structured form on 30 nested loops: CPython refuses it ("too many statically
    nested blocks") and the flat form runs instead."""
    monkeypatch.setattr(translate, "MAX_LOOP_DEPTH", 1000)
    monkeypatch.setattr(translate, "MAX_INDENT", 1000)
    seen = []
    real = translate.translate_function

    def spy(*args, **kwargs):
        seen.append(kwargs["flat"])
        return real(*args, **kwargs)
    monkeypatch.setattr(translate, "translate_function", spy)
    loops = "(br 59)"
    for _ in range(30):
        loops = f"(block (loop (br_if 0 (i32.eqz (local.get 0))) {loops}))"
    text = f"""(module (func (export "loops") (param i32) (result i32) {loops} (i32.const 5)))"""
    exports = Instance(None, Module(Engine("interp"), wat(text)), []).exports
    assert exports["loops"](1) == 5
    assert seen == [False, True]
