"""Tail calls on the interpreter (`return_call`, `return_call_indirect`) in constant stack space.

Sits beside the translator (`emit.py` emits the tail calls) and the instance (`instance.py`
wraps the functions that make them). The scheme is a trampoline:

- A function whose body contains a tail call is translated to a *body* that, at a tail call,
  returns `TailCall((callee, args))` instead of calling: its own Python frame is gone before
  the callee runs, as the wasm frame must be.
- The function's `call` (what every ordinary call site, table, export and host reaches) is
  `trampoline(body)`: it runs the body and, while the result is a `TailCall`, runs the callee
  on the arguments. A callee whose `call` is itself a trampoline carries its body as
  `tail_body`, which the loop runs directly, so a chain of tail calls through any number of
  functions (same instance, another interpreter instance, through tables) uses one trampoline
  frame and one body frame. A callee without `tail_body` (a function that makes no tail call,
  a host function, native code) is called normally and its result ends the loop: its frame
  lives only for that call, so the stack still does not grow along the chain.
- Functions that make no tail call are translated and called exactly as before: ordinary calls
  pay nothing for the feature.

A trampoline's frame is Python code outside the wasm file name, so backtraces
(`runtime.trapping.wasm_frames`) show the callee where the tail-calling function was, as in
wasmtime. Deliberately not here: turning self tail calls into loops (the trampoline already
runs them in constant space).
"""
from __future__ import annotations

TAIL_CALL_OPCODES = frozenset((0x12, 0x13))     # return_call, return_call_indirect


class TailCall(tuple):
    """`(callee, args)`: what a body returns to make a tail call (a tuple subclass, so that
    making one is a C-level tuple construction)."""

    __slots__ = ()


def has_tail_calls(code) -> bool:
    """Whether a function body (`ast.Code`) contains a tail call."""
    return any(instr[0] in TAIL_CALL_OPCODES for instr in code.body)


def trampoline(body):
    """The `call` of a function whose translated `body` may return `TailCall`s."""

    def call(*args):
        result = body(*args)
        while result.__class__ is TailCall:
            callee, args = result
            result = getattr(callee, "tail_body", callee)(*args)
        return result

    call.tail_body = body
    return call


def lazy_tail_body(function, stub, install):
    """The `tail_body` of a not-yet-translated function's stub (`instance.InterpModule._stub`;
    `install()` translates and installs the function): after that, run whatever the
    function's `call` offers a trampoline (its body, or the call itself once something else,
    such as the tiered engine's native entry, replaced it)."""

    def tail_body(*args):
        call = function.call
        if call is stub:
            call = install()
        return getattr(call, "tail_body", call)(*args)

    return tail_body
