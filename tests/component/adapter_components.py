"""The WebAssembly text of the components test_native_adapters.py calls across."""

# a bump allocator's `realloc`: shrinking keeps the block, growing copies it
BUMP = """local.get 0
            if local.get 3 local.get 1 i32.le_u if local.get 0 return end end
            global.get $bump local.get 2 i32.add i32.const 1 i32.sub
            i32.const 0 local.get 2 i32.sub i32.and local.tee $p
            local.get 3 i32.add global.set $bump
            local.get 0 if local.get $p local.get 0 local.get 1 memory.copy end
            local.get $p"""


# a `realloc` prologue folding each call's (old size, alignment, new size) into $rlog
RLOG = """global.get $rlog i32.const 31 i32.mul local.get 1 i32.add
            i32.const 31 i32.mul local.get 2 i32.add
            i32.const 31 i32.mul local.get 3 i32.add global.set $rlog"""


def memory_component_text(encoding: str = "utf8", caller_encoding: str | None = None) -> str:
    """Component A echoes a string (in `encoding`), list<u16>, list<f32>, list<bool> and
    list<char> (with a bump `realloc` that can be told to return a bad pointer, and a
    `post-return` on the first two that counts), traps on `boom` and returns its raw argument
    as a `char` from `bad-char`. Sibling B has its own memory and `realloc` and calls each of
    them from core code, also with raw bytes or words from a `list<u8>`/`list<u32>` the host
    passes (`echo-bytes-as-string`, `bytes-as-bools`, `words-as-floats`, `words-as-chars`);
    the outer component exports B's callers and A's helpers. B's strings are in
    `caller_encoding` (by default `encoding`); both `realloc`s fold their calls into a
    log (`rlog-a`, `rlog-b`), and A's returns the bad pointer only after `set-skip`'s
    number of good calls."""
    enc = f"string-encoding={encoding}"
    enc_b = f"string-encoding={caller_encoding or encoding}"
    opts_a = '(memory (core memory $ia "mem")) (realloc (core func $ia "realloc"))'
    return f"""(component
      (component $A
        (core module $m
          (memory (export "mem") 1)
          (global $bump (mut i32) (i32.const 1024))
          (global $posts (mut i32) (i32.const 0))
          (global $bad (mut i32) (i32.const 0))
          (global $rlog (mut i32) (i32.const 0))
          (global $skip (mut i32) (i32.const 0))
          (func (export "rlog") (result i32) global.get $rlog)
          (func (export "set-skip") (param i32) local.get 0 global.set $skip)
          (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
            {RLOG}
            global.get $skip
            if global.get $skip i32.const 1 i32.sub global.set $skip
            else global.get $bad if global.get $bad return end end
            {BUMP})
          (func (export "echo") (param i32 i32) (result i32)
            i32.const 16 local.get 0 i32.store
            i32.const 20 local.get 1 i32.store
            i32.const 16)
          (func (export "post") (param i32)
            global.get $posts i32.const 1 i32.add global.set $posts)
          (func (export "posts") (result i32) global.get $posts)
          (func (export "set-bad") (param i32) local.get 0 global.set $bad)
          (func (export "boom") (param i32) (result i32) unreachable)
          (func (export "raw") (param i32) (result i32) local.get 0))
        (core instance $ia (instantiate $m))
        (func (export "echo-string") (param "s" string) (result string)
          (canon lift (core func $ia "echo") {enc} {opts_a} (post-return (core func $ia "post"))))
        (func (export "echo-list") (param "l" (list u16)) (result (list u16))
          (canon lift (core func $ia "echo") {opts_a} (post-return (core func $ia "post"))))
        (func (export "echo-floats") (param "l" (list f32)) (result (list f32))
          (canon lift (core func $ia "echo") {opts_a}))
        (func (export "echo-bools") (param "l" (list bool)) (result (list bool))
          (canon lift (core func $ia "echo") {opts_a}))
        (func (export "echo-chars") (param "l" (list char)) (result (list char))
          (canon lift (core func $ia "echo") {opts_a}))
        (func (export "posts") (result u32) (canon lift (core func $ia "posts")))
        (func (export "set-bad") (param "v" u32) (canon lift (core func $ia "set-bad")))
        (func (export "boom") (param "v" u32) (result u32) (canon lift (core func $ia "boom")))
        (func (export "bad-char") (param "v" u32) (result char)
          (canon lift (core func $ia "raw")))
        (func (export "rlog") (result u32) (canon lift (core func $ia "rlog")))
        (func (export "set-skip") (param "n" u32) (canon lift (core func $ia "set-skip"))))
      (component $B
        (import "echo-string" (func $es (param "s" string) (result string)))
        (import "echo-list" (func $el (param "l" (list u16)) (result (list u16))))
        (import "echo-floats" (func $ef (param "l" (list f32)) (result (list f32))))
        (import "echo-bools" (func $eb (param "l" (list bool)) (result (list bool))))
        (import "echo-chars" (func $ec (param "l" (list char)) (result (list char))))
        (import "boom" (func $boom (param "v" u32) (result u32)))
        (import "bad-char" (func $bc (param "v" u32) (result char)))
        (core module $mem
          (memory (export "mem") 1)
          (global $bump (mut i32) (i32.const 4096))
          (global $rlog (mut i32) (i32.const 0))
          (func (export "rlog") (result i32) global.get $rlog)
          (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
            {RLOG}
            {BUMP}))
        (core instance $im (instantiate $mem))
        (core func $les (canon lower (func $es) {enc_b} (memory (core memory $im "mem")) (realloc (core func $im "realloc"))))
        (core func $lel (canon lower (func $el) (memory (core memory $im "mem")) (realloc (core func $im "realloc"))))
        (core func $lef (canon lower (func $ef) (memory (core memory $im "mem"))
          (realloc (core func $im "realloc"))))
        (core func $leb (canon lower (func $eb) (memory (core memory $im "mem"))
          (realloc (core func $im "realloc"))))
        (core func $lec (canon lower (func $ec) (memory (core memory $im "mem"))
          (realloc (core func $im "realloc"))))
        (core func $lboom (canon lower (func $boom)))
        (core func $lbc (canon lower (func $bc)))
        (core module $caller
          (import "" "es" (func $es (param i32 i32 i32)))
          (import "" "el" (func $el (param i32 i32 i32)))
          (import "" "boom" (func $boom (param i32) (result i32)))
          (import "" "bc" (func $bc (param i32) (result i32)))
          (import "" "mem" (memory 1))
          (import "" "ef" (func $ef (param i32 i32 i32)))
          (import "" "eb" (func $eb (param i32 i32 i32)))
          (import "" "ec" (func $ec (param i32 i32 i32)))
          (func (export "ef") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 80 call $ef i32.const 80)
          (func (export "eb") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 88 call $eb i32.const 88)
          (func (export "ec") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 96 call $ec i32.const 96)
          (func (export "raw-bools") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 88 call $eb i32.const 88)
          (func (export "raw-floats") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 80 call $ef i32.const 80)
          (func (export "raw-chars") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 96 call $ec i32.const 96)
          (func (export "es") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 64 call $es i32.const 64)
          (func (export "el") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 72 call $el i32.const 72)
          (func (export "boom") (param i32) (result i32) local.get 0 call $boom)
          (func (export "bc") (param i32) (result i32) local.get 0 call $bc)
          (func (export "raw") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.const 64 call $es i32.const 68 i32.load))
        (core instance $ic (instantiate $caller (with "" (instance
          (export "es" (func $les)) (export "el" (func $lel))
          (export "boom" (func $lboom)) (export "bc" (func $lbc))
          (export "mem" (memory $im "mem")) (export "ef" (func $lef))
          (export "eb" (func $leb)) (export "ec" (func $lec))))))
        (func (export "call-echo-floats") (param "l" (list f32)) (result (list f32))
          (canon lift (core func $ic "ef") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "call-echo-bools") (param "l" (list bool)) (result (list bool))
          (canon lift (core func $ic "eb") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "call-echo-chars") (param "l" (list char)) (result (list char))
          (canon lift (core func $ic "ec") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "bytes-as-bools") (param "l" (list u8)) (result (list u8))
          (canon lift (core func $ic "raw-bools") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "words-as-floats") (param "l" (list u32)) (result (list u32))
          (canon lift (core func $ic "raw-floats") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "words-as-chars") (param "l" (list u32)) (result (list u32))
          (canon lift (core func $ic "raw-chars") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "call-echo-string") (param "s" string) (result string)
          (canon lift (core func $ic "es") {enc_b} (memory (core memory $im "mem")) (realloc (core func $im "realloc"))))
        (func (export "call-echo-list") (param "l" (list u16)) (result (list u16))
          (canon lift (core func $ic "el") (memory (core memory $im "mem")) (realloc (core func $im "realloc"))))
        (func (export "call-boom") (param "v" u32) (result u32)
          (canon lift (core func $ic "boom")))
        (func (export "echo-bytes-as-string") (param "b" (list u8)) (result u32)
          (canon lift (core func $ic "raw") (memory (core memory $im "mem"))
            (realloc (core func $im "realloc"))))
        (func (export "call-bad-char") (param "v" u32) (result char)
          (canon lift (core func $ic "bc")))
        (func (export "rlog") (result u32) (canon lift (core func $im "rlog"))))
      (instance $a (instantiate $A))
      (instance $b (instantiate $B (with "echo-string" (func $a "echo-string"))
        (with "echo-floats" (func $a "echo-floats")) (with "echo-bools" (func $a "echo-bools"))
        (with "echo-chars" (func $a "echo-chars"))
        (with "echo-list" (func $a "echo-list")) (with "boom" (func $a "boom"))
        (with "bad-char" (func $a "bad-char"))))
      (export "call-echo-string" (func $b "call-echo-string"))
      (export "call-echo-list" (func $b "call-echo-list"))
      (export "call-boom" (func $b "call-boom"))
      (export "bytes-as-bools" (func $b "bytes-as-bools"))
      (export "words-as-floats" (func $b "words-as-floats"))
      (export "words-as-chars" (func $b "words-as-chars"))
      (export "call-echo-chars" (func $b "call-echo-chars"))
      (export "echo-bytes-as-string" (func $b "echo-bytes-as-string"))
      (export "call-bad-char" (func $b "call-bad-char"))
      (export "rlog-a" (func $a "rlog"))
      (export "set-skip" (func $a "set-skip"))
      (export "rlog-b" (func $b "rlog"))
      (export "posts" (func $a "posts"))
      (export "set-bad" (func $a "set-bad")))"""


