"""The WebAssembly text of the components test_native_handles.py moves handles across.

Three siblings: A defines resource `t` (rep i32, a destructor that counts drops) and exports
`make` (own result), `get` and `pair` (borrow parameters, which A receives as reps: it
implements `t`) and `consume` (an own parameter, dropped inside); C, which does not implement
`t`, gets borrowed handles in its own table (`inspect` drops one unless told to keep it, which
traps on return; it has a `post-return`, so the borrow scope closes in a step of its own;
`via` calls A's `get` with the borrow it was lent: a nested call) and moves an
owned one through (`relay`); B calls them all from core code, exported to the host, with the
handle indices of its own table (so any index can be tried), including loops for benchmarks.
"""


# A: defines resource `t` and the functions over it
RESOURCE_COMPONENT = """  (component $A
    (core module $dm
      (global $drops (mut i32) (i32.const 0))
      (global $last (mut i32) (i32.const -1))
      (func (export "dtor") (param i32)
        global.get $drops i32.const 1 i32.add global.set $drops
        local.get 0 global.set $last)
      (func (export "drops") (result i32) global.get $drops)
      (func (export "last") (result i32) global.get $last))
    (core instance $d (instantiate $dm))
    (type $t' (resource (rep i32) (dtor (core func $d "dtor"))))
    (export $t "t" (type $t'))
    (core func $new (canon resource.new $t))
    (core func $rep (canon resource.rep $t))
    (core func $drop (canon resource.drop $t))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (import "" "rep" (func $rep (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (func (export "make") (param i32) (result i32) local.get 0 call $new)
      (func (export "get") (param i32) (result i32) local.get 0)
      (func (export "pair") (param i32 i32) (result i32)
        local.get 0 i32.const 100 i32.mul local.get 1 i32.add)
      (func (export "consume") (param i32 i32) (result i32) (local $r i32)
        local.get 0 call $rep local.set $r
        local.get 0 call $drop
        local.get $r local.get 1 i32.add))
    (core instance $i (instantiate $m (with "" (instance
      (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))))
    (func (export "make") (param "x" u32) (result (own $t)) (canon lift (core func $i "make")))
    (func (export "get") (param "self" (borrow $t)) (result u32)
      (canon lift (core func $i "get")))
    (func (export "pair") (param "self" (borrow $t)) (param "other" (borrow $t)) (result u32)
      (canon lift (core func $i "pair")))
    (func (export "consume") (param "self" (own $t)) (param "x" u32) (result u32)
      (canon lift (core func $i "consume")))
    (func (export "drops") (result u32) (canon lift (core func $d "drops")))
    (func (export "last") (result u32) (canon lift (core func $d "last"))))
"""


