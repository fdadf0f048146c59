"""Transcoding strings between two encodings in a native adapter: the IR of the loops, and
the `realloc` sequence of each encoding pair.

A mixin of `adapter_ir._Writer` (split along the seam between copying a value and
transcoding a string) over a handful of internal IR functions written once per adapter
module (`LOOPS`): decoding well-formed UTF-8, encoding UTF-8, copying an ASCII or Latin-1
prefix, inflating Latin-1 to UTF-16 in place. The source string has been checked before any
side effect (`adapter_ir`: well-formed UTF-8, UTF-16 without surrogates, Latin-1 not tagged
UTF-16; anything else went to the Python adapter), so these loops never fail.

The allocations follow CanonicalABI.md, "Storing" (`store_string_to_utf8`,
`store_utf8_to_utf16`, `store_string_to_latin1_or_utf16`, and the Latin-1-to-UTF-16 copy)
and their Python form in `component/abi/strings.py`, call by call: the optimistic size, the
growth to the worst case, the shrinking `realloc` (its out-of-bounds trap says "value", the
others "string"), each result checked for alignment and bounds. Deliberately not here:
UTF-16 sources with surrogate pairs and Latin-1 strings tagged UTF-16 (the Python adapter).
"""
from __future__ import annotations

from . import vmctx
from .adapter import (TRAP_REALLOC_UNALIGNED, TRAP_STRING_REALLOC_OUT_OF_BOUNDS,
                      TRAP_VALUE_REALLOC_OUT_OF_BOUNDS, transcode_pair)

UTF16_TAG = 1 << 31

_NEXT = """define internal {i32, i64} @pw_utf8_next(ptr %s, i64 %i) {
entry:
  %p = getelementptr i8, ptr %s, i64 %i
  %b0 = load i8, ptr %p, align 1
  %c0 = zext i8 %b0 to i32
  %one = icmp ult i32 %c0, 128
  br i1 %one, label %l1, label %multi
l1:
  %i1 = add i64 %i, 1
  %r1a = insertvalue {i32, i64} undef, i32 %c0, 0
  %r1 = insertvalue {i32, i64} %r1a, i64 %i1, 1
  ret {i32, i64} %r1
multi:
  %p1 = getelementptr i8, ptr %p, i64 1
  %b1 = load i8, ptr %p1, align 1
  %c1 = zext i8 %b1 to i32
  %t1 = and i32 %c1, 63
  %two = icmp ult i32 %c0, 224
  br i1 %two, label %l2, label %more
l2:
  %h2 = and i32 %c0, 31
  %s2 = shl i32 %h2, 6
  %cp2 = or i32 %s2, %t1
  %i2 = add i64 %i, 2
  %r2a = insertvalue {i32, i64} undef, i32 %cp2, 0
  %r2 = insertvalue {i32, i64} %r2a, i64 %i2, 1
  ret {i32, i64} %r2
more:
  %p2 = getelementptr i8, ptr %p, i64 2
  %b2 = load i8, ptr %p2, align 1
  %c2 = zext i8 %b2 to i32
  %t2 = and i32 %c2, 63
  %three = icmp ult i32 %c0, 240
  br i1 %three, label %l3, label %l4
l3:
  %h3 = and i32 %c0, 15
  %s3 = shl i32 %h3, 12
  %m3 = shl i32 %t1, 6
  %a3 = or i32 %s3, %m3
  %cp3 = or i32 %a3, %t2
  %i3 = add i64 %i, 3
  %r3a = insertvalue {i32, i64} undef, i32 %cp3, 0
  %r3 = insertvalue {i32, i64} %r3a, i64 %i3, 1
  ret {i32, i64} %r3
l4:
  %p3 = getelementptr i8, ptr %p, i64 3
  %b3 = load i8, ptr %p3, align 1
  %c3 = zext i8 %b3 to i32
  %t3 = and i32 %c3, 63
  %h4 = and i32 %c0, 7
  %s4 = shl i32 %h4, 18
  %m4 = shl i32 %t1, 12
  %n4 = shl i32 %t2, 6
  %a4 = or i32 %s4, %m4
  %b4 = or i32 %a4, %n4
  %cp4 = or i32 %b4, %t3
  %i4 = add i64 %i, 4
  %r4a = insertvalue {i32, i64} undef, i32 %cp4, 0
  %r4 = insertvalue {i32, i64} %r4a, i64 %i4, 1
  ret {i32, i64} %r4
}"""