def tuple_component_text() -> str:
    """A's `mix(t: tuple<u8, s16, char, bool>, f: f32) -> u32` adds its raw flat values;
    B's core passes raw values through, so every conversion of the flattened tuple shows."""
    return """(component
      (component $A
        (core module $m (func (export "mix") (param i32 i32 i32 i32 f32) (result i32)
          local.get 0 local.get 1 i32.add local.get 2 i32.add local.get 3 i32.add
          local.get 4 i32.trunc_sat_f32_s i32.add))
        (core instance $i (instantiate $m))
        (func (export "mix") (param "t" (tuple u8 s16 char bool)) (param "f" f32) (result u32)
          (canon lift (core func $i "mix"))))
      (component $B
        (import "mix" (func $mix (param "t" (tuple u8 s16 char bool)) (param "f" f32)
          (result u32)))
        (core func $l (canon lower (func $mix)))
        (core module $c (import "" "mix" (func $mix (param i32 i32 i32 i32 f32) (result i32)))
          (func (export "mix") (param i32 i32 i32 i32 f32) (result i32)
            local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 call $mix))
        (core instance $ic (instantiate $c (with "" (instance (export "mix" (func $l))))))
        (func (export "call-mix") (param "a" u32) (param "b" u32) (param "c" u32)
          (param "d" u32) (param "f" f32) (result u32) (canon lift (core func $ic "mix"))))
      (instance $a (instantiate $A))
      (instance $b (instantiate $B (with "mix" (func $a "mix"))))
      (export "call-mix" (func $b "call-mix")))"""