def handle_component_text() -> str:
    return """(component
{A}  (instance $a (instantiate $A))

  (component $C
    (import "a" (instance $ai
      (export "t" (type $t (sub resource)))
      (export "get" (func (param "self" (borrow $t)) (result u32)))))
    (alias export $ai "t" (type $t))
    (alias export $ai "get" (func $get))
    (core func $get (canon lower (func $get)))
    (core func $drop (canon resource.drop $t))
    (core module $m
      (import "" "get" (func $get (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (func (export "inspect") (param i32 i32) (result i32)
        local.get 1 i32.eqz if local.get 0 call $drop end
        local.get 0)
      (func (export "relay") (param i32) (result i32) local.get 0)
      (func (export "post") (param i32))
      (func (export "via") (param i32) (result i32) (local $v i32)
        local.get 0 call $get local.set $v
        local.get 0 call $drop
        local.get $v))
    (core instance $i (instantiate $m (with "" (instance
      (export "get" (func $get)) (export "drop" (func $drop))))))
    (func (export "inspect") (param "x" (borrow $t)) (param "keep" u32) (result u32)
      (canon lift (core func $i "inspect") (post-return (core func $i "post"))))
    (func (export "relay") (param "x" (own $t)) (result (own $t))
      (canon lift (core func $i "relay")))
    (func (export "via") (param "x" (borrow $t)) (result u32)
      (canon lift (core func $i "via"))))
  (instance $c (instantiate $C (with "a" (instance $a))))

  (component $B
    (import "a" (instance $ai
      (export "t" (type $t (sub resource)))
      (export "make" (func (param "x" u32) (result (own $t))))
      (export "get" (func (param "self" (borrow $t)) (result u32)))
      (export "pair" (func (param "self" (borrow $t)) (param "other" (borrow $t)) (result u32)))
      (export "consume" (func (param "self" (own $t)) (param "x" u32) (result u32)))))
    (alias export $ai "t" (type $t))
    (import "c" (instance $ci
      (export "inspect" (func (param "x" (borrow $t)) (param "keep" u32) (result u32)))
      (export "relay" (func (param "x" (own $t)) (result (own $t))))
      (export "via" (func (param "x" (borrow $t)) (result u32)))))
    (core func $make (canon lower (func $ai "make")))
    (core func $get (canon lower (func $ai "get")))
    (core func $pair (canon lower (func $ai "pair")))
    (core func $consume (canon lower (func $ai "consume")))
    (core func $inspect (canon lower (func $ci "inspect")))
    (core func $relay (canon lower (func $ci "relay")))
    (core func $via (canon lower (func $ci "via")))
    (core func $drop (canon resource.drop $t))
    (core module $m
      (import "" "make" (func $make (param i32) (result i32)))
      (import "" "get" (func $get (param i32) (result i32)))
      (import "" "pair" (func $pair (param i32 i32) (result i32)))
      (import "" "consume" (func $consume (param i32 i32) (result i32)))
      (import "" "inspect" (func $inspect (param i32 i32) (result i32)))
      (import "" "relay" (func $relay (param i32) (result i32)))
      (import "" "via" (func $via (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (func $mix (param i32 i32) (result i32) local.get 0 i32.const 31 i32.mul local.get 1 i32.add)
      (func (export "scenario") (param $x i32) (result i32)
        (local $h1 i32) (local $h2 i32) (local $h3 i32) (local $acc i32)
        local.get $x call $make local.set $h1
        local.get $x i32.const 1 i32.add call $make local.set $h2
        local.get $h1 call $get local.set $acc
        local.get $acc local.get $h1 local.get $h2 call $pair call $mix local.set $acc
        local.get $h2 call $relay local.set $h3
        local.get $acc local.get $h3 call $mix local.set $acc
        local.get $acc local.get $h3 i32.const 0 call $inspect call $mix local.set $acc
        local.get $acc local.get $h1 call $via call $mix local.set $acc
        local.get $acc local.get $h3 i32.const 5 call $consume call $mix local.set $acc
        local.get $h1 call $drop
        local.get $acc local.get $x call $make call $mix)
      (func (export "bad-get") (param i32) (result i32) local.get 0 call $get)
      (func (export "bad-consume") (param i32) (result i32) local.get 0 i32.const 0 call $consume)
      (func (export "keep-borrow") (param i32) (result i32)
        local.get 0 call $make i32.const 1 call $inspect)
      (func (export "consume-twice") (param i32) (result i32) (local $h i32)
        local.get 0 call $make local.set $h
        local.get $h i32.const 0 call $consume drop
        local.get $h i32.const 0 call $consume)
      (func (export "borrow-loop") (param $n i32) (result i32) (local $h i32) (local $acc i32)
        i32.const 7 call $make local.set $h
        block $done loop $next
          local.get $n i32.eqz br_if $done
          local.get $acc local.get $h call $get i32.add local.set $acc
          local.get $n i32.const 1 i32.sub local.set $n
          br $next end end
        local.get $h call $drop
        local.get $acc)
      (func (export "own-loop") (param $n i32) (result i32) (local $h i32)
        i32.const 7 call $make local.set $h
        block $done loop $next
          local.get $n i32.eqz br_if $done
          local.get $h call $relay local.set $h
          local.get $n i32.const 1 i32.sub local.set $n
          br $next end end
        local.get $h i32.const 0 call $consume))
    (core instance $i (instantiate $m (with "" (instance
      (export "make" (func $make)) (export "get" (func $get)) (export "pair" (func $pair))
      (export "consume" (func $consume)) (export "inspect" (func $inspect))
      (export "relay" (func $relay)) (export "via" (func $via)) (export "drop" (func $drop))))))
    (func (export "scenario") (param "x" u32) (result u32) (canon lift (core func $i "scenario")))
    (func (export "bad-get") (param "i" u32) (result u32) (canon lift (core func $i "bad-get")))
    (func (export "bad-consume") (param "i" u32) (result u32)
      (canon lift (core func $i "bad-consume")))
    (func (export "keep-borrow") (param "x" u32) (result u32)
      (canon lift (core func $i "keep-borrow")))
    (func (export "consume-twice") (param "x" u32) (result u32)
      (canon lift (core func $i "consume-twice")))
    (func (export "borrow-loop") (param "n" u32) (result u32)
      (canon lift (core func $i "borrow-loop")))
    (func (export "own-loop") (param "n" u32) (result u32) (canon lift (core func $i "own-loop"))))
  (instance $b (instantiate $B (with "a" (instance $a)) (with "c" (instance $c))))
  (export "scenario" (func $b "scenario"))
  (export "bad-get" (func $b "bad-get"))
  (export "bad-consume" (func $b "bad-consume"))
  (export "keep-borrow" (func $b "keep-borrow"))
  (export "consume-twice" (func $b "consume-twice"))
  (export "borrow-loop" (func $b "borrow-loop"))
  (export "own-loop" (func $b "own-loop"))
  (export "drops" (func $a "drops"))
  (export "last" (func $a "last")))""".replace("{A}", RESOURCE_COMPONENT)


def handle_reentrance_text() -> str:
    """The root component's core code calls its child A's `make` (an own result) and `get`
    (a borrow parameter): parent-to-child re-enters the parent, which traps (see
    adapter_components.reentrance_text); `get` with a bad index traps on the handle first."""
    return """(component
{A}  (instance $a (instantiate $A))
  (core func $make (canon lower (func $a "make")))
  (core func $get (canon lower (func $a "get")))
  (core module $p
    (import "" "make" (func $make (param i32) (result i32)))
    (import "" "get" (func $get (param i32) (result i32)))
    (func (export "g") (param i32) (result i32) local.get 0 call $make)
    (func (export "h") (param i32) (result i32) local.get 0 call $get))
  (core instance $ip (instantiate $p (with "" (instance
    (export "make" (func $make)) (export "get" (func $get))))))
  (func (export "g") (param "v" u32) (result u32) (canon lift (core func $ip "g")))
  (func (export "h") (param "v" u32) (result u32) (canon lift (core func $ip "h")))
  (export "drops" (func $a "drops")))""".replace("{A}", RESOURCE_COMPONENT)
