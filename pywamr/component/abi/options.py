"""Canonical ABI options and the lifting/lowering context threaded through every conversion.

Sits at the bottom of `component/abi`: layout, load/store, flat lifting and the canon
definitions all take a `LiftLowerContext` (`cx`), made from `CanonicalOptions` and the
`ComponentInstance` whose memory, realloc and handle table a conversion uses.

`memory` is a runtime `Memory` (its `data` bytearray keeps its identity when grown, so `cx.data`
is taken once); `realloc` and `post_return` are runtime `Function`s called with the internal
representation. Only 32-bit memories exist (memory64 is refused by the core layers), so every
pointer is an i32.

Deliberately does not validate the options against a function type: `abi/lift.py` does that
once per `canon lift`/`canon lower`. Spec: CanonicalABI.md, "Canonical ABI Options" and
"Lifting and Lowering Context".
"""
from __future__ import annotations

from ...errors import NotSupported, Trap, TrapCode

STRING_ENCODINGS = ("utf8", "utf16", "latin1+utf16")
MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1
MAX_STRING_BYTE_LENGTH = (1 << 28) - 1
# wasmtime's limit between two components (see `strings.py`): every string byte length its fused
# adapter handles, the source's and each allocation's, is at most 2**31-1
MAX_ADAPTER_STRING_BYTE_LENGTH = (1 << 31) - 1
MAX_LIST_BYTE_LENGTH = (1 << 28) - 1
UTF16_TAG = 1 << 31          # `utf16_tag('i32')`: the high bit of a latin1+utf16 length
PTR_SIZE = 4


class CanonicalOptions:
    """The `canonopt` immediates of one canon definition (defaults: absent)."""

    __slots__ = ("memory", "string_encoding", "realloc", "post_return", "async_", "callback")

    def __init__(self, memory=None, string_encoding: str = "utf8", realloc=None,
                 post_return=None, async_: bool = False, callback=None):
        if string_encoding not in STRING_ENCODINGS:
            raise ValueError(f"unknown string encoding {string_encoding!r}: "
                             f"one of {', '.join(STRING_ENCODINGS)}")
        if async_ or callback is not None:
            raise NotSupported("the async canonical ABI (`async`, `callback`) is not supported")
        if memory is not None and getattr(getattr(memory, "type", None), "memory64", False):
            raise NotSupported("the canonical ABI over 64-bit memories is not supported")
        self.memory = memory
        self.string_encoding = string_encoding
        self.realloc = realloc
        self.post_return = post_return
        self.async_ = async_
        self.callback = callback

    def __repr__(self) -> str:
        parts = [f"string_encoding={self.string_encoding!r}"]
        for name in ("memory", "realloc", "post_return"):
            if getattr(self, name) is not None:
                parts.append(name)
        return f"CanonicalOptions({', '.join(parts)})"


class LiftLowerContext:
    """`cx`: the options, the instance and the borrow scope of one lift or lower.

    `data` is the memory's bytearray (None without a memory), `encoding` the string encoding.
    `src_encoding` is the encoding the strings being lowered were lifted with (the other
    side's; "utf8" for the host's), which decides the spec's `realloc` pattern.
    `peer` is True when the other side is a component (a fused component-to-component call)
    and False when it is the host: it picks the string length limits (`strings.py`).
    `borrow_scope` is a `Task` when lowering into a callee, a `Subtask` when lifting a caller's
    arguments, None when the types involved hold no `borrow`."""

    __slots__ = ("opts", "inst", "borrow_scope", "data", "encoding", "src_encoding", "peer",
                 "_realloc")

    def __init__(self, opts: CanonicalOptions, inst, borrow_scope=None,
                 src_encoding: str = "utf8", peer: bool = False):
        self.opts = opts
        self.inst = inst
        self.borrow_scope = borrow_scope
        self.data = opts.memory.data if opts.memory is not None else None
        self.encoding = opts.string_encoding
        self.src_encoding = src_encoding
        self.peer = peer
        realloc = opts.realloc
        self._realloc = None if realloc is None else getattr(realloc, "call", realloc)

    def with_scope(self, borrow_scope) -> LiftLowerContext:
        return self.copy(borrow_scope, self.src_encoding)

    def copy(self, borrow_scope, src_encoding: str, peer: bool | None = None) \
            -> LiftLowerContext:
        cx = LiftLowerContext.__new__(LiftLowerContext)
        cx.opts = self.opts
        cx.inst = self.inst
        cx.borrow_scope = borrow_scope
        cx.data = self.data
        cx.encoding = self.encoding
        cx.src_encoding = src_encoding
        cx.peer = self.peer if peer is None else peer
        cx._realloc = self._realloc
        return cx

    def reallocate(self, old: int, old_size: int, alignment: int, new_size: int,
                   what: str = "value") -> int:
        """Call the guest's `realloc` with `may_leave` cleared; check the returned pointer
        (`what` is being allocated: "string", "list" or "value", for the trap message)."""
        realloc = self._realloc
        if realloc is None:
            raise NotSupported("lowering this value needs the `realloc` option, which is absent")
        inst = self.inst
        inst.may_leave = False
        ptr = realloc(old, old_size, alignment, new_size)
        inst.may_leave = True
        if ptr & (alignment - 1):
            raise realloc_trap(what, unaligned=True)
        if ptr + new_size > len(self.data):
            raise realloc_trap(what, unaligned=False)
        return ptr

    def allocate(self, alignment: int, size: int, what: str = "value") -> int:
        return self.reallocate(0, 0, alignment, size, what)


def realloc_trap(what: str, unaligned: bool) -> Trap:
    """The trap of a `realloc` result that is misaligned or past the end of memory (`what`:
    "string", "list" or "value"); the native adapters raise it through `abi/native.py`."""
    if unaligned:
        return Trap(TrapCode.UNALIGNED_POINTER,
                    "unaligned pointer (realloc return: result not aligned)")
    return Trap(TrapCode.MEMORY_OUT_OF_BOUNDS,
                f"{what} content out-of-bounds (realloc return: beyond end of memory)")


def trap(code: TrapCode, message: str | None = None):
    raise Trap(code, message)


def check_range(cx: LiftLowerContext, ptr: int, alignment: int, size: int, what: str) -> None:
    """The alignment and bounds checks of a pointer read from the guest."""
    if ptr & (alignment - 1):
        raise Trap(TrapCode.UNALIGNED_POINTER, f"{what} pointer not aligned to {alignment}")
    if ptr + size > len(cx.data):
        raise Trap(TrapCode.MEMORY_OUT_OF_BOUNDS,
                   f"{what} content out-of-bounds ({what} pointer/length out of bounds of "
                   f"memory)" if what in ("list", "string")
                   else f"{what} pointer out of bounds of memory")