_UTF8_TO_UTF16 = """define internal i64 @pw_utf8_to_utf16(ptr %s, i64 %i0, i64 %n, ptr %d, i64 %j0) {
entry:
  br label %head
head:
  %i = phi i64 [ %i0, %entry ], [ %in, %bmp ], [ %in, %pair ]
  %j = phi i64 [ %j0, %entry ], [ %jb, %bmp ], [ %jp, %pair ]
  %more = icmp ult i64 %i, %n
  br i1 %more, label %body, label %done
body:
  %r = call {i32, i64} @pw_utf8_next(ptr %s, i64 %i)
  %cp = extractvalue {i32, i64} %r, 0
  %in = extractvalue {i32, i64} %r, 1
  %big = icmp uge i32 %cp, 65536
  br i1 %big, label %pair, label %bmp
bmp:
  %u = trunc i32 %cp to i16
  %q = getelementptr i16, ptr %d, i64 %j
  store i16 %u, ptr %q, align 1
  %jb = add i64 %j, 1
  br label %head
pair:
  %c = sub i32 %cp, 65536
  %hi0 = lshr i32 %c, 10
  %hi1 = add i32 %hi0, 55296
  %hi = trunc i32 %hi1 to i16
  %lo0 = and i32 %c, 1023
  %lo1 = add i32 %lo0, 56320
  %lo = trunc i32 %lo1 to i16
  %qh = getelementptr i16, ptr %d, i64 %j
  store i16 %hi, ptr %qh, align 1
  %ql = getelementptr i16, ptr %qh, i64 1
  store i16 %lo, ptr %ql, align 1
  %jp = add i64 %j, 2
  br label %head
done:
  ret i64 %j
}"""


def _encode_utf8(t: str) -> str:
    """Encode code units (`t`: i8 Latin-1 or i16 UTF-16 without surrogates) [i0, n) of the
    source as UTF-8 from byte j0 of the destination; returns the end."""
    return f"""define internal i64 @pw_encode_utf8_{t}(ptr %s, i64 %i0, i64 %n, ptr %d, i64 %j0) {{
entry:
  br label %head
head:
  %i = phi i64 [ %i0, %entry ], [ %i1, %w1 ], [ %i1, %w2 ], [ %i1, %w3 ]
  %j = phi i64 [ %j0, %entry ], [ %j1, %w1 ], [ %j2, %w2 ], [ %j3, %w3 ]
  %more = icmp ult i64 %i, %n
  br i1 %more, label %body, label %done
body:
  %p = getelementptr {t}, ptr %s, i64 %i
  %u = load {t}, ptr %p, align 1
  %c = zext {t} %u to i32
  %i1 = add i64 %i, 1
  %q = getelementptr i8, ptr %d, i64 %j
  %lt80 = icmp ult i32 %c, 128
  br i1 %lt80, label %w1, label %not1
w1:
  %t1 = trunc i32 %c to i8
  store i8 %t1, ptr %q, align 1
  %j1 = add i64 %j, 1
  br label %head
not1:
  %lo6 = and i32 %c, 63
  %lo8 = or i32 %lo6, 128
  %lo = trunc i32 %lo8 to i8
  %lt800 = icmp ult i32 %c, 2048
  br i1 %lt800, label %w2, label %w3
w2:
  %h2a = lshr i32 %c, 6
  %h2b = or i32 %h2a, 192
  %h2 = trunc i32 %h2b to i8
  store i8 %h2, ptr %q, align 1
  %q2 = getelementptr i8, ptr %q, i64 1
  store i8 %lo, ptr %q2, align 1
  %j2 = add i64 %j, 2
  br label %head
w3:
  %h3a = lshr i32 %c, 12
  %h3b = or i32 %h3a, 224
  %h3 = trunc i32 %h3b to i8
  %m3a = lshr i32 %c, 6
  %m3b = and i32 %m3a, 63
  %m3c = or i32 %m3b, 128
  %m3 = trunc i32 %m3c to i8
  store i8 %h3, ptr %q, align 1
  %q3 = getelementptr i8, ptr %q, i64 1
  store i8 %m3, ptr %q3, align 1
  %q4 = getelementptr i8, ptr %q, i64 2
  store i8 %lo, ptr %q4, align 1
  %j3 = add i64 %j, 3
  br label %head
done:
  ret i64 %j
}}"""


