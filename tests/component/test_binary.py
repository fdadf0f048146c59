"""The component binary decoder (pywamr.component.binary): shapes of the AST it produces,
malformed input refused with DecodeError and an offset, unsupported proposals refused by name,
and no other exception for truncated or corrupted bytes."""
import random

import pytest

from pywamr.component import ast
from pywamr.component.binary import decode_component, is_component
from pywamr.component.types import STRING, U32, S32, U8
from pywamr.errors import DecodeError, MalformedNotSupported, NotSupported, WasmError
from pywamr_testlib import wat

PREAMBLE = b"\0asm\x0d\0\x01\0"

SAMPLE = """
(component
  (import "host" (instance $h (export "f" (func (param "x" u32) (result string)))))
  (type $r (record (field "a" u32) (field "b" (list string))))
  (type $res (resource (rep i32)))
  (core module $m
    (func (export "g") (param i32) (result i32) local.get 0)
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (func $g (param "x" s32) (result s32) (canon lift (core func $i "g")))
  (alias export $h "f" (func $f))
  (core func $fl (canon lower (func $f) (memory (core memory $i "mem"))
                   (realloc (core func $i "realloc")) string-encoding=utf16))
  (core func $rn (canon resource.new $res))
  (component $inner (import "x" (func (param "a" u8))) (export "y" (func 0)))
  (instance $ii (instantiate $inner (with "x" (func $g))))
  (export "g" (func $g))
)
"""


@pytest.fixture(scope="module")
def sample_bytes():
    return wat(SAMPLE)


def section(section_id: int, body: bytes) -> bytes:
    assert len(body) < 128
    return bytes([section_id, len(body)]) + body


def test_sample_shapes(sample_bytes):
    assert is_component(sample_bytes)
    c = decode_component(sample_bytes)
    kinds = [type(d).__name__ for d in c.definitions]
    assert kinds == ["Type", "Import", "Type", "Type", "Type", "CoreModule", "CoreInstance",
                     "Type", "AliasCoreExport", "CanonLift", "AliasExport", "AliasCoreExport",
                     "AliasCoreExport", "CanonLower", "CanonResourceNew", "Component",
                     "Instance", "Export"]
    inst_type = c.definitions[0].t
    assert isinstance(inst_type, ast.InstanceTypeDef)
    func = inst_type.decls[0].t
    assert func == ast.FuncTypeDef((("x", U32),), STRING, False)
    assert inst_type.decls[1] == ast.ExportDecl(ast.ExternName("f"), ast.ExternDesc("func", 0))
    imp = c.definitions[1]
    assert imp.name.name == "host" and imp.desc == ast.ExternDesc("instance", 0)
    assert c.definitions[2].t == ast.ListDef(STRING)
    assert c.definitions[3].t == ast.RecordDef((("a", U32), ("b", 1)))
    assert c.definitions[4].t == ast.ResourceTypeDef(0x7F, None)
    module = c.definitions[5]
    assert module.data[:4] == b"\0asm" and sample_bytes[module.offset:module.offset + 4] == b"\0asm"
    assert [e.name for e in module.decode().exports] == ["g", "mem", "realloc"]
    assert c.definitions[6].expr == ast.CoreInstantiate(0, ())
    assert c.definitions[7].t.params == (("x", S32),)
    lift = c.definitions[9]
    assert (lift.core_func, lift.options, lift.type_index) == (0, (), 4)
    lower = c.definitions[13]
    assert lower.func == 1
    assert lower.options == (ast.CanonOption("memory", 0), ast.CanonOption("realloc", 1),
                             ast.CanonOption("string-encoding", "utf16"))
    assert c.definitions[14].type_index == 3
    inner = c.definitions[15]
    assert isinstance(inner, ast.Component)
    assert inner.definitions[0].t.params == (("a", U8),)
    assert inner.definitions[2] == ast.Export(ast.ExternName("y"), ast.SortIndex("func", 0),
                                              None, inner.definitions[2].offset)
    assert sample_bytes[inner.offset:inner.offset + 8] == PREAMBLE
    assert c.definitions[16].expr == ast.Instantiate(0, (("x", ast.SortIndex("func", 0)),))
    assert c.names["func"] == {0: "g", 1: "f"}
    assert c.names["core module"] == {0: "m"}


