"""The flat form's dispatch tree (pywamr/interp/flat.py): sections reached through nested
`if pc in {...}:` guards instead of one chain of `if pc == N:` tests.

A big interpreter loop (SpiderMonkey's has ~1,900 sections) made each branch scan every
section before its target; these tests pin the tree's shape (every section kept, in order,
under guards that name exactly its pcs, at most DISPATCH_FANOUT per guard) and run switch-like
wasm with hundreds of sections, falling through across group boundaries, against wasmtime.
"""
import re

import pytest
import wasmtime

import pywamr.interp.translate as translate
from pywamr import Engine, Module
from pywamr.engine import Instance
from pywamr.interp.flat import DISPATCH_FANOUT, dispatch_tree
from pywamr_testlib import wat

_GUARD = re.compile(r"( *)if pc in \{([\d, ]+)\}:$")
_SECTION = re.compile(r"( *)if pc == (\d+):$")


def _fake_function(pcs):
    lines = ["def f(l0):", "    pc = 0", "    while True:"]
    for pc in pcs:
        lines += [f"        if pc == {pc}:", f"            x = {pc}", f"            pc = {pc + 1}"]
    return lines


def _walk(lines):
    """(sections in order [(pc, body)], guards [(depth, pcs under it, children)])."""
    sections, guards, open_guards = [], [], []
    for i, line in enumerate(lines[3:], 3):
        indent = len(line) - len(line.lstrip())
        while open_guards and indent <= open_guards[-1][0]:
            open_guards.pop()
        guard = _GUARD.match(line)
        section = _SECTION.match(line)
        if guard:
            record = [indent, {int(p) for p in guard.group(2).split(", ")}, set(), 0]
            if open_guards:
                open_guards[-1][3] += 1
            guards.append(record)
            open_guards.append(record)
        elif section:
            pc = int(section.group(2))
            if open_guards:
                open_guards[-1][3] += 1
            for record in open_guards:
                record[2].add(pc)
            depth = (indent - 8) // 4
            sections.append((pc, [lines[i][4 * depth:], lines[i + 1][4 * depth:],
                                  lines[i + 2][4 * depth:]]))
    return sections, guards


@pytest.mark.parametrize("count", [1, DISPATCH_FANOUT, DISPATCH_FANOUT + 1, 300, 5000])
def test_tree_keeps_every_section_in_order_under_exact_guards(count):
    pcs = list(range(count))[::-1]          # pcs need not be in source order
    lines = _fake_function(pcs)
    tree = dispatch_tree(lines)
    sections, guards = _walk(tree)
    assert [pc for pc, _ in sections] == pcs
    assert [line for _, body in sections for line in body] == lines[3:]
    for _, declared, nested, children in guards:
        assert declared == nested, "a guard must name exactly the sections under it"
        assert children <= DISPATCH_FANOUT
    if count <= DISPATCH_FANOUT:
        assert tree == lines
    else:
        top = [g for g in guards if g[0] == 8]
        assert 1 < len(top) <= DISPATCH_FANOUT
        levels = max((g[0] - 8) // 4 for g in guards) + 1     # of guards, above the leaves
        assert DISPATCH_FANOUT ** (levels + 1) >= count > DISPATCH_FANOUT ** levels


def _switch_module(cases: int) -> str:
    """A loop over a br_table switch of `cases` cases that fall through (C-style): case k
    runs the code of cases k .. cases-1, each `acc = acc * 3 + k`."""
    opens = "(block " * cases
    labels = " ".join(str(k) for k in range(cases))
    bodies = "".join(
        f") (local.set 1 (i32.add (i32.mul (local.get 1) (i32.const 3)) (i32.const {k})))"
        for k in range(cases))
    return f"""(module (func (export "run") (param i32) (result i32) (local i32 i32)
      (loop $top
        {opens} (br_table {labels} (i32.rem_u (local.get 2) (i32.const {cases}))) {bodies}
        (local.set 2 (i32.add (local.get 2) (i32.const 1)))
        (br_if $top (i32.lt_u (local.get 2) (local.get 0))))
      (local.get 1)))"""


def _expected(cases: int, n: int) -> int:
    acc = 0
    for i in range(max(n, 1)):
        for k in range(i % cases, cases):
            acc = (acc * 3 + k) & 0xFFFFFFFF
    return acc - (1 << 32) if acc >= 1 << 31 else acc


@pytest.mark.parametrize("attempts", [((True, True),), ((True, False),)],
                         ids=["flat", "flat-unfolded"])
def test_switch_with_hundreds_of_sections(attempts, monkeypatch):
    monkeypatch.setattr(translate, "ATTEMPTS", attempts)
    cases, n = 300, 700
    wasm = wat(_switch_module(cases))
    store = wasmtime.Store()
    oracle = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), []).exports(store)
    exports = Instance(None, Module(Engine("interp"), wasm), []).exports
    for arg in (0, 1, cases - 1, cases + 1, n):
        assert exports["run"](arg) == oracle["run"](store, arg) == _expected(cases, arg)