ENUM_FLAGS = """(component
  (component $A
    (type $e (enum "a" "b" "c"))
    (export $e2 "e" (type $e))
    (type $f (flags "x" "y" "z"))
    (export $f2 "f" (type $f))
    (core module $m (func (export "id") (param i32) (result i32) local.get 0))
    (core instance $i (instantiate $m))
    (func (export "pick") (param "v" $e2) (result $e2) (canon lift (core func $i "id")))
    (func (export "mask") (param "v" $f2) (result $f2) (canon lift (core func $i "id"))))
  (instance $a (instantiate $A))
  (alias export $a "e" (type $te))
  (alias export $a "f" (type $tf))
  (component $B
    (import "e" (type $e (eq $te)))
    (import "f" (type $f (eq $tf)))
    (import "pick" (func $pick (param "v" $e) (result $e)))
    (import "mask" (func $mask (param "v" $f) (result $f)))
    (core func $lp (canon lower (func $pick)))
    (core func $lm (canon lower (func $mask)))
    (core module $c
      (import "" "pick" (func $pick (param i32) (result i32)))
      (import "" "mask" (func $mask (param i32) (result i32)))
      (func (export "pick") (param i32) (result i32) local.get 0 call $pick)
      (func (export "mask") (param i32) (result i32) local.get 0 call $mask))
    (core instance $ic (instantiate $c (with "" (instance (export "pick" (func $lp)) (export "mask" (func $lm))))))
    (func (export "call-pick") (param "v" u32) (result u32) (canon lift (core func $ic "pick")))
    (func (export "call-mask") (param "v" u32) (result u32) (canon lift (core func $ic "mask"))))
  (instance $b (instantiate $B (with "e" (type $te)) (with "f" (type $tf))
    (with "pick" (func $a "pick")) (with "mask" (func $a "mask"))))
  (export "call-pick" (func $b "call-pick"))
  (export "call-mask" (func $b "call-mask")))"""


