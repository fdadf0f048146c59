"""What a cached run imports: `pywamr run` of a module whose code is in the code cache must not
load the machinery only compiling, interpreting, components or argument errors need.

Each import costs a start-up (issue 12: a cached run of examples/hello.wasm at or below the
wasmtime package's whole-process time), so a module that creeps back into the path shows
here. Runs the real command in a child process (default engine, auto, and `--engine aot`)
and compares its `sys.modules` with a bare interpreter's in the same environment (what
`site` loads is not the run's doing).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pywamr.engine import engine_available

ROOT = Path(__file__).resolve().parent.parent
HELLO = ROOT / "examples" / "hello.wasm"

# Modules a cached core-module run needs none of.
HEAVY = (
    # standard library: dataclasses (and the inspect, ast, dis, tokenize it imports),
    # argument parsing, hashing through OpenSSL, processes and threads, serialisation
    "dataclasses", "inspect", "ast", "dis", "tokenize", "argparse", "gettext", "locale",
    "hashlib", "subprocess", "threading", "pickle", "json", "decimal", "fractions", "typing",
    "tempfile", "shutil", "zipfile",
    # LLVM and the compiler
    "llvmlite.binding", "pywamr.aot.compiler", "pywamr.aot.codegen", "pywamr.aot.translate",
    "pywamr.aot.emit", "pywamr.aot.bundle", "pywamr.aot.adapter",
    # the interpreter, tiering, full validation of bodies, components, WASI 0.2
    "pywamr.interp", "pywamr.engine.tiered", "pywamr.engine.tier_worker",
    "pywamr.engine.tier_sampler", "pywamr.component", "pywamr.wasi.p2",
    # the other subcommands
    "pywamr.cli.compile", "pywamr.cli.compile_component", "pywamr.cli.inspect",
    "pywamr.cli.wast", "pywamr.wast",
)

REPORT = "import json, sys; print(json.dumps(sorted(sys.modules)), file=sys.stderr)"
RUN = ("import sys\n"
       "from pywamr.cli.main import main\n"
       "try:\n"
       "    status = main(sys.argv[1:])\n"
       "finally:\n"
       "    loaded = sorted(sys.modules)\n"
       "    import json\n"           # after the listing: the report's json is not the run's
       "    print(json.dumps(loaded), file=sys.stderr)\n"
       "sys.exit(status)\n")


def _modules(code: str, args: list[str], env: dict) -> tuple[set[str], str]:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stderr.strip().splitlines()[-1])), proc.stdout


@pytest.fixture(scope="module")
def cached_env(tmp_path_factory):
    if not engine_available("aot")[0]:
        pytest.skip("llvmlite is not installed: there is no code cache to run from")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYWAMR_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    for name in ("PYWAMR_ENGINE", "PYWAMR_NO_CACHE", "PYWAMR_TIER", "PYWAMR_AOT_LOADER"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "pywamr", "run", "--engine", "aot", str(HELLO)],
                   env=env, cwd=ROOT, check=True, capture_output=True, timeout=600)
    return env


@pytest.mark.parametrize("engine_args", [[], ["--engine", "aot"]], ids=["auto", "aot"])
def test_cached_run_imports_nothing_heavy(cached_env, engine_args):
    baseline, _ = _modules(REPORT, [], cached_env)
    loaded, stdout = _modules(RUN, ["run", *engine_args, str(HELLO)], cached_env)
    assert "Hello from WebAssembly!" in stdout
    assert "pywamr.aot.loader" in loaded, "the run should have loaded cached native code"
    new = loaded - baseline
    heavy = sorted(name for name in new
                   if any(name == h or name.startswith(h + ".") for h in HEAVY))
    assert not heavy, f"a cached run imported {heavy}"