def _prefix(t: str, limit: int) -> str:
    """Copy the leading code units of the source below `limit` (i8 or i16 units) as bytes;
    returns how many."""
    return f"""define internal i64 @pw_prefix_{t}_{limit}(ptr %s, ptr %d, i64 %n) {{
entry:
  br label %head
head:
  %i = phi i64 [ 0, %entry ], [ %i1, %w ]
  %more = icmp ult i64 %i, %n
  br i1 %more, label %body, label %done
body:
  %p = getelementptr {t}, ptr %s, i64 %i
  %u = load {t}, ptr %p, align 1
  %c = zext {t} %u to i32
  %fits = icmp ult i32 %c, {limit}
  br i1 %fits, label %w, label %done
w:
  %q = getelementptr i8, ptr %d, i64 %i
  %b = trunc i32 %c to i8
  store i8 %b, ptr %q, align 1
  %i1 = add i64 %i, 1
  br label %head
done:
  ret i64 %i
}}"""


_LATIN1_PREFIX_UTF8 = """define internal i64 @pw_latin1_prefix_utf8(ptr %s, i64 %n, ptr %d, ptr %at) {
entry:
  br label %head
head:
  %i = phi i64 [ 0, %entry ], [ %in, %w ]
  %k = phi i64 [ 0, %entry ], [ %k1, %w ]
  %more = icmp ult i64 %i, %n
  br i1 %more, label %body, label %done
body:
  %r = call {i32, i64} @pw_utf8_next(ptr %s, i64 %i)
  %cp = extractvalue {i32, i64} %r, 0
  %in = extractvalue {i32, i64} %r, 1
  %fits = icmp ult i32 %cp, 256
  br i1 %fits, label %w, label %done
w:
  %q = getelementptr i8, ptr %d, i64 %k
  %b = trunc i32 %cp to i8
  store i8 %b, ptr %q, align 1
  %k1 = add i64 %k, 1
  br label %head
done:
  store i64 %i, ptr %at, align 8
  ret i64 %k
}"""

_INFLATE = """define internal void @pw_inflate(ptr %d, i64 %k) {
entry:
  br label %head
head:
  %j = phi i64 [ %k, %entry ], [ %j1, %body ]
  %more = icmp ugt i64 %j, 0
  br i1 %more, label %body, label %done
body:
  %j1 = sub i64 %j, 1
  %p = getelementptr i8, ptr %d, i64 %j1
  %b = load i8, ptr %p, align 1
  %w = zext i8 %b to i16
  %q = getelementptr i16, ptr %d, i64 %j1
  store i16 %w, ptr %q, align 1
  br label %head
done:
  ret void
}"""

_WIDEN = """define internal void @pw_widen(ptr %s, ptr %d, i64 %n) {
entry:
  br label %head
head:
  %i = phi i64 [ 0, %entry ], [ %i1, %body ]
  %more = icmp ult i64 %i, %n
  br i1 %more, label %body, label %done
body:
  %p = getelementptr i8, ptr %s, i64 %i
  %b = load i8, ptr %p, align 1
  %w = zext i8 %b to i16
  %q = getelementptr i16, ptr %d, i64 %i
  store i16 %w, ptr %q, align 1
  %i1 = add i64 %i, 1
  br label %head
done:
  ret void
}"""

LOOPS = [_NEXT, _UTF8_TO_UTF16, _encode_utf8("i8"), _encode_utf8("i16"), _prefix("i8", 128),
         _prefix("i16", 128), _prefix("i16", 256), _LATIN1_PREFIX_UTF8, _INFLATE, _WIDEN]