def reentrance_text() -> str:
    """The root component's core code calls its child's lifted export: parent-to-child
    re-enters the parent, which traps as in the conformance test
    `component-model/async/trap-on-reenter.wast` (wasmtime's current rule; the wasmtime 50
    PyPI package still allows it, so it is not the reference here)."""
    return """(component
      (component $C
        (core module $m (func (export "f") (param i32) (result i32)
          local.get 0 i32.const 1 i32.add))
        (core instance $i (instantiate $m))
        (func (export "f") (param "v" u32) (result u32) (canon lift (core func $i "f"))))
      (instance $c (instantiate $C))
      (core func $lf (canon lower (func $c "f")))
      (core module $p (import "" "f" (func $f (param i32) (result i32)))
        (func (export "g") (param i32) (result i32) local.get 0 call $f))
      (core instance $ip (instantiate $p (with "" (instance (export "f" (func $lf))))))
      (func (export "g") (param "v" u32) (result u32) (canon lift (core func $ip "g")))
      (export "f" (func $c "f")))"""


# (name, type, A's core params, A's core body storing the value at 16, B's raw params)
VARIANT_FUNCS = [
    ("opt", "(option u32)", "i32 i32",
     "i32.const 16 local.get 0 i32.store8 i32.const 20 local.get 1 i32.store", "i32 i32"),
    ("res", "(result f32 (error s8))", "i32 i32",
     "i32.const 16 local.get 0 i32.store8 i32.const 20 local.get 1 i32.store", "i32 i32"),
    ("var", "(variant (case \"a\" u8) (case \"b\") (case \"c\" f64) (case \"d\" char))",
     "i32 i64",
     "i32.const 16 local.get 0 i32.store8 i32.const 24 local.get 1 i64.store", "i32 i64"),
    ("tup", "(tuple u8 (option s16) f32)", "i32 i32 i32 f32",
     "i32.const 16 local.get 0 i32.store8 i32.const 18 local.get 1 i32.store8 "
     "i32.const 20 local.get 2 i32.store16 i32.const 24 local.get 3 f32.store", "i32 i32 i32 f32"),
    ("rec", "(record (field \"x\" (result (error u8))) (field \"y\" bool))",
     "i32 i32 i32",
     "i32.const 16 local.get 0 i32.store8 i32.const 17 local.get 1 i32.store8 "
     "i32.const 18 local.get 2 i32.store8", "i32 i32 i32"),
    # A returns a misaligned pointer whatever it is given
    ("badopt", "(option u32)", "i32 i32", "i32.const 17 return", "i32 i32"),
]
# results that stay one flat value: a payload-free result, a one-field tuple; `flip5`'s
# core returns 5 whatever it is given
FLAT_FUNCS = [("flip", "(result)"), ("one", "(tuple s16)"), ("flip5", "(result)")]
NAMED = ("variant", "record", "enum", "flags")


