"""The IR text of a native component-to-component adapter (see `adapter.py` for what an
adapter does, which kinds it handles, and what it hands to Python).

Sits under `adapter.py` (which compiles, caches and loads what this writes) and over
`helpers.FunctionBuilder` and `translate`'s per-chunk glue (the trap function and the process
context, which every adapter module includes); the conversion of scalar, variant and record
values is `adapter_values.ValueConversions`, transcoding strings between encodings
`adapter_strings.Transcoding`, lists converted element by element `adapter_lists.Lists`, all
mixed in. Writes text only: no llvmlite here.
The context block an adapter reads is laid out in `vmctx.py` (`ADAPTER_*`).
"""
from __future__ import annotations

from . import vmctx
from .adapter import (HANDLE_BEGIN, HANDLE_END, HANDLE_KINDS, HANDLE_NOTHING, HANDLE_PARAM,
                      HANDLE_RESULT, HANDLE_RETURNED, MAX_BYTE_LENGTH, SYMBOL, TRAP_LIST_REALLOC_OUT_OF_BOUNDS,
                      TRAP_REALLOC_UNALIGNED, TRAP_STRING_REALLOC_OUT_OF_BOUNDS, AdapterSpec,
                      _flat, _unit, kind_layout, record_fields, result_in_memory,
                      compound_list, scalar_type, string_kind, transcode_pair, variant_cases)
from .adapter_lists import Lists
from .adapter_strings import Transcoding, destination
from .adapter_values import ValueConversions
from .helpers import FunctionBuilder


# ---- UTF-8 validation: a DFA over byte classes (RFC 3629, as Python's strict decoder) -----------

def _utf8_tables() -> tuple[list[int], list[int]]:
    """(class of each byte, transition table state * 16 + class -> state); state 0 accepts,
    state 1 rejects for good, the others wait for continuation bytes."""
    ranges = [(0x00, 0x7F), (0x80, 0x8F), (0x90, 0x9F), (0xA0, 0xBF), (0xC0, 0xC1),
              (0xC2, 0xDF), (0xE0, 0xE0), (0xE1, 0xEC), (0xED, 0xED), (0xEE, 0xEF),
              (0xF0, 0xF0), (0xF1, 0xF3), (0xF4, 0xF4), (0xF5, 0xFF)]
    classes = [next(c for c, (lo, hi) in enumerate(ranges) if lo <= b <= hi) for b in range(256)]
    accept, reject, more1, more2, more3, e0, ed, f0, f4 = range(9)
    cont = (1, 2, 3)                              # classes of 80-8F, 90-9F, A0-BF
    lead = {0: accept, 5: more1, 6: e0, 7: more2, 8: ed, 9: more2, 10: f0, 11: more3, 12: f4}
    # state -> (classes allowed next, state after one of them)
    waiting = {more1: (cont, accept), more2: (cont, more1), more3: (cont, more2),
               e0: ((3,), more1), ed: ((1, 2), more1), f0: ((2, 3), more2), f4: ((1,), more2)}
    table = [reject] * (9 * 16)
    for c, state in lead.items():
        table[accept * 16 + c] = state
    for state, (allowed, after) in waiting.items():
        for c in allowed:
            table[state * 16 + c] = after
    return classes, table


def _byte_array(name: str, values: list[int]) -> str:
    items = ", ".join(f"i8 {v}" for v in values)
    return f"@{name} = internal constant [{len(values)} x i8] [{items}], align 16"


# ---- IR ---------------------------------------------------------------------------------------

