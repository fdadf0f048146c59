"""Per-call cost of the canonical ABI (not a test): host -> lifted calls and component-to-
component calls over two interp guests, in CPU microseconds per call (process time, so other
load on the machine disturbs it less).

Run: PYTHONPATH=$PWD:$PWD/tests python tests/component/abi_bench.py
"""
from __future__ import annotations

import time

from component.abi_testlib import Guest
from component.test_abi_calls import CALLEE_WAT
from pywamr.component.abi import canon_lift, canon_lower
from pywamr.component.abi.flat import values_lowerer
from pywamr.component.types import (F64, STRING, U32, FieldType, FuncType, ListType,
                                    OptionType, RecordType, TupleType)


def fn(params, result=None):
    return FuncType(tuple((f"p{i}", t) for i, t in enumerate(params)), result)


def per_call(f, n: int) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for _ in range(n):
            f()
        best = min(best, (time.process_time() - start) / n)
    return best * 1e6


def main() -> None:
    b, a = Guest(CALLEE_WAT), Guest()
    raw = b.func("add").call
    add = canon_lift(b.opts(), b.state, b.func("add"), fn([U32, U32], U32))
    print(f"core add, called directly:          {per_call(lambda: raw(5, 1), 20000):7.2f} us")
    print(f"host -> lifted add(u32, u32) -> u32: {per_call(lambda: add(5, 1), 20000):7.2f} us")
    lowered_add = canon_lower(a.opts(), a.state, add, fn([U32, U32], U32))
    print(f"core -> lowered -> lifted add:       "
          f"{per_call(lambda: lowered_add.call(5, 1), 20000):7.2f} us")

    ft = fn([STRING], STRING)
    echo = canon_lift(b.opts(), b.state, b.func("echo_string"), ft)
    lowered = canon_lower(a.opts("utf16"), a.state, echo, ft)
    cx = a.cx("utf16")
    ptr, n = values_lowerer(ft.param_types, 16)(cx, ["hello world " * 4])
    out = cx.allocate(4, 8)
    bump_a, bump_b = a.exports["bump"], b.exports["bump"]

    def string_call():
        bump_a.value = bump_b.value = 60000
        lowered.call(ptr, n, out)
    print(f"string echo, utf16 -> utf8 -> utf16, 48 chars: {per_call(string_call, 5000):7.2f} us")

    t = ListType(RecordType((FieldType("a", U32), FieldType("s", STRING),
                             FieldType("o", OptionType(F64)))))
    pad = TupleType((U32,) * 16)
    ft = FuncType((("x", t), ("pad", pad)), TupleType((t, pad)))
    lowered = canon_lower(a.opts(), a.state,
                          canon_lift(b.opts(), b.state, b.func("echo_ptr"), ft), ft)
    cx = a.cx()
    value = [{"a": i, "s": "x" * 5, "o": ("some", 1.5)} for i in range(100)]
    flat = values_lowerer(ft.param_types, 16)(cx, [value, tuple(range(16))])
    out = cx.allocate(8, 256)

    def list_call():
        bump_a.value = 200000
        bump_b.value = 1024
        lowered.call(*flat, out)
    print(f"echo of 100 records (u32, string, option<f64>): {per_call(list_call, 100):7.1f} us")


if __name__ == "__main__":
    main()