def _named(t: str) -> bool:
    """Whether a type must be exported by name to appear in an exported function."""
    return t[1:].startswith(NAMED)


def variant_component_text() -> str:
    """A echoes options, results, variants, a tuple and a record holding them, storing its
    flat arguments in its memory at 16 and returning that pointer (so the result is read
    back in A's layout); B's core code passes raw flat values (`call-<name>`), with a return
    area in B's memory, so every lift, lower, load and store shows. `flip` and `one` have
    results of a single flat value, returned directly; `flip-raw` returns its raw argument
    (an out-of-range discriminant shows), `bad-ret` returns a misaligned pointer."""
    all_types = [(n, t) for n, t, *_ in VARIANT_FUNCS] + FLAT_FUNCS
    named = [(n, t) for n, t in all_types if _named(t)]
    ref_a = {n: (f"${n}t" if _named(t) else t) for n, t in all_types}
    ref_b = ref_a
    # the named types are the outer component's, exported, imported by A and B
    outer_types = "\n".join(f"(type ${n}d {t}) (export $a{n} \"{n}-t\" (type ${n}d))"
                            for n, t in named)
    types = "\n".join(f"(import \"{n}-t\" (type ${n}t (eq $a{n})))" for n, _ in named)
    core_a = "\n".join(f"(func (export \"{n}\") (param {p}) (result i32) {body} i32.const 16)"
                       for n, _, p, body, _ in VARIANT_FUNCS)
    lifts_a = "\n".join(f"(func (export \"{n}\") (param \"v\" {ref_a[n]}) (result {ref_a[n]}) "
                        f"(canon lift (core func $i \"{n}\") (memory (core memory $i \"mem\"))))"
                        for n, *_ in VARIANT_FUNCS)
    lifts_a += "\n".join(f"(func (export \"{n}\") (param \"v\" {ref_a[n]}) (result {ref_a[n]}) "
                         f"(canon lift (core func $i \"{'five' if n == 'flip5' else 'id'}\")))"
                         for n, _ in FLAT_FUNCS)
    aliases = ""
    imports_b = "\n".join(f"(import \"{n}-t\" (type ${n}t (eq $a{n})))" for n, _ in named)
    imports_b += "\n".join(f"(import \"{n}\" (func ${n} (param \"v\" {ref_b[n]}) "
                           f"(result {ref_b[n]})))" for n, _ in all_types)
    lowers_b = "\n".join(f"(core func $l{n} (canon lower (func ${n}) "
                         f"(memory (core memory $im \"mem\"))))" for n, *_ in VARIANT_FUNCS)
    lowers_b += "\n".join(f"(core func $l{n} (canon lower (func ${n})))" for n, _ in FLAT_FUNCS)
    core_imports = "\n".join(
        f"(import \"\" \"{n}\" (func ${n} (param {raw} i32)))" for n, _, _, _, raw in
        VARIANT_FUNCS) + "\n".join(f"(import \"\" \"{n}\" (func ${n} (param i32) (result i32)))"
                                   for n, _ in FLAT_FUNCS)
    core_funcs = "\n".join(
        f"(func (export \"{n}\") (param {raw}) (result i32) "
        + " ".join(f"local.get {k}" for k in range(len(raw.split())))
        + f" i32.const 256 call ${n} i32.const 256)" for n, _, _, _, raw in VARIANT_FUNCS)
    core_funcs += "\n".join(f"(func (export \"{n}\") (param i32) (result i32) local.get 0 "
                            f"call ${n})" for n, _ in FLAT_FUNCS)
    instance_args = " ".join(f"(export \"{n}\" (func $l{n}))" for n in
                             [f[0] for f in VARIANT_FUNCS] + [f[0] for f in FLAT_FUNCS])
    raw_types = {"i32": "u32", "i64": "u64", "f32": "f32"}
    lifts_b = "\n".join(
        f"(func (export \"call-{n}\") "
        + " ".join(f"(param \"p{k}\" {raw_types[r]})" for k, r in enumerate(raw.split()))
        + f" (result {ref_b[n]}) (canon lift (core func $ic \"{n}\") "
        f"(memory (core memory $im \"mem\"))))"
        for n, _, _, _, raw in VARIANT_FUNCS)
    lifts_b += "\n".join(f"(func (export \"call-{n}\") (param \"p\" u32) (result {ref_b[n]}) "
                         f"(canon lift (core func $ic \"{n}\")))" for n, _ in FLAT_FUNCS)
    withs_types = " ".join(f"(with \"{n}-t\" (type $a{n}))" for n, _ in named)
    withs = withs_types + " " + " ".join(
        f"(with \"{n}\" (func $a \"{n}\"))" for n, _ in all_types)
    exports = "\n".join(f"(export \"call-{n}\" (func $b \"call-{n}\"))" for n in
                        [f[0] for f in VARIANT_FUNCS] + [f[0] for f in FLAT_FUNCS])
    return f"""(component
      {outer_types}
      (component $A
        {types}
        (core module $m
          (memory (export "mem") 1)
          (func (export "id") (param i32) (result i32) local.get 0)
          (func (export "five") (param i32) (result i32) i32.const 5)
          {core_a})
        (core instance $i (instantiate $m))
        {lifts_a})
      (instance $a (instantiate $A {withs_types}))
      {aliases}
      (component $B
        {imports_b}
        (core module $mem (memory (export "mem") 1))
        (core instance $im (instantiate $mem))
        {lowers_b}
        (core module $c
          {core_imports}
          {core_funcs})
        (core instance $ic (instantiate $c (with "" (instance {instance_args}))))
        {lifts_b})
      (instance $b (instantiate $B {withs}))
      {exports})"""


