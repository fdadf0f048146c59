"""Cross-component call cost: `python component_bench.py RUNTIME` prints calls per second.

The fixture `tests/fixtures/components/bench-calls.wasm` composes a caller with the adder and
the utf8 echo; its exports loop inside the guest over a `u32` add and a string round-trip
(`echo-string`) across the component boundary, so the figure is the cost of one
cross-component call, not of entering the guest from the host. RUNTIME is pywamr-interp,
pywamr-aot (native adapters), pywamr-aot-bridge (aot with the native adapters turned off:
every cross-component call goes through the Python bridge) or wasmtime. Output lines: `add_calls_per_s: N`, `string_calls_per_s: N`.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "components" / "bench-calls.wasm"
TEXT = "hello, component world"


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
    """Calls per second, growing n until one run takes at least a fifth of the budget."""
    n = 100
    call(n)                                   # warm-up (translation, caches)
    while True:
        t0 = time.perf_counter()
        call(n)
        dt = time.perf_counter() - t0
        if dt > budget / 5 or n >= 10_000_000:
            return n / dt
        n *= 4


def main(argv) -> int:
    runtime = argv[0]
    if runtime == "pywamr-aot-bridge":
        os.environ["PYWAMR_NATIVE_ADAPTERS"] = "0"
        add, string = pywamr_calls("aot")
    elif runtime.startswith("pywamr-"):
        add, string = pywamr_calls(runtime.split("-", 1)[1])
    elif runtime == "wasmtime":
        add, string = wasmtime_calls()
    else:
        print(f"unknown runtime {runtime}", file=sys.stderr)
        return 2
    print(f"add_calls_per_s: {rate(add):.0f}")
    print(f"string_calls_per_s: {rate(string):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