class Transcoding:
    """`transcode`: the destination string of a checked source string, for the adapter
    writer this is mixed into."""

    def realloc_checked(self, where: tuple[int, int, int], old: str, old_size: str,
                        alignment: int, size: str, oob_reason: int) -> str:
        """`realloc(old, old_size, alignment, size)` in the destination (`where`: its
        memory, flags and realloc context offsets) with `may_leave` cleared; a misaligned or
        out-of-bounds result traps (`oob_reason` names what). Sizes are i64 operands."""
        memory, flags_offset, realloc = where
        flags = self.field(flags_offset)
        self.set_flag(flags, 1, 0)
        args = [("i32", old), ("i32", self.value(f"trunc i64 {old_size} to i32")),
                ("i32", str(alignment)), ("i32", self.value(f"trunc i64 {size} to i32"))]
        q = self.call_code(realloc, "i32", args)
        self.set_flag(flags, 1, 1)
        unaligned, outside, ok = (self.new_label(h) for h in ("tunaligned", "toutside", "tok"))
        cont = self.new_label("tcheck")
        self.emit(f"br i1 {self.misaligned(q, alignment)}, label %{unaligned}, label %{cont}, "
                  "!prof !1")
        self.start_block(cont)
        dst_size = self.field(memory + 8, "i64")
        self.emit(f"br i1 {self.out_of_range(q, size, dst_size)}, label %{outside}, "
                  f"label %{ok}, !prof !1")
        self.start_block(unaligned)
        self.trap_reason(TRAP_REALLOC_UNALIGNED)
        self.start_block(outside)
        self.trap_reason(oob_reason)
        self.start_block(ok)
        return q

    def at(self, memory: int, ptr: str, scale: int = 1, offset: str | None = None) -> str:
        """The host address of `ptr` (i32) in a memory, plus `offset` units of `scale`
        bytes; the base is read now (a `realloc` may have moved it)."""
        base = self.field(memory)
        p = self.value(f"zext i32 {ptr} to i64")
        if offset is not None:
            extra = offset if scale == 1 else self.value(f"mul i64 {offset}, {scale}")
            p = self.value(f"add i64 {p}, {extra}")
        return self.value(f"getelementptr i8, ptr {base}, i64 {p}")

    def if_else(self, cond: str, then, otherwise) -> list[str]:
        """Emit `then()` or `otherwise()` (each returns [(type, value)]); the phis."""
        t, e, join = (self.new_label(h) for h in ("then", "else", "endif"))
        self.emit(f"br i1 {cond}, label %{t}, label %{e}")
        outs = []
        for label, body in ((t, then), (e, otherwise)):
            self.start_block(label)
            values = body()
            end = self.new_label("arm")
            self.emit(f"br label %{end}")
            self.start_block(end)
            self.emit(f"br label %{join}")
            outs.append((values, end))
        self.start_block(join)
        return [self.value(f"phi {ty} [ {a}, %{outs[0][1]} ], [ {b}, %{outs[1][1]} ]")
                for (ty, a), (_, b) in zip(outs[0][0], outs[1][0])]

    def shrink(self, where, q: str, worst: str, size: str, alignment: int) -> str:
        """The final shrinking `realloc` when the worst case was not used up."""
        smaller = self.value(f"icmp ult i64 {size}, {worst}")
        return self.if_else(
            smaller,
            lambda: [("i32", self.realloc_checked(where, q, worst, alignment, size,
                                                  TRAP_VALUE_REALLOC_OUT_OF_BOUNDS))],
            lambda: [("i32", q)])[0]

    def transcode(self, kind: str, ptr: str, length: str, src_memory: int, where) -> tuple:
        """Store the checked string (`ptr`, `length` code units) of `src_memory` in the
        destination's encoding; returns (pointer, tagged length) as i32 operands."""
        for loop in LOOPS:
            self.declare(loop)
        self.declare("declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)")
        src, dst = transcode_pair(kind)
        n = self.value(f"zext i32 {length} to i64")
        dst_memory = where[0]
        if dst == "utf8":
            return self.to_utf8(src, ptr, n, src_memory, where)
        if dst == "utf16" and src == "utf8":
            worst = self.value(f"mul i64 {n}, 2")
            q = self.realloc_checked(where, "0", "0", 2, worst,
                                     TRAP_STRING_REALLOC_OUT_OF_BOUNDS)
            units = self.value(f"call i64 @pw_utf8_to_utf16(ptr {self.at(src_memory, ptr)}, "
                               f"i64 0, i64 {n}, ptr {self.at(dst_memory, q)}, i64 0)")
            size = self.value(f"mul i64 {units}, 2")
            q = self.shrink(where, q, worst, size, 2)
            return q, self.value(f"trunc i64 {units} to i32")
        if dst == "utf16":                  # from Latin-1: one allocation, widened
            size = self.value(f"mul i64 {n}, 2")
            q = self.realloc_checked(where, "0", "0", 2, size, TRAP_STRING_REALLOC_OUT_OF_BOUNDS)
            self.emit(f"call void @pw_widen(ptr {self.at(src_memory, ptr)}, "
                      f"ptr {self.at(dst_memory, q)}, i64 {n})")
            return q, length
        return self.to_latin1_or_utf16(src, ptr, n, src_memory, where)

    def to_utf8(self, src: str, ptr: str, n: str, src_memory: int, where) -> tuple:
        """`store_string_to_utf8` from UTF-16 (worst case 3 bytes a unit) or Latin-1 (2)."""
        dst_memory = where[0]
        t, factor = ("i16", 3) if src == "utf16" else ("i8", 2)
        q = self.realloc_checked(where, "0", "0", 1, n, TRAP_STRING_REALLOC_OUT_OF_BOUNDS)
        i = self.value(f"call i64 @pw_prefix_{t}_128(ptr {self.at(src_memory, ptr)}, "
                       f"ptr {self.at(dst_memory, q)}, i64 {n})")
        ascii_only = self.value(f"icmp eq i64 {i}, {n}")

        def grow():
            worst = self.value(f"mul i64 {n}, {factor}")
            q2 = self.realloc_checked(where, q, n, 1, worst, TRAP_STRING_REALLOC_OUT_OF_BOUNDS)
            m = self.value(f"call i64 @pw_encode_utf8_{t}(ptr {self.at(src_memory, ptr)}, "
                           f"i64 {i}, i64 {n}, ptr {self.at(dst_memory, q2)}, i64 {i})")
            return [("i32", self.shrink(where, q2, worst, m, 1)), ("i64", m)]
        q, m = self.if_else(ascii_only, lambda: [("i32", q), ("i64", n)], grow)
        return q, self.value(f"trunc i64 {m} to i32")

    def to_latin1_or_utf16(self, src: str, ptr: str, n: str, src_memory: int, where) -> tuple:
        """`store_string_to_latin1_or_utf16` from UTF-8 or UTF-16 (`n` code units)."""
        dst_memory = where[0]
        q = self.realloc_checked(where, "0", "0", 2, n, TRAP_STRING_REALLOC_OUT_OF_BOUNDS)
        if src == "utf8":
            consumed = self.alloca("i64")
            k = self.value(f"call i64 @pw_latin1_prefix_utf8(ptr {self.at(src_memory, ptr)}, "
                           f"i64 {n}, ptr {self.at(dst_memory, q)}, ptr {consumed})")
            i = self.value(f"load i64, ptr {consumed}, align 8")
        else:
            k = i = self.value(f"call i64 @pw_prefix_i16_256(ptr {self.at(src_memory, ptr)}, "
                               f"ptr {self.at(dst_memory, q)}, i64 {n})")
        fits = self.value(f"icmp eq i64 {i}, {n}")

        def latin1():
            smaller = self.value(f"icmp ult i64 {k}, {n}")
            q1 = self.if_else(
                smaller,
                lambda: [("i32", self.realloc_checked(where, q, n, 2, k,
                                                      TRAP_STRING_REALLOC_OUT_OF_BOUNDS))],
                lambda: [("i32", q)])[0]
            return [("i32", q1), ("i64", k)]

        def utf16():
            worst = self.value(f"mul i64 {n}, 2")
            q2 = self.realloc_checked(where, q, n, 2, worst, TRAP_STRING_REALLOC_OUT_OF_BOUNDS)
            self.emit(f"call void @pw_inflate(ptr {self.at(dst_memory, q2)}, i64 {k})")
            if src == "utf8":
                units = self.value(
                    f"call i64 @pw_utf8_to_utf16(ptr {self.at(src_memory, ptr)}, i64 {i}, "
                    f"i64 {n}, ptr {self.at(dst_memory, q2)}, i64 {k})")
            else:                            # the rest of the units as they are
                rest = self.value(f"sub i64 {n}, {k}")
                nbytes = self.value(f"mul i64 {rest}, 2")
                self.emit(f"call void @llvm.memcpy.p0.p0.i64(ptr "
                          f"{self.at(dst_memory, q2, 2, k)}, ptr "
                          f"{self.at(src_memory, ptr, 2, k)}, i64 {nbytes}, i1 false)")
                units = n
            size = self.value(f"mul i64 {units}, 2")
            q3 = self.shrink(where, q2, worst, size, 2)
            return [("i32", q3), ("i64", self.value(f"or i64 {units}, {UTF16_TAG}"))]
        q, tagged = self.if_else(fits, latin1, utf16)
        return q, self.value(f"trunc i64 {tagged} to i32")


def destination(memory: int) -> tuple[int, int, int]:
    """The `where` of a destination: (memory, flags, realloc) context offsets."""
    if memory == vmctx.ADAPTER_CALLEE_MEMORY:
        return (vmctx.ADAPTER_CALLEE_MEMORY, vmctx.ADAPTER_CALLEE_FLAGS,
                vmctx.ADAPTER_CALLEE_REALLOC)
    return vmctx.ADAPTER_CALLER_MEMORY, vmctx.ADAPTER_CALLER_FLAGS, vmctx.ADAPTER_CALLER_REALLOC