# (name, list type, element size in bytes)
LIST_FUNCS = [("strings", "(list string)", 8), ("opts", "(list (option u32))", 8),
              ("tups", "(list (tuple u8 char (result f32 (error s8))))", 16),
              ("flips", "(list (result))", 1)]


def list_component_text(encoding: str = "utf8", caller_encoding: str | None = None) -> str:
    """A echoes lists of strings (in `encoding`), options, tuples and payload-free results
    (its core `echo` returns its (pointer, length) argument through its memory); B's strings
    are in `caller_encoding` (by default `encoding`). `call-<name>` passes a list through;
    `raw-<name>` passes the host's bytes as the list's elements (so invalid discriminants,
    chars and string pointers show) and returns the echoed list's length. Both `realloc`s
    log their calls (`rlog-a`, `rlog-b`)."""
    enc_a = f"string-encoding={encoding}"
    enc_b = f"string-encoding={caller_encoding or encoding}"
    mem_a = '(memory (core memory $ia "mem")) (realloc (core func $ia "realloc"))'
    mem_b = '(memory (core memory $im "mem")) (realloc (core func $im "realloc"))'
    lifts_a = "\n".join(f'(func (export "{n}") (param "l" {t}) (result {t}) '
                        f'(canon lift (core func $ia "echo") {enc_a} {mem_a}))'
                        for n, t, _ in LIST_FUNCS)
    imports_b = "\n".join(f'(import "{n}" (func ${n} (param "l" {t}) (result {t})))'
                          for n, t, _ in LIST_FUNCS)
    lowers_b = "\n".join(f'(core func $l{n} (canon lower (func ${n}) {enc_b} {mem_b}))'
                         for n, _, _ in LIST_FUNCS)
    core_imports = "\n".join(f'(import "" "{n}" (func ${n} (param i32 i32 i32)))'
                             for n, _, _ in LIST_FUNCS) + '\n(import "" "mem" (memory 1))'
    core_funcs = "\n".join(
        f'(func (export "{n}") (param i32 i32) (result i32) '
        f'local.get 0 local.get 1 i32.const 64 call ${n} i32.const 64)\n'
        f'(func (export "raw-{n}") (param i32 i32) (result i32) '
        f'local.get 0 local.get 1 i32.const {size} i32.div_u i32.const 64 call ${n} '
        f'i32.const 68 i32.load)' for n, _, size in LIST_FUNCS)
    lifts_b = "\n".join(
        f'(func (export "call-{n}") (param "l" {t}) (result {t}) '
        f'(canon lift (core func $ic "{n}") {enc_b} {mem_b}))\n'
        f'(func (export "raw-{n}") (param "b" (list u8)) (result u32) '
        f'(canon lift (core func $ic "raw-{n}") {mem_b}))' for n, t, _ in LIST_FUNCS)
    withs = " ".join(f'(export "{n}" (func $l{n}))' for n, _, _ in LIST_FUNCS) + \
        ' (export "mem" (memory $im "mem"))'
    b_withs = " ".join(f'(with "{n}" (func $a "{n}"))' for n, _, _ in LIST_FUNCS)
    exports = "\n".join(f'(export "call-{n}" (func $b "call-{n}")) '
                        f'(export "raw-{n}" (func $b "raw-{n}"))' for n, _, _ in LIST_FUNCS)
    return f"""(component
      (component $A
        (core module $m
          (memory (export "mem") 1)
          (global $bump (mut i32) (i32.const 1024))
          (global $rlog (mut i32) (i32.const 0))
          (func (export "rlog") (result i32) global.get $rlog)
          (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
            {RLOG}
            {BUMP})
          (func (export "echo") (param i32 i32) (result i32)
            i32.const 16 local.get 0 i32.store
            i32.const 20 local.get 1 i32.store
            i32.const 16))
        (core instance $ia (instantiate $m))
        {lifts_a}
        (func (export "rlog") (result u32) (canon lift (core func $ia "rlog"))))
      (component $B
        {imports_b}
        (core module $mem
          (memory (export "mem") 1)
          (global $bump (mut i32) (i32.const 4096))
          (global $rlog (mut i32) (i32.const 0))
          (func (export "rlog") (result i32) global.get $rlog)
          (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
            {RLOG}
            {BUMP}))
        (core instance $im (instantiate $mem))
        {lowers_b}
        (core module $c
          {core_imports}
          {core_funcs})
        (core instance $ic (instantiate $c (with "" (instance {withs}))))
        {lifts_b}
        (func (export "rlog") (result u32) (canon lift (core func $im "rlog"))))
      (instance $a (instantiate $A))
      (instance $b (instantiate $B {b_withs}))
      {exports}
      (export "rlog-a" (func $a "rlog"))
      (export "rlog-b" (func $b "rlog")))"""