def test_offsets_point_at_definitions(sample_bytes):
    c = decode_component(sample_bytes)
    # a canon lift starts with 0x00 0x00, a lower with 0x01 0x00
    lift, lower = c.definitions[9], c.definitions[13]
    assert sample_bytes[lift.offset:lift.offset + 2] == b"\0\0"
    assert sample_bytes[lower.offset:lower.offset + 2] == b"\x01\0"


def test_all_value_types():
    c = decode_component(wat("""
      (component
        (type $res (resource (rep i32)))
        (type (variant (case "a") (case "b" u8)))
        (type (tuple u8 string))
        (type (flags "x" "y"))
        (type (enum "p" "q"))
        (type (option char))
        (type (result u32 (error string)))
        (type (result))
        (type (own $res))
        (type (borrow $res))
        (type (func (param "a" bool) (param "b" s64) (param "c" f32) (param "d" f64)))
      )"""))
    ts = [d.t for d in c.definitions]
    assert ts[1] == ast.VariantDef((("a", None), ("b", U8)))
    assert ts[2] == ast.TupleDef((U8, STRING))
    assert ts[3] == ast.FlagsDef(("x", "y"))
    assert ts[4] == ast.EnumDef(("p", "q"))
    assert isinstance(ts[5], ast.OptionDef) and ts[5].t.name == "char"
    assert ts[6] == ast.ResultDef(U32, STRING)
    assert ts[7] == ast.ResultDef(None, None)
    assert ts[8] == ast.OwnDef(0) and ts[9] == ast.BorrowDef(0)
    assert [t.name for _, t in ts[10].params] == ["bool", "s64", "f32", "f64"]
    assert ts[10].result is None


def test_type_bounds_and_component_types():
    c = decode_component(wat("""
      (component
        (import "r" (type $r (sub resource)))
        (import "e" (type (eq $r)))
        (type (component
          (import "x" (func))
          (export "y" (instance (export "z" (type (sub resource)))))))
      )"""))
    assert c.definitions[0].desc == ast.ExternDesc("type", None, ast.TypeBoundDef("sub-resource"))
    assert c.definitions[1].desc.bound == ast.TypeBoundDef("eq", 0)
    ct = c.definitions[2].t
    assert isinstance(ct, ast.ComponentTypeDef)
    assert any(isinstance(d, ast.ImportDecl) for d in ct.decls)
    assert any(isinstance(d, ast.ExportDecl) and d.desc.sort == "instance" for d in ct.decls)


def test_core_module_type_decls():
    c = decode_component(wat("""
      (component
        (core type (module
          (type (func (param i32)))
          (import "a" "b" (func (type 0)))
          (export "m" (memory 1))
          (export "g" (global (mut i64))))))"""))
    mt = c.definitions[0].t
    assert isinstance(mt, ast.CoreModuleTypeDef)
    kinds = [type(d).__name__ for d in mt.decls]
    assert kinds == ["CoreTypeDecl", "Import", "CoreExportDecl", "CoreExportDecl"]
    assert mt.decls[1].desc == 0 and mt.decls[2].kind == "memory"


def test_resource_with_destructor_and_builtins():
    c = decode_component(wat("""
      (component
        (core module $m (func (export "d") (param i32)))
        (core instance $i (instantiate $m))
        (type $r (resource (rep i32) (dtor (core func $i "d"))))
        (core func (canon resource.drop $r))
        (core func (canon resource.rep $r)))"""))
    res = [d for d in c.definitions if isinstance(d, ast.Type)][0].t
    assert res == ast.ResourceTypeDef(0x7F, 0)
    assert isinstance(c.definitions[-2], ast.CanonResourceDrop)
    assert isinstance(c.definitions[-1], ast.CanonResourceRep)


def test_async_builtins_decode_as_unsupported():
    # canon section: 1 definition, 0x1f = waitable-set.new; 0x0e 0x00 = stream.new type 0
    c = decode_component(PREAMBLE + section(8, b"\x02\x1f\x0e\x00"))
    assert [d.name for d in c.definitions] == ["waitable-set.new", "stream.new"]
    assert all(isinstance(d, ast.CanonUnsupported) for d in c.definitions)