class _Writer(ValueConversions, Transcoding, Lists, FunctionBuilder):
    """The text of one adapter function."""

    def __init__(self, spec: AdapterSpec):
        super().__init__(-1, set())
        self.spec = spec

    def field(self, offset: int, lltype: str = "ptr") -> str:
        return self.vmctx_field(offset, lltype)

    def branch(self, cond: str, target: str) -> None:
        """Go to `target` (a cold path) when `cond` holds; carry on otherwise."""
        cont = self.new_label("ok")
        self.emit(f"br i1 {cond}, label %{target}, label %{cont}, !prof !1")
        self.start_block(cont)

    def set_flag(self, cell: str, offset: int, value: int) -> None:
        p = self.value(f"getelementptr inbounds i8, ptr {cell}, i64 {offset}")
        self.emit(f"store i8 {value}, ptr {p}, align 1")

    def flag_clear(self, cell: str, offset: int) -> str:
        p = self.value(f"getelementptr inbounds i8, ptr {cell}, i64 {offset}")
        v = self.value(f"load i8, ptr {p}, align 1")
        return self.value(f"icmp eq i8 {v}, 0")

    def call_code(self, code_offset: int, rt: str, args: list[tuple[str, str]]) -> str | None:
        code = self.field(code_offset)
        cv = self.field(code_offset + 8)
        text = f"call {rt} {code}(ptr {cv}" + "".join(f", {t} {v}" for t, v in args) + ")"
        if rt == "void":
            self.emit(text)
            return None
        return self.value(text)

    def host_call(self, record_offset: int, args: list[tuple[str, str]], results: list[str]):
        """Call a Python function through its record (`args` stored in an 8-byte-per-value
        buffer); a raised exception traps as the host's. Returns the result operands."""
        n = max(len(args), len(results), 1)
        buf = self.alloca(f"[{n} x i64]")
        for i, (t, v) in enumerate(args):
            p = self.value(f"getelementptr inbounds i64, ptr {buf}, i64 {i}")
            self.emit(f"store {t} {v}, ptr {p}, align 8")
        record = self.field(record_offset, "i64")
        rc = self.value(f"call i32 @{vmctx.HOST_CALL_SYMBOL}(ptr %vmctx, i64 {record}, "
                        f"ptr {buf})")
        bad = self.value(f"icmp ne i32 {rc}, 0")
        fail = self.new_label("hostfail")
        cont = self.new_label("ok")
        self.emit(f"br i1 {bad}, label %{fail}, label %{cont}, !prof !1")
        self.start_block(fail)
        self.emit(f"call void @pywamr_trap(i32 {vmctx.HOST_TRAP}, i32 -1, ptr %vmctx)")
        self.emit("unreachable")
        self.start_block(cont)
        out = []
        for i, t in enumerate(results):
            p = self.value(f"getelementptr inbounds i64, ptr {buf}, i64 {i}")
            out.append(self.value(f"load {t}, ptr {p}, align 8"))
        return out

    def trap_reason(self, reason: int) -> None:
        """Raise the trap of `reason` through the trap record; never returns."""
        self.host_call(vmctx.ADAPTER_TRAP_RECORD, [("i32", str(reason))], [])
        self.emit(f"call void @pywamr_trap(i32 {vmctx.HOST_TRAP}, i32 -1, ptr %vmctx)")
        self.emit("unreachable")

    # -- checks -----------------------------------------------------------------------------
    def out_of_range(self, ptr: str, nbytes: str, size: str) -> str:
        """i1: ptr (i32) + nbytes (i64) > size (i64)."""
        p = self.value(f"zext i32 {ptr} to i64")
        end = self.value(f"add i64 {p}, {nbytes}")
        return self.value(f"icmp ugt i64 {end}, {size}")

    def misaligned(self, ptr: str, alignment: int) -> str:
        if alignment == 1:
            return "false"
        low = self.value(f"and i32 {ptr}, {alignment - 1}")
        return self.value(f"icmp ne i32 {low}, 0")

    def check_content(self, kind: str, memory: int, ptr: str, nbytes: str, target: str,
                      length: str | None = None) -> None:
        """Go to `target` unless the string's code units are the plain case: ASCII for
        UTF-8, no surrogate for UTF-16 (lists and Latin-1 need no check); a transcoded
        string's are its source encoding's."""
        if compound_list(kind):
            self.check_list(kind, memory, ptr, length, target)
            return
        kind = string_kind(kind) or kind
        if kind == "string":
            base = self.field(memory)
            non_ascii = self.not_ascii(base, ptr, nbytes)
            check, cont = self.new_label("utf8"), self.new_label("valid")
            self.emit(f"br i1 {non_ascii}, label %{check}, label %{cont}")
            self.start_block(check)
            bad = self.utf8_invalid(base, ptr, nbytes)
            self.emit(f"br i1 {bad}, label %{target}, label %{cont}, !prof !1")
            self.start_block(cont)
        elif kind == "string-utf16":
            self.branch(self.has_surrogate(self.field(memory), ptr, nbytes), target)
        elif kind == "list:char":
            self.branch(self.chars_invalid(self.field(memory), ptr, nbytes), target)

    def each_element(self, base: str, ptr: str, nbytes: str, size: int, body) -> None:
        """Emit a loop calling `body(address)` for each `size`-byte element of
        [base + ptr, + nbytes)."""
        p = self.value(f"zext i32 {ptr} to i64")
        start = self.value(f"getelementptr i8, ptr {base}, i64 {p}")
        count = self.value(f"udiv i64 {nbytes}, {size}")
        entry, head, body_label, end = (self.new_label(h) for h in ("lentry", "lhead", "lbody",
                                                                    "lend"))
        self.emit(f"br label %{entry}")
        self.start_block(entry)
        self.emit(f"br label %{head}")
        self.start_block(head)
        i, i1 = self.tmp(), self.tmp()
        latch = self.new_label("llatch")
        self.emit(f"{i} = phi i64 [ 0, %{entry} ], [ {i1}, %{latch} ]")
        more = self.value(f"icmp ult i64 {i}, {count}")
        self.emit(f"br i1 {more}, label %{body_label}, label %{end}")
        self.start_block(body_label)
        offset = self.value(f"mul i64 {i}, {size}")
        body(self.value(f"getelementptr i8, ptr {start}, i64 {offset}"))
        self.emit(f"br label %{latch}")
        self.start_block(latch)
        self.emit(f"{i1} = add i64 {i}, 1")
        self.emit(f"br label %{head}")
        self.start_block(end)

    def chars_invalid(self, base: str, ptr: str, nbytes: str) -> str:
        """i1: some i32 of [base + ptr, + nbytes) is not a Unicode scalar value."""
        flag = self.alloca("i1")
        self.emit(f"store i1 false, ptr {flag}, align 1")

        def body(address):
            v = self.value(f"load i32, ptr {address}, align 4")
            big = self.value(f"icmp uge i32 {v}, 1114112")
            off = self.value(f"sub i32 {v}, 55296")
            surrogate = self.value(f"icmp ult i32 {off}, 2048")
            bad = self.value(f"or i1 {big}, {surrogate}")
            old = self.value(f"load i1, ptr {flag}, align 1")
            either = self.value(f"or i1 {old}, {bad}")
            self.emit(f"store i1 {either}, ptr {flag}, align 1")
        self.each_element(base, ptr, nbytes, 4, body)
        return self.value(f"load i1, ptr {flag}, align 1")

    def fix_elements(self, kind: str, base: str, ptr: str, nbytes: str) -> None:
        """After a copy, lift and lower each element in place where that changes it: bools
        become 0 or 1, NaNs the canonical NaN."""
        elem = kind[5:] if kind.startswith("list:") else None
        if elem == "bool":
            def body(address):
                b = self.value(f"load i8, ptr {address}, align 1")
                nz = self.value(f"icmp ne i8 {b}, 0")
                normal = self.value(f"zext i1 {nz} to i8")
                self.emit(f"store i8 {normal}, ptr {address}, align 1")
            self.each_element(base, ptr, nbytes, 1, body)
        elif elem in ("f32", "f64"):
            ty = "float" if elem == "f32" else "double"

            def body(address):
                v = self.value(f"load {ty}, ptr {address}, align 1")
                canonical = self.convert_scalar(elem, v, None)
                self.emit(f"store {ty} {canonical}, ptr {address}, align 1")
            self.each_element(base, ptr, nbytes, 4 if elem == "f32" else 8, body)

    def utf8_invalid(self, base: str, ptr: str, nbytes: str) -> str:
        """i1: [base + ptr, + nbytes) is not well-formed UTF-8 (`_utf8_tables`' DFA)."""
        classes, table = _utf8_tables()
        self.declare(_byte_array("pywamr_utf8_class", classes))
        self.declare(_byte_array("pywamr_utf8_next", table))
        p = self.value(f"zext i32 {ptr} to i64")
        start = self.value(f"getelementptr i8, ptr {base}, i64 {p}")
        entry, head, body, end = (self.new_label(h) for h in ("uentry", "uhead", "ubody", "uend"))
        self.emit(f"br label %{entry}")
        self.start_block(entry)
        self.emit(f"br label %{head}")
        self.start_block(head)
        i, state, i1, state1 = self.tmp(), self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{i} = phi i64 [ 0, %{entry} ], [ {i1}, %{body} ]")
        self.emit(f"{state} = phi i8 [ 0, %{entry} ], [ {state1}, %{body} ]")
        more = self.value(f"icmp ult i64 {i}, {nbytes}")
        self.emit(f"br i1 {more}, label %{body}, label %{end}")
        self.start_block(body)
        bp = self.value(f"getelementptr i8, ptr {start}, i64 {i}")
        b = self.value(f"load i8, ptr {bp}, align 1")
        bz = self.value(f"zext i8 {b} to i64")
        cp = self.value(f"getelementptr inbounds [256 x i8], ptr @pywamr_utf8_class, i64 0, "
                        f"i64 {bz}")
        c = self.value(f"load i8, ptr {cp}, align 1")
        cz = self.value(f"zext i8 {c} to i64")
        sz = self.value(f"zext i8 {state} to i64")
        row = self.value(f"shl i64 {sz}, 4")
        index = self.value(f"add i64 {row}, {cz}")
        np = self.value(f"getelementptr inbounds [{len(table)} x i8], ptr @pywamr_utf8_next, "
                        f"i64 0, i64 {index}")
        self.emit(f"{state1} = load i8, ptr {np}, align 1")
        self.emit(f"{i1} = add i64 {i}, 1")
        self.emit(f"br label %{head}")
        self.start_block(end)
        return self.value(f"icmp ne i8 {state}, 0")

    def has_surrogate(self, base: str, ptr: str, nbytes: str) -> str:
        """i1: some 16-bit unit of [base + ptr, + nbytes) is a surrogate (D800-DFFF)."""
        p = self.value(f"zext i32 {ptr} to i64")
        start = self.value(f"getelementptr i8, ptr {base}, i64 {p}")
        units = self.value(f"lshr i64 {nbytes}, 1")
        entry, head, body, end = (self.new_label(h) for h in ("sentry", "shead", "sbody", "send"))
        self.emit(f"br label %{entry}")
        self.start_block(entry)
        self.emit(f"br label %{head}")
        self.start_block(head)
        i, acc, i1, acc1 = self.tmp(), self.tmp(), self.tmp(), self.tmp()
        self.emit(f"{i} = phi i64 [ 0, %{entry} ], [ {i1}, %{body} ]")
        self.emit(f"{acc} = phi i1 [ false, %{entry} ], [ {acc1}, %{body} ]")
        more = self.value(f"icmp ult i64 {i}, {units}")
        self.emit(f"br i1 {more}, label %{body}, label %{end}")
        self.start_block(body)
        up = self.value(f"getelementptr i16, ptr {start}, i64 {i}")
        u = self.value(f"load i16, ptr {up}, align 2")
        masked = self.value(f"and i16 {u}, -2048")                  # 0xF800
        surrogate = self.value(f"icmp eq i16 {masked}, -10240")     # 0xD800
        self.emit(f"{acc1} = or i1 {acc}, {surrogate}")
        self.emit(f"{i1} = add i64 {i}, 1")
        self.emit(f"br label %{head}")
        self.start_block(end)
        return acc

    def byte_length(self, kind: str, length: str) -> str:
        """The byte length of a string or list of `length` (i32) units, as i64; a Latin-1
        string's length keeps its UTF-16 tag bit, which makes it too long (sent to Python)."""
        n = self.value(f"zext i32 {length} to i64")
        size, _ = _unit(kind)
        return n if size == 1 else self.value(f"mul i64 {n}, {size}")

    def not_ascii(self, base: str, ptr: str, nbytes: str) -> str:
        """i1: some byte of [base + ptr, + nbytes) is >= 0x80 (a loop over 8-byte words)."""
        p = self.value(f"zext i32 {ptr} to i64")
        start = self.value(f"getelementptr i8, ptr {base}, i64 {p}")
        head, loop, tail, done = (self.new_label(h) for h in ("ahead", "aloop", "atail", "adone"))
        entry = self.new_label("aentry")
        self.emit(f"br label %{entry}")
        self.start_block(entry)
        words = self.value(f"lshr i64 {nbytes}, 3")
        self.emit(f"br label %{head}")
        self.start_block(head)
        i, acc = self.tmp(), self.tmp()
        i1, acc1 = self.tmp(), self.tmp()
        self.emit(f"{i} = phi i64 [ 0, %{entry} ], [ {i1}, %{loop} ]")
        self.emit(f"{acc} = phi i64 [ 0, %{entry} ], [ {acc1}, %{loop} ]")
        more = self.value(f"icmp ult i64 {i}, {words}")
        self.emit(f"br i1 {more}, label %{loop}, label %{tail}")
        self.start_block(loop)
        wp = self.value(f"getelementptr i64, ptr {start}, i64 {i}")
        w = self.value(f"load i64, ptr {wp}, align 1")
        self.emit(f"{acc1} = or i64 {acc}, {w}")
        self.emit(f"{i1} = add i64 {i}, 1")
        self.emit(f"br label %{head}")
        self.start_block(tail)
        j, tacc = self.tmp(), self.tmp()
        j1, tacc1 = self.tmp(), self.tmp()
        body = self.new_label("abyte")
        first = self.value(f"shl i64 {words}, 3")
        self.emit(f"br label %{done}")
        self.start_block(done)
        self.emit(f"{j} = phi i64 [ {first}, %{tail} ], [ {j1}, %{body} ]")
        self.emit(f"{tacc} = phi i64 [ {acc}, %{tail} ], [ {tacc1}, %{body} ]")
        left = self.value(f"icmp ult i64 {j}, {nbytes}")
        end = self.new_label("aend")
        self.emit(f"br i1 {left}, label %{body}, label %{end}")
        self.start_block(body)
        bp = self.value(f"getelementptr i8, ptr {start}, i64 {j}")
        b = self.value(f"load i8, ptr {bp}, align 1")
        bz = self.value(f"zext i8 {b} to i64")
        self.emit(f"{tacc1} = or i64 {tacc}, {bz}")
        self.emit(f"{j1} = add i64 {j}, 1")
        self.emit(f"br label %{done}")
        self.start_block(end)
        high = self.value(f"and i64 {tacc}, -9187201950435737472")     # 0x8080808080808080
        return self.value(f"icmp ne i64 {high}, 0")

    # -- the adapter ------------------------------------------------------------------------
    def write(self) -> str:
        spec = self.spec
        params = [(t, f"%p{i}") for i, t in enumerate(spec.caller_params)]
        self.start_block("entry")
        caller_flags = self.field(vmctx.ADAPTER_CALLER_FLAGS)
        self.branch(self.flag_clear(caller_flags, 1), "slow")
        # lift the arguments in the caller's options: every check before any side effect
        lifted, memory_args = [], []
        k = 0
        caller_size = None
        for kind in spec.params:
            if kind in HANDLE_KINDS:
                lifted.append((kind, [params[k][1]]))
                k += 1
                continue
            if _flat_kind(kind):
                n = len(_flat(kind))
                lifted.append((kind, [v for _, v in params[k:k + n]]))
                k += n
                continue
            ptr, length = params[k][1], params[k + 1][1]
            k += 2
            if caller_size is None:
                caller_size = self.field(vmctx.ADAPTER_CALLER_MEMORY + 8, "i64")
            nbytes = self.byte_length(kind, length)
            self.branch(self.value(f"icmp ugt i64 {nbytes}, {MAX_BYTE_LENGTH}"), "slow")
            self.branch(self.misaligned(ptr, _unit(kind)[1]), "slow")
            self.branch(self.out_of_range(ptr, nbytes, caller_size), "slow")
            self.check_content(kind, vmctx.ADAPTER_CALLER_MEMORY, ptr, nbytes, "slow",
                               length)
            lifted.append((kind, (ptr, length, nbytes)))
            memory_args.append(kind)
        converted = []
        for kind, v in lifted:
            if kind in HANDLE_KINDS:
                converted.append((["i32"], v))      # moved below, once the checks passed
            elif _flat_kind(kind):
                converted.append((_flat(kind), self.convert_flat(kind, v, "slow")))
            else:
                converted.append(("mem", v))
        # enter
        cells = [self.field(vmctx.ADAPTER_ENTERING + 8 * n) for n in range(spec.entering)]
        for cell in cells:
            self.branch(self.flag_clear(cell, 0), "slow")
        if spec.handles:
            converted = self.move_handles(lifted, converted)
        for cell in cells:
            self.set_flag(cell, 0, 0)
        # lower the arguments in the callee's options
        args = []
        for (kind, _), (lltype, v) in zip(lifted, converted):
            if lltype != "mem":
                args += list(zip(lltype, v))
                continue
            ptr, length, nbytes = v
            q, length = self.store_out(kind, ptr, length, nbytes, vmctx.ADAPTER_CALLER_MEMORY,
                                       vmctx.ADAPTER_CALLEE_MEMORY)
            args += [("i32", q), ("i32", length)]
        ret = self.call_code(vmctx.ADAPTER_CALLEE_CODE, spec.callee_result_type, args)
        # the borrow scope closes with the step after the call when nothing observable
        # follows it, else after post-return and leaving
        end_now = HANDLE_END if spec.borrows and not spec.post_return and \
            not result_in_memory(spec.result) else 0
        if spec.result == "own":
            out = self.handle_op(HANDLE_RESULT | end_now, 0, ret)
        else:
            if spec.borrows:
                self.handle_op(HANDLE_RETURNED | end_now, 0, "0")
            out = self.convert_result(ret, params[-1][1] if params else None)
        if spec.post_return:
            callee_flags = self.field(vmctx.ADAPTER_CALLEE_FLAGS)
            self.set_flag(callee_flags, 1, 0)
            self.call_code(vmctx.ADAPTER_POST_RETURN, "void",
                           [(spec.callee_result_type, ret)] if ret is not None else [])
            self.set_flag(callee_flags, 1, 1)
        for cell in cells:
            self.set_flag(cell, 0, 1)
        if spec.borrows and not end_now:
            self.handle_op(HANDLE_NOTHING | HANDLE_END, 0, "0")
        self.emit(f"ret {spec.result_type} {out}" if out is not None else "ret void")
        self.write_slow(params)
        head = f"define {spec.result_type} @{SYMBOL}(ptr %vmctx" + "".join(
            f", {t} %p{i}" for i, t in enumerate(spec.caller_params)) + ") #0 {"
        body = [self.lines[0]] + self.allocas + self.lines[1:]
        return "\n".join([head] + body + ["}", ""])

    def handle_op(self, op: int, position: int, value: str) -> str:
        """One call to the handle record (`adapter.HANDLE_*`); a trap there (a bad handle,
        a borrow the callee kept) is raised as the host's. Returns its i32 result."""
        out, = self.host_call(vmctx.ADAPTER_HANDLE_RECORD,
                              [("i32", str(op)), ("i32", str(position)), ("i32", value)],
                              ["i32"])
        return out

    def move_handles(self, lifted: list, converted: list) -> list:
        """Each handle parameter from the caller's table to the callee's, in parameter order,
        the first opening the borrow scope of a call that lends; returns `converted` with
        the callee's handle indices."""
        out, position = [], 0
        for (kind, _), (lltype, v) in zip(lifted, converted):
            if kind in HANDLE_KINDS:
                begin = HANDLE_BEGIN if position == 0 and self.spec.borrows else 0
                v = [self.handle_op(HANDLE_PARAM | begin, position, v[0])]
                position += 1
            out.append((lltype, v))
        return out

    def store_out(self, kind: str, ptr: str, length: str, nbytes: str, src_memory: int,
                  dst_memory: int) -> tuple[str, str]:
        """Store a checked string or list into the other memory: copied, or transcoded;
        returns the destination's (pointer, length)."""
        if transcode_pair(kind) is not None:
            return self.transcode(kind, ptr, length, src_memory, destination(dst_memory))
        if compound_list(kind):
            return self.store_list(kind, ptr, length, nbytes, src_memory, dst_memory), length
        where = destination(dst_memory)
        return self.copy_out(kind, ptr, nbytes, src_memory, dst_memory, where[1],
                             where[2]), length

    def copy_out(self, kind: str, ptr: str, nbytes: str, src_memory: int, dst_memory: int,
                 dst_flags: int, dst_realloc: int) -> str:
        """`realloc` in the destination (its `may_leave` cleared), check the pointer, copy
        the bytes; returns the destination pointer."""
        _, alignment = _unit(kind)
        flags = self.field(dst_flags)
        self.set_flag(flags, 1, 0)
        size32 = self.value(f"trunc i64 {nbytes} to i32")
        q = self.call_code(dst_realloc, "i32", [("i32", "0"), ("i32", "0"),
                                                ("i32", str(alignment)), ("i32", size32)])
        self.set_flag(flags, 1, 1)
        unaligned = self.new_label("unaligned")
        outside = self.new_label("outside")
        self.branch(self.misaligned(q, alignment), unaligned)
        dst_size = self.field(dst_memory + 8, "i64")
        self.branch(self.out_of_range(q, nbytes, dst_size), outside)
        src_base = self.field(src_memory)
        dst_base = self.field(dst_memory)
        s = self.value(f"getelementptr i8, ptr {src_base}, i64 " + self.value(f"zext i32 {ptr} to i64"))
        d = self.value(f"getelementptr i8, ptr {dst_base}, i64 " + self.value(f"zext i32 {q} to i64"))
        self.declare("declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)")
        self.emit(f"call void @llvm.memcpy.p0.p0.i64(ptr {d}, ptr {s}, i64 {nbytes}, i1 false)")
        self.fix_elements(kind, dst_base, q, nbytes)
        cont = self.new_label("copied")
        self.emit(f"br label %{cont}")
        self.start_block(unaligned)
        self.trap_reason(TRAP_REALLOC_UNALIGNED)
        self.start_block(outside)
        self.trap_reason(TRAP_STRING_REALLOC_OUT_OF_BOUNDS if string_kind(kind)
                         else TRAP_LIST_REALLOC_OUT_OF_BOUNDS)
        self.start_block(cont)
        return q

    def convert_result(self, ret: str | None, retptr: str | None) -> str | None:
        """The callee's flat result, lifted and lowered into the caller: the returned scalar,
        or None after writing (pointer, length) to the caller's return area."""
        kind = self.spec.result
        if kind is None:
            return None
        lltype = self.spec.callee_result_type
        python = self.new_label("pyresult")
        done = self.new_label("resulted")
        if not result_in_memory(kind):
            value, = self.convert_flat(kind, [ret], python)
            here = self.new_label("fast")
            self.emit(f"br label %{here}")
            self.start_block(here)
            self.emit(f"br label %{done}")
            self.start_block(python)
            slow, = self.host_call(vmctx.ADAPTER_RESULT_RECORD, [(lltype, ret)], [lltype])
            back = self.new_label("slowdone")
            self.emit(f"br label %{back}")
            self.start_block(back)
            self.emit(f"br label %{done}")
            self.start_block(done)
            return self.value(f"phi {lltype} [ {value}, %{here} ], [ {slow}, %{back} ]")
        if _flat_kind(kind):
            self.convert_result_in_memory(kind, ret, retptr, python)
            self.emit(f"br label %{done}")
        else:
            self.convert_sequence_result(kind, ret, retptr, python)
            self.emit(f"br label %{done}")
        self.start_block(python)
        self.host_call(vmctx.ADAPTER_RESULT_RECORD, [("i32", ret), ("i32", retptr)], [])
        self.emit(f"br label %{done}")
        self.start_block(done)
        return None

    def convert_result_in_memory(self, kind: str, ret: str, retptr: str, python: str) -> None:
        """A variant or record result: the callee returned a pointer to it in its memory;
        load, convert, and store it in the caller's return area (every check first)."""
        size, alignment = kind_layout(kind)
        callee_size = self.field(vmctx.ADAPTER_CALLEE_MEMORY + 8, "i64")
        self.branch(self.misaligned(ret, alignment), python)
        self.branch(self.out_of_range(ret, str(size), callee_size), python)
        caller_size = self.field(vmctx.ADAPTER_CALLER_MEMORY + 8, "i64")
        self.branch(self.misaligned(retptr, alignment), python)
        self.branch(self.out_of_range(retptr, str(size), caller_size), python)
        vals = self.load_flat(kind, self.address(self.field(vmctx.ADAPTER_CALLEE_MEMORY), ret))
        out = self.convert_flat(kind, vals, python)
        self.store_flat(kind, out, self.address(self.field(vmctx.ADAPTER_CALLER_MEMORY),
                                                retptr))

    def convert_sequence_result(self, kind: str, ret: str, retptr: str, python: str) -> None:
        """A string or list result: the callee returned a pointer to (pointer, length) in
        its memory; copy it into the caller's memory with the caller's `realloc`."""
        size, alignment = _unit(kind)
        callee_size = self.field(vmctx.ADAPTER_CALLEE_MEMORY + 8, "i64")
        self.branch(self.misaligned(ret, 4), python)
        self.branch(self.out_of_range(ret, "8", callee_size), python)
        caller_size = self.field(vmctx.ADAPTER_CALLER_MEMORY + 8, "i64")
        self.branch(self.misaligned(retptr, 4), python)
        self.branch(self.out_of_range(retptr, "8", caller_size), python)
        callee_base = self.field(vmctx.ADAPTER_CALLEE_MEMORY)
        r64 = self.value(f"zext i32 {ret} to i64")
        pp = self.value(f"getelementptr i8, ptr {callee_base}, i64 {r64}")
        sp = self.value(f"load i32, ptr {pp}, align 4")
        lp = self.value(f"getelementptr i8, ptr {pp}, i64 4")
        sn = self.value(f"load i32, ptr {lp}, align 4")
        nbytes = self.byte_length(kind, sn)
        self.branch(self.value(f"icmp ugt i64 {nbytes}, {MAX_BYTE_LENGTH}"), python)
        self.branch(self.misaligned(sp, alignment), python)
        self.branch(self.out_of_range(sp, nbytes, callee_size), python)
        self.check_content(kind, vmctx.ADAPTER_CALLEE_MEMORY, sp, nbytes, python, sn)
        q, sn = self.store_out(kind, sp, sn, nbytes, vmctx.ADAPTER_CALLEE_MEMORY,
                               vmctx.ADAPTER_CALLER_MEMORY)
        caller_base = self.field(vmctx.ADAPTER_CALLER_MEMORY)
        o64 = self.value(f"zext i32 {retptr} to i64")
        op = self.value(f"getelementptr i8, ptr {caller_base}, i64 {o64}")
        self.emit(f"store i32 {q}, ptr {op}, align 4")
        olp = self.value(f"getelementptr i8, ptr {op}, i64 4")
        self.emit(f"store i32 {sn}, ptr {olp}, align 4")

    def write_slow(self, params) -> None:
        """The whole call by the Python adapter (it raises the trap a failed check means)."""
        self.start_block("slow")
        rt = self.spec.result_type
        results = self.host_call(vmctx.ADAPTER_SLOW_RECORD, params,
                                 [rt] if rt != "void" else [])
        self.emit(f"ret {rt} {results[0]}" if results else "ret void")


def _flat_kind(kind: str) -> bool:
    """Whether `kind` is converted value by value (scalars, variants, records), not copied
    through `realloc` (strings, lists)."""
    return scalar_type(kind) is not None or variant_cases(kind) is not None or \
        record_fields(kind) is not None


def adapter_ir(spec: AdapterSpec) -> str:
    """The IR text of one adapter module, exporting `pywamr_adapter`."""
    from .translate import EPILOGUE, PRELUDE
    writer = _Writer(spec)
    body = writer.write()
    return "\n".join([PRELUDE, *sorted(writer.declarations), body, EPILOGUE])
