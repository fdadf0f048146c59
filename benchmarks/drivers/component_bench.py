"""Cross-component call cost: `python component_bench.py RUNTIME` prints calls per second.

The fixture `tests/fixtures/components/bench-calls.wasm` composes a caller with the adder and
the utf8 echo; its exports loop inside the guest over a `u32` add and a string round-trip
(`echo-string`) across the component boundary, so the figure is the cost of one
cross-component call, not of entering the guest from the host. RUNTIME is pywamr-interp,
pywamr-aot (native adapters), pywamr-aot-bridge (aot with the native adapters turned off:
every cross-component call goes through the Python bridge) or wasmtime. Output lines: `add_calls_per_s: N`, `string_calls_per_s: N`.

Handles: the three-component fixture of tests/component/handle_components.py (assembled here
with `wasm-tools parse`) loops in its caller over `get(borrow<t>)` (a borrow lent across and
given back) and over `relay(own<t>) -> own<t>` (an owned handle moved to a component that does
not implement `t` and back: two handle moves per call). Output lines: `borrow_calls_per_s: N`,
`own_round_trips_per_s: N`.

Rates are per CPU second of the measuring process (`time.process_time`), not per wall second.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "components" / "bench-calls.wasm"
TEXT = "hello, component world"


def handle_fixture() -> bytes:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "component"))
    from handle_components import handle_component_text
    exe = shutil.which("wasm-tools") or "wasm-tools"
    return subprocess.run([exe, "parse", "-", "-o", "/dev/stdout"],
                          input=handle_component_text().encode(), capture_output=True,
                          check=True).stdout


def pywamr_handle_calls(kind: str):
    from pywamr import Engine
    from pywamr.component import Component, Linker
    engine = Engine(kind)
    inst = Linker(engine).instantiate(Component(engine, handle_fixture()))
    return inst.exports["borrow-loop"], inst.exports["own-loop"]


def wasmtime_handle_calls():
    import wasmtime
    from wasmtime import component as wc
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    inst = wc.Linker(engine).instantiate(store, wc.Component(engine, handle_fixture()))

    def caller(name):
        f = inst.get_func(store, inst.get_export_index(store, name))

        def call(n):
            out = f(store, n)
            f.post_return(store)
            return out
        return call
    return caller("borrow-loop"), caller("own-loop")


def pywamr_calls(kind: str):
    from pywamr import Engine
    from pywamr.component import Component, Linker
    engine = Engine(kind)
    inst = Linker(engine).instantiate(Component.from_file(engine, FIXTURE))
    return inst.exports.add_loop, lambda n: inst.exports.string_loop(n, TEXT)


def wasmtime_calls():
    import wasmtime
    from wasmtime import component as wc
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    inst = wc.Linker(engine).instantiate(store, wc.Component.from_file(engine, str(FIXTURE)))

    def caller(name, *extra):
        f = inst.get_func(store, inst.get_export_index(store, name))

        def call(n):
            out = f(store, n, *extra)
            f.post_return(store)
            return out
        return call
    return caller("add-loop"), caller("string-loop", TEXT)


def rate(call, budget: float = 1.0) -> float:
    """Calls per CPU second of this process (on a shared, loaded machine wall time measures
    the load), growing n until one run takes at least a fifth of the budget."""
    n = 100
    call(n)                                   # warm-up (translation, caches)
    while True:
        t0 = time.process_time()
        call(n)
        dt = time.process_time() - t0
        if dt > budget / 5 or n >= 10_000_000:
            return n / dt
        n *= 4


def main(argv) -> int:
    runtime = argv[0]
    if runtime == "pywamr-aot-bridge":
        os.environ["PYWAMR_NATIVE_ADAPTERS"] = "0"
        add, string = pywamr_calls("aot")
        borrow, own = pywamr_handle_calls("aot")
    elif runtime.startswith("pywamr-"):
        add, string = pywamr_calls(runtime.split("-", 1)[1])
        borrow, own = pywamr_handle_calls(runtime.split("-", 1)[1])
    elif runtime == "wasmtime":
        add, string = wasmtime_calls()
        borrow, own = wasmtime_handle_calls()
    else:
        print(f"unknown runtime {runtime}", file=sys.stderr)
        return 2
    print(f"add_calls_per_s: {rate(add):.0f}")
    print(f"string_calls_per_s: {rate(string):.0f}")
    print(f"borrow_calls_per_s: {rate(borrow):.0f}")
    print(f"own_round_trips_per_s: {rate(own):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
