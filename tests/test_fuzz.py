"""Differential fuzzing in the suite: a fixed-seed campaign, the regression fixtures, and the
comparison rules themselves.

The campaign (`FIXED_SEED`, `BATCHES` x `BATCH` modules, plus `MULTI_MEMORY_BATCHES` batches
generated in the multi-memory mode, `TAIL_CALL_BATCHES` in the tail-call mode and
`SIMD_BATCHES` in each SIMD mode) runs every generated
module on wasmtime and on each engine; a batch fails on any mismatch or escaped exception and
reports inconclusive cases (stack exhausted on one side only) in its message without failing.
Every engine runs SIMD and relaxed SIMD, so a SIMD module that an engine refuses as "not
supported" fails its batch, listing the refusals. The fixtures in `tests/fixtures/fuzz/` are
shrunk failing cases with wasmtime's outcome as JSON; they need neither wasm-tools nor wasmtime
to run. Under `CI=true` a missing tool fails the tests that
need it instead of skipping them.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pywamr_testlib import ENGINES, ROOT, needs_aot

if str(ROOT) not in sys.path:     # `fuzz/` is a top-level package of the repository, not
    sys.path.insert(1, str(ROOT))  # installed: found from the checkout like the tests
from fuzz.compare import ESCAPED, INCONCLUSIVE, MISMATCH, PASS, UNSUPPORTED, compare
from fuzz.outcome import Outcome

FIXED_SEED = 20261130
BATCHES = 10
BATCH = 25
MULTI_MEMORY_BATCHES = 2
TAIL_CALL_BATCHES = 2
SIMD_BATCHES = 1
SIMD_MODES = ("simd", "relaxed-simd")
CAMPAIGN = ([("core", b) for b in range(BATCHES)]
            + [("multi-memory", b) for b in range(MULTI_MEMORY_BATCHES)]
            + [("tail-call", b) for b in range(TAIL_CALL_BATCHES)]
            + [(mode, b) for mode in SIMD_MODES for b in range(SIMD_BATCHES)])
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "fuzz"



# "auto" switches whole instances after a few calls (fuzz.subject.AUTO_POLICY); "auto:osr:1"
# moves every activation of a function with a checked loop to native code at its second
# loop-header check (on-stack replacement, engine/tier_osr.py)
@pytest.fixture(params=ENGINES + [pytest.param("auto", marks=needs_aot),
                                  pytest.param("auto:osr:1", marks=needs_aot)])
def engine(request):
    from fuzz.subject import make_engine
    return make_engine(request.param)


@pytest.mark.parametrize("mode,batch", CAMPAIGN)
def test_fixed_seed_campaign(fuzz_tools, engine, mode, batch):
    from fuzz.generate import generate_module
    from fuzz.oracle import run_wasmtime
    from fuzz.subject import run_pywamr
    failures, inconclusive, unsupported, calls = [], [], [], 0
    for index in range(batch * BATCH, (batch + 1) * BATCH):
        data = generate_module(FIXED_SEED, index, mode)
        verdict = compare(run_wasmtime(data), run_pywamr(data, engine))
        calls += verdict.calls
        if verdict.status == INCONCLUSIVE:
            inconclusive.append(index)
        elif verdict.status == UNSUPPORTED and mode in SIMD_MODES:
            unsupported.append(f"{index}: {verdict.details[0]}")
        elif verdict.status != PASS:
            failures.append(f"module {FIXED_SEED}:{index} {verdict.status}: "
                            + "; ".join(verdict.details))
    assert not failures, (f"{len(failures)} of {BATCH} modules failed on {engine.kind} "
                          f"(inconclusive: {inconclusive}); reproduce with "
                          f"python -m fuzz --seed {FIXED_SEED} --mode {mode} --start INDEX "
                          f"--n 1\n"
                          + "\n".join(failures))
    assert calls > 0, "the batch compared no calls at all: generation is broken"
    assert not unsupported, (f"{len(unsupported)} of {BATCH} {mode} modules are not supported "
                             f"on {engine.kind}:\n" + "\n".join(unsupported))


def _fixture_names():
    return sorted(p.stem for p in FIXTURES.glob("*.wasm"))


@pytest.mark.parametrize("name", _fixture_names())
def test_regression_fixture(engine, name):
    from fuzz.subject import run_pywamr
    path = FIXTURES / f"{name}.wasm"
    expected = Outcome.from_json(path.with_suffix(".json").read_text())
    verdict = compare(expected, run_pywamr(path.read_bytes(), engine))
    assert verdict.status == PASS, "\n".join(verdict.details)


@pytest.mark.parametrize("name", _fixture_names())
def test_fixture_expectations_are_wasmtimes(fuzz_tools, name):
    """The JSON beside a fixture is what wasmtime does today (guards hand edits)."""
    from fuzz.oracle import run_wasmtime
    path = FIXTURES / f"{name}.wasm"
    stored = json.loads(path.with_suffix(".json").read_text())
    assert json.loads(run_wasmtime(path.read_bytes()).to_json()) == stored


def test_there_are_fixtures():
    assert _fixture_names(), "tests/fixtures/fuzz holds no regression fixtures"


# --- the comparison rules ------------------------------------------------------------------

def _outcome(*results, globals_=None):
    return Outcome(["ok"], [["f", i, r] for i, r in enumerate(results)], globals_ or {}, {}, {})


def test_any_nan_equals_any_nan_and_zero_signs_differ():
    from fuzz.values import value_key
    assert value_key("f32", float("nan")) == value_key("f32", -float("nan"))
    assert value_key("f64", 0.0) != value_key("f64", -0.0)
    assert value_key("f32", 0.1) == "f32:not-an-f32:0.1"
    assert value_key("i32", -1) == value_key("i32", 0xFFFFFFFF)


def test_verdicts():
    ok = ["ok", "i32:0x1"]
    assert compare(_outcome(ok), _outcome(ok)).status == PASS
    assert compare(_outcome(ok), _outcome(["ok", "i32:0x2"])).status == MISMATCH
    assert compare(_outcome(ok), _outcome(["trap", "UNREACHABLE"])).status == MISMATCH
    assert compare(_outcome(["trap", "UNREACHABLE"]),
                   _outcome(["trap", "INTEGER_OVERFLOW"])).status == MISMATCH
    assert compare(_outcome(ok), _outcome(["escaped", "TypeError: x"])).status == ESCAPED
    assert compare(_outcome(["escaped", "x"]), _outcome(["escaped", "x"])).status == ESCAPED
    assert compare(_outcome(ok, globals_={"g": "i32:0x0"}),
                   _outcome(ok, globals_={"g": "i32:0x1"})).status == MISMATCH


def test_stack_exhaustion_on_one_side_is_inconclusive():
    stack = ["trap", "STACK_EXHAUSTED"]
    verdict = compare(_outcome(stack, ["ok"]), _outcome(["trap", "UNREACHABLE"], ["ok", "x"]))
    assert verdict.status == INCONCLUSIVE and verdict.calls == 0
    assert compare(_outcome(stack), _outcome(stack)).status == PASS


def test_runtime_never_imports_the_fuzzer_or_the_oracle():
    import ast
    package = Path(__file__).resolve().parent.parent / "pywamr"
    offenders = []
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            offenders += [f"{path.relative_to(package)} imports {n}" for n in names
                          if n.split(".")[0] in ("fuzz", "wasmtime")]
    assert not offenders, offenders


def test_campaign_command(fuzz_tools, tmp_path):
    """`python -m fuzz` prints the counts and exits 1 exactly when a module failed."""
    import subprocess
    import sys
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "fuzz", "--n", "3", "--seed", "5",
                           "--engines", "interp", "--out", str(tmp_path)],
                          cwd=root, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert "modules: 3" in proc.stdout, proc.stdout + proc.stderr
    line = next(l for l in proc.stdout.splitlines() if l.startswith("interp: calls"))
    failed = sum(int(line.split(f"{word} ")[1].split(",")[0])
                 for word in ("mismatches", "escaped exceptions", "crashes", "hangs"))
    assert proc.returncode == (1 if failed else 0), proc.stdout
    assert len(list(tmp_path.glob("*.wasm"))) == failed


def _check_that_crashes_or_hangs(seed, index, kinds, mode):
    import os
    import time
    from fuzz.campaign import ModuleReport
    from fuzz.compare import Verdict
    if index == 1:
        os._exit(3)          # as a segfault in native code would
    if index == 2:
        time.sleep(60)
    return ModuleReport(seed, index, {k: Verdict(PASS, calls=1) for k in kinds})


def test_campaign_survives_crashes_and_hangs(fuzz_tools, tmp_path):
    from fuzz.campaign import CRASHED, HUNG, run_campaign
    counts = run_campaign(9, 5, ("interp",), tmp_path, timeout=3, log=lambda text: None,
                          check=_check_that_crashes_or_hangs)
    row = counts.per_engine["interp"]
    assert (counts.modules, row[PASS], row[CRASHED], row[HUNG]) == (5, 3, 1, 1)
    assert sorted(p.name for p in tmp_path.glob("*.wasm")) == ["9-1.wasm", "9-2.wasm"]
