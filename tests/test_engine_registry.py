"""The engine registry and the declared engine interface: engines are chosen by name from the
registry, both built-in compiled modules implement `CompiledModule`, and the runtime layer's
driver instantiates any of them from a list of runtime objects."""
from __future__ import annotations

import pytest

from pywamr_testlib import wat


def test_builtin_engines_are_registered():
    from pywamr.engine import engine_names
    assert {"interp", "aot"} <= set(engine_names())


def test_unknown_engine_is_a_clear_error():
    from pywamr.engine import Engine
    with pytest.raises(ValueError, match="unknown engine 'jit'"):
        Engine("jit")


def test_compiled_modules_implement_the_interface(engine_kind):
    from pywamr.engine import CompiledModule, Engine, Module
    engine = Engine(engine_kind, cache=False)
    module = Module(engine, wat('(module (func (export "f") (result i32) i32.const 1))'))
    assert isinstance(module.compiled, CompiledModule)
    assert module.compiled.engine_name == engine_kind == engine.kind


def test_driver_instantiates_from_runtime_objects(engine_kind):
    """What a component plan does: compiled module + externs in import order -> instance
    whose exports are the shared runtime objects."""
    from pywamr.binary.types import FuncType, I32
    from pywamr.engine import Engine, Function, Memory, Module
    from pywamr.runtime.instantiate import instantiate_module
    engine = Engine(engine_kind, cache=False)
    module = Module(engine, wat("""
    (module (import "a" "inc" (func $inc (param i32) (result i32)))
            (memory (export "memory") 1) (data (i32.const 0) "\\05")
            (func (export "run") (result i32) (call $inc (i32.load8_u (i32.const 0)))))
    """))
    inc = Function(FuncType((I32,), (I32,)), lambda x: x + 1, "inc", host=True)
    bound = []
    state = instantiate_module(module.compiled, [inc], bind=bound.append)
    assert bound == [state]
    assert isinstance(state.exports["memory"], Memory)
    assert isinstance(state.exports["run"], Function)
    assert state.exports["run"].call() == 6


def test_a_registered_engine_is_used_by_name():
    """An engine added through the registry is chosen by name, with no change to the API."""
    from pywamr.engine import Engine, Linker, Module, register_engine
    from pywamr.engine.registry import _ENGINES
    from pywamr.interp import compile_module
    compiled = []

    def compile_counting(validated, engine):
        module = compile_module(validated)
        compiled.append(module)
        return module

    register_engine("counting", compile_counting)
    try:
        engine = Engine("counting")
        module = Module(engine, wat('(module (func (export "f") (result i32) i32.const 3))'))
        assert compiled == [module.compiled]
        assert Linker(engine).instantiate(None, module).exports["f"]() == 3
        assert not engine.supports_artifacts
    finally:
        del _ENGINES["counting"]


def test_an_unavailable_engine_falls_back_with_one_warning(capsys):
    from pywamr.engine import Engine, register_engine
    from pywamr.engine.registry import _ENGINES
    register_engine("missing", lambda v, e: None, available=lambda: (False, "not installed"),
                    fallback="interp")
    try:
        assert Engine("missing").kind == "interp"
        assert Engine("missing").kind == "interp"
        err = capsys.readouterr().err
        assert err.count("the missing engine is unavailable (not installed)") == 1
    finally:
        del _ENGINES["missing"]


def test_an_unavailable_engine_without_fallback_is_not_supported():
    from pywamr.engine import Engine, register_engine
    from pywamr.engine.registry import _ENGINES
    from pywamr.errors import NotSupported
    register_engine("gone", lambda v, e: None, available=lambda: (False, "no backend"))
    try:
        with pytest.raises(NotSupported, match=r"the gone engine is unavailable \(no backend\)"):
            Engine("gone")
    finally:
        del _ENGINES["gone"]


def test_artifacts_only_for_engines_that_have_them(tmp_path):
    from pywamr.engine import Engine
    from pywamr.errors import NotSupported
    with pytest.raises(NotSupported, match="interp engine has no precompiled artifact"):
        Engine("interp").load_artifact(tmp_path / "x.cwasm")


def test_engine_layer_names_no_engine_outside_the_registration():
    """Only backends.py may name an engine's package: the API chooses through the registry.
    (The tiered engine's compile worker, which drives the aot compiler in its own process,
    is the one other exception.)"""
    import ast
    from pathlib import Path
    import pywamr.engine
    folder = Path(pywamr.engine.__file__).parent
    for path in folder.glob("*.py"):
        if path.name in ("backends.py", "tier_worker.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] not in ("interp", "aot"), (path.name, node.module)
