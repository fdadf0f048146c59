"""`pywamr run` for components: run `wasi:cli/run`, or call any export with `--invoke`.

Precompiled code: `--precompiled-dir DIR` or `--precompiled-manifest FILE` name a bundle made
by `pywamr compile-component`; without them, the bundle beside the component is used when there
is one, by the convention `X.wasm` -> `X.pywamr-bundle/` (`bundle_dir_for`). A bundle that does
not fit (stale, foreign, tampered) is refused with one line on stderr and the component is
compiled as usual (through the code cache); its code is never run. An explicit bundle on an
engine without bundles (interp) is an error; a bundle found beside the component is then
ignored.

`--invoke 'name(args)'` takes the call in WAVE, as wasmtime does: `name` is an exported
function, at the top level or inside an exported interface (`iface#name` picks one when two
interfaces export the same name); the result is printed in WAVE. Thin over the public component
API; the WASI 0.2 host plugs in through `pywamr.wasi`, when that package provides it.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import LinkError, NotSupported, WasmError


def _wasi_p2(linker, args, argv) -> bool:
    """Define the WASI 0.2 host when pywamr provides one; False when it does not yet."""
    try:
        from ..wasi import p2
    except ImportError:
        return False
    p2.add_to_linker(linker, p2.config_from_cli(args, argv))
    return True


def _functions(exports, prefix: str = ""):
    from ..component import TypedFunc
    for name, value in exports.items():
        if isinstance(value, TypedFunc):
            yield prefix + name, name, value
        elif hasattr(value, "items"):
            yield from _functions(value, prefix + name + "#")


def find_function(exports, wanted: str):
    found = [(full, fn) for full, name, fn in _functions(exports) if wanted in (full, name)]
    if not found:
        names = ", ".join(full for full, _, _ in _functions(exports)) or "none"
        raise WasmError(f"component has no exported function {wanted!r} (exports: {names})")
    if len(found) > 1:
        raise WasmError(f"{wanted!r} is ambiguous: " + ", ".join(f for f, _ in found))
    return found[0][1]


BUNDLE_SUFFIX = ".pywamr-bundle"


def bundle_dir_for(component_path) -> Path:
    """Where the bundle of `X.wasm` lives by convention: `X.pywamr-bundle/` beside it."""
    path = Path(component_path)
    return path.with_name(path.stem + BUNDLE_SUFFIX)


def _chosen_bundle(args, engine, path: Path):
    """The bundle to try (its directory or manifest), or None."""
    explicit = getattr(args, "precompiled_dir", None) or \
        getattr(args, "precompiled_manifest", None)
    if explicit:
        if not engine.supports_bundles:
            raise NotSupported(f"a precompiled bundle cannot run on the {engine.kind} engine; "
                               f"use --engine aot")
        return Path(explicit)
    beside = bundle_dir_for(path)
    if engine.supports_bundles and beside.is_dir():
        return beside
    return None


def load_component(args, engine, path: Path, data: bytes):
    """The component, with its cores from a bundle when one is chosen and fits."""
    from ..component import Component
    bundle = _chosen_bundle(args, engine, path)
    if bundle is None:
        return Component(engine, data)

    def refused(exc) -> None:
        reason = " ".join(str(exc).split())
        print(f"pywamr: ignoring precompiled bundle {bundle}: {reason}; compiling {path.name}",
              file=sys.stderr, flush=True)
    return Component(engine, data, precompiled=bundle, on_refused=refused)


def run_component(args, engine, path, data: bytes) -> int:
    from ..component import Linker
    from ..component.wave import WaveError, format_value, parse_args, parse_call
    component = load_component(args, engine, Path(path), data)
    linker = Linker(engine)
    have_wasi = _wasi_p2(linker, args, [path.name] + list(args.args))
    if args.invoke:
        try:
            name, arg_text = parse_call(args.invoke)
        except WaveError as exc:
            raise WasmError(f"--invoke: {exc}") from None
        instance = linker.instantiate(component)
        fn = find_function(instance.exports, name)
        try:
            values = parse_args(arg_text, fn.ft.param_types)
        except WaveError as exc:
            raise WasmError(f"--invoke {name}: {exc}") from None
        except NotSupported as exc:
            raise WasmError(f"--invoke {name}: {exc}") from None
        result = fn.call_abi(*values)
        sys.stdout.flush()
        if fn.ft.result is not None:
            print(format_value(result, fn.ft.result))
        return 0
    run = _find_run(component)
    if run is None:
        raise WasmError("component exports no `wasi:cli/run` interface; use --invoke "
                        "'name(args)' to call an export")
    try:
        instance = linker.instantiate(component)
    except LinkError as exc:
        if have_wasi:
            raise
        raise LinkError(f"{exc} (pywamr has no WASI 0.2 host yet)") from None
    result = instance.exports[run]["run"].call_abi()
    return 0 if result[0] == "ok" else 1


def _find_run(component) -> str | None:
    for name, _ in component.exports:
        if name.split("@", 1)[0] == "wasi:cli/run":
            return name
    return None