@pytest.mark.parametrize("data,message", [
    (b"\0asn\x0d\0\x01\0", "magic"),
    (b"\0asm\x0d\0", "unexpected end"),
    (b"\0asm\x0e\0\x01\0", "version"),
    (b"\0asm\x0d\0\x02\0", "layer"),
    (b"\0asm\x01\0\0\0", "core module"),
    (PREAMBLE + b"\x0d\x00", "unknown component section"),
    (PREAMBLE + b"\x07\x05\x01", "out of bounds"),
    (PREAMBLE + section(7, b"\x01\x72\x01\x01a\x7f") + b"\x00", "unexpected end"),
    (PREAMBLE + section(7, b"\x01\x30"), "leading byte"),
    (PREAMBLE + section(7, b"\x01\x72\x00\x00"), "section size mismatch"),
    (PREAMBLE + section(6, b"\x01\x01\x02\x00\x00"), "outer alias"),
    (PREAMBLE + section(6, b"\x01\x00\x13\x02\x00\x00"), "core sort"),
    (PREAMBLE + section(8, b"\x01\x00\x01\x00\x00\x00"), "canon lift"),
    (PREAMBLE + section(8, b"\x01\x01\x00\x00\x01\x09"), "canonical option"),
    (PREAMBLE + section(8, b"\x01\x7f"), "canonical function"),
    (PREAMBLE + section(10, b"\x01\x03\x01a\x01\x00"), "extern name"),
    (PREAMBLE + section(10, b"\x01\x00\x02\xff\xfe\x01\x00"), "UTF-8"),
    (PREAMBLE + section(1, b"\0asm\x01\0\0\0\x01\x01"), "core module"),
    (PREAMBLE + section(4, b"\0asm\x01\0\0\0"), "core module, not a component"),
])
def test_malformed(data, message):
    with pytest.raises(DecodeError) as info:
        decode_component(data)
    assert message in str(info.value)
    assert info.value.offset is not None


@pytest.mark.parametrize("data,feature", [
    (PREAMBLE + section(12, b"\x00"), "value definitions"),
    (PREAMBLE + section(10, b"\x01\x00\x01a\x02\x01\x7f"), "value imports"),
    (PREAMBLE + section(3, b"\x01\x4e\x00"), "GC core types"),
    (PREAMBLE + section(3, b"\x01\x00\x50\x00\x60\x00\x00"), "GC core types"),
])
def test_not_supported(data, feature):
    with pytest.raises(MalformedNotSupported) as info:
        decode_component(data)
    assert feature in str(info.value)


def test_deep_nesting_is_refused_not_a_crash():
    body = b""
    for _ in range(300):
        inner = PREAMBLE + body
        body = bytes([4]) + _uleb(len(inner)) + inner
    with pytest.raises(NotSupported):
        decode_component(PREAMBLE + body)


def test_deep_type_nesting_is_refused_not_a_crash():
    decl = b"\x42\x00"                      # an empty instance type
    for _ in range(300):                     # instance type declaring one nested type
        decl = b"\x42\x01\x01" + decl
    body = b"\x01" + decl
    data = PREAMBLE + bytes([7]) + _uleb(len(body)) + body
    with pytest.raises(NotSupported):
        decode_component(data)


def test_bad_name_section_is_ignored():
    payload = b"\x0ecomponent-name" + b"\x01\x05\x00\x01\xff"
    c = decode_component(PREAMBLE + section(0, payload))
    assert c.definitions == ()
    assert c.customs[0][0] == "component-name"


def _section_ends(data: bytes) -> set:
    """Offsets where a top-level section ends (a cut there leaves a well-formed component)."""
    from pywamr.binary.reader import Reader
    r = Reader(data, 8)
    ends = {8}
    while not r.at_end():
        r.byte()
        size = r.u32()
        r.pos += size
        ends.add(r.pos)
    return ends


def test_every_truncation_is_a_decode_error(sample_bytes):
    ends = _section_ends(sample_bytes)
    for n in range(len(sample_bytes)):
        try:
            decode_component(sample_bytes[:n])
        except DecodeError:
            assert n not in ends or n < 8
            continue
        assert n in ends, f"a cut at {n} inside a section decoded"


def test_random_corruption_raises_only_wasm_errors(sample_bytes):
    rng = random.Random(1234)
    for _ in range(600):
        data = bytearray(sample_bytes)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(8, len(data))] = rng.randrange(256)
        try:
            decode_component(bytes(data))
        except WasmError:
            pass


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)
