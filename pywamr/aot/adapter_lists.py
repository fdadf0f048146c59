"""Lists of compound elements in a native adapter: lists of enums, flags, variants, records
and strings, converted element by element in IR loops.

A mixin of `adapter_ir._Writer`, split from it along the seam between lists copied whole
(`list:<scalar>`, one `memcpy` and a fix-up pass, in `adapter_ir`) and lists whose elements
each need a conversion: `list:<element kind>` where the element is an enum, flags, a
variant or record kind (`adapter_values`) or a string kind (copied or transcoded,
`adapter_strings`). Checking and storing are two passes, as the spec's lift-then-lower: every
element is checked (a bad one sends the call, or the result, to Python) before the
destination's first `realloc`, which allocates the list (trapping as a list's); then each
element is loaded, converted and stored, a string element with its own `realloc`, in
element order. Spec: CanonicalABI.md, "Loading" (`load_list_from_range`), "Storing"
(`store_list_into_range`). Deliberately not here: lists of lists, and lists of records
holding strings (the Python adapter).
"""
from __future__ import annotations

from . import vmctx
from .adapter import (MAX_BYTE_LENGTH, TRAP_LIST_REALLOC_OUT_OF_BOUNDS, _unit, list_element,
                      string_kind)
from .adapter_strings import destination


class Lists:
    """`check_list` and `store_list` of compound-element lists (mixed into the writer)."""

    def counted_loop(self, count: str, body) -> None:
        """Emit `for i in range(count): body(i)` (`count`, `i`: i64); `body` may emit
        blocks of its own."""
        entry, head, loop, latch, end = (self.new_label(h) for h in
                                         ("centry", "chead", "cbody", "clatch", "cend"))
        self.emit(f"br label %{entry}")
        self.start_block(entry)
        self.emit(f"br label %{head}")
        self.start_block(head)
        i, i1 = self.tmp(), self.tmp()
        self.emit(f"{i} = phi i64 [ 0, %{entry} ], [ {i1}, %{latch} ]")
        more = self.value(f"icmp ult i64 {i}, {count}")
        self.emit(f"br i1 {more}, label %{loop}, label %{end}")
        self.start_block(loop)
        body(i)
        self.emit(f"br label %{latch}")
        self.start_block(latch)
        self.emit(f"{i1} = add i64 {i}, 1")
        self.emit(f"br label %{head}")
        self.start_block(end)

    def element(self, memory: int, ptr: str, index: str, size: int) -> str:
        """The host address of element `index` of the list at `ptr` (base read now)."""
        return self.at(memory, ptr, size, index)

    def string_element(self, kind: str, address: str) -> tuple[str, str, str]:
        """(pointer, length, byte length) of the string element at `address`."""
        sp = self.value(f"load i32, ptr {address}, align 1")
        lp = self.value(f"getelementptr i8, ptr {address}, i64 4")
        sn = self.value(f"load i32, ptr {lp}, align 1")
        return sp, sn, self.byte_length(kind, sn)

    def check_list(self, kind: str, memory: int, ptr: str, length: str, target: str) -> None:
        """Go to `target` unless every element of the (bounds-checked) list is valid."""
        elem = list_element(kind)
        size, _ = _unit(kind)
        count = self.value(f"zext i32 {length} to i64")
        if string_kind(elem) is not None:
            _, alignment = _unit(elem)
            mem_size = self.field(memory + 8, "i64")

            def body(i):
                sp, sn, nbytes = self.string_element(elem, self.element(memory, ptr, i, size))
                self.branch(self.value(f"icmp ugt i64 {nbytes}, {MAX_BYTE_LENGTH}"), target)
                self.branch(self.misaligned(sp, alignment), target)
                self.branch(self.out_of_range(sp, nbytes, mem_size), target)
                self.check_content(elem, memory, sp, nbytes, target)
        else:
            def body(i):
                vals = self.load_flat(elem, self.element(memory, ptr, i, size))
                self.convert_flat(elem, vals, target)
        self.counted_loop(count, body)

    def store_list(self, kind: str, ptr: str, length: str, nbytes: str, src_memory: int,
                   dst_memory: int) -> str:
        """Allocate the list in the destination and convert each checked element into it;
        returns the destination pointer."""
        elem = list_element(kind)
        size, alignment = _unit(kind)
        where = destination(dst_memory)
        q = self.realloc_checked(where, "0", "0", alignment, nbytes,
                                 TRAP_LIST_REALLOC_OUT_OF_BOUNDS)
        count = self.value(f"zext i32 {length} to i64")
        if string_kind(elem) is not None:
            def body(i):
                sp, sn, sbytes = self.string_element(elem, self.element(src_memory, ptr, i,
                                                                        size))
                q2, n2 = self.store_out(elem, sp, sn, sbytes, src_memory, dst_memory)
                d = self.element(dst_memory, q, i, size)       # after the string's realloc
                self.emit(f"store i32 {q2}, ptr {d}, align 1")
                dl = self.value(f"getelementptr i8, ptr {d}, i64 4")
                self.emit(f"store i32 {n2}, ptr {dl}, align 1")
        else:
            never = self.new_label("checked")

            def body(i):
                vals = self.load_flat(elem, self.element(src_memory, ptr, i, size))
                out = self.convert_flat(elem, vals, never)
                self.store_flat(elem, out, self.element(dst_memory, q, i, size))
        self.counted_loop(count, body)
        if string_kind(elem) is None:
            done = self.new_label("stored")
            self.emit(f"br label %{done}")
            self.start_block(never)             # checked before: never taken
            self.emit(f"call void @pywamr_trap(i32 {vmctx.HOST_TRAP}, i32 -1, ptr %vmctx)")
            self.emit("unreachable")
            self.start_block(done)
        return q
