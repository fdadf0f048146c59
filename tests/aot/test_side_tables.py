"""The aot translator consumes the validator's side tables instead of re-deriving them:
block signatures, heights under block parameters and the end of unreachable code."""
from __future__ import annotations

import pytest

from aot_testlib import instance, wat
from pywamr.aot.translate import ModuleInfo, chunk_ir
from pywamr.binary.decoder import decode_module
from pywamr.record import replace
from pywamr.validate import validate_module

BLOCKY = """(module (type $t (func (param i32 i32) (result i32)))
  (func $f (export "f") (param i32) (result i32)
    (block $out (result i32)
      (i32.const 10) (local.get 0)
      (block (type $t) (param i32 i32) (result i32)
        (if (param i32 i32) (result i32) (local.get 0)
          (then i32.add)
          (else i32.sub (br $out) (block (loop (br 0))) (i32.const 99)))
        (loop (param i32) (result i32) (i32.const 1) i32.add))
      (return)
      (block (nop) (unreachable) (i32.const 5) (drop))
      (i32.const 7))))"""


def _ir(validated, module=None):
    info = ModuleInfo(module or validated.module, validated.func_types, validated.funcs)
    return chunk_ir(info, range(info.num_imported_funcs, len(info.func_types)),
                    with_entries=True)


def test_blocktype_immediates_are_not_consulted():
    validated = validate_module(decode_module(wat(BLOCKY)))
    reference = _ir(validated)
    code = validated.module.codes[0]
    # every blocktype immediate replaced by an index no type has: only the side tables remain
    body = tuple((instr[0], 0xFFFF) if instr[0] in (0x02, 0x03, 0x04) else instr
                 for instr in code.body)
    scrambled = replace(validated.module,
                        codes=(replace(code, body=body),))
    assert _ir(validated, scrambled) == reference


def test_translation_requires_side_tables():
    validated = validate_module(decode_module(wat(BLOCKY)))
    info = ModuleInfo(validated.module, validated.func_types)
    with pytest.raises(ValueError, match="side tables"):
        chunk_ir(info, [0])


@pytest.mark.parametrize("arg,expected", [(0, 10), (1, 12), (-3, 8)])
def test_blocks_with_params_and_dead_code(arg, expected):
    # arg != 0: 10 + arg, +1 by the loop, return; arg == 0: 10 - 0 leaves by `br $out`
    for kind in ("aot", "interp"):
        f = instance(BLOCKY, engine_kind=kind).exports["f"]
        assert f(arg) & 0xFFFFFFFF == expected & 0xFFFFFFFF, kind
