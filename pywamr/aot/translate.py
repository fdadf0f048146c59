"""Translate validated wasm function bodies into LLVM IR text, one chunk (LLVM module) at a time.

Sits between the validator's output and `codegen.py`: a `FunctionTranslator` walks a body once,
keeping the wasm operand stack as LLVM operand strings and the control stack as `Frame`s; each
instruction is handed to the emitter of its family through `emit.EMITTERS` (derived from the one
instruction table). Locals and branch values live in allocas that SROA turns into SSA. This
module also writes the per-chunk glue: the trap function, record-call helpers, the entry
trampolines through which every call from Python enters native code, and each function's
entry in its other calling convention (and, for the tiered engine, OSR entries: `osr.py`). It
does not touch llvmlite: the result is plain text.

Calling conventions: a function that makes tail calls is `tailcc`, every other one uses the C
convention as `ret w<i>(ptr vmctx, params...)`; each also has an entry in the other
convention (a thunk) and calls reach it in the one they need (`conventions.py`).

What comes from the validator's side tables (`validate.function.FuncInfo`, whose docstring
states the contract) rather than being worked out again here: every block's signature
(`block_types`), the stack height under a block's parameters (`heights`), and where the
unreachable code after a `br`/`br_table`/`return`/`unreachable` ends (`matches`, `elses`):
the translator jumps straight to that `else`/`end` instead of counting nested blocks. What it
keeps itself, because the side tables cannot hold it: the LLVM operand behind each stack slot,
the LLVM labels of open blocks (a branch depth is resolved against that control stack), and
whether a block end is reached at all (a finer fact than the validator's reachability: a block
that no branch targets and whose body ends unreachable leaves the code after it dead).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..binary import ast
from ..binary.types import FuncType
from ..validate.function import FuncInfo
from ..errors import NotSupported
from . import vmctx
from .conventions import (c_prototype, c_symbol, function_glue, makes_tail_calls,
                          results_in_memory, tail_symbol, tailcc_prototype, tailcc_ret)
from .helpers import (LLTYPE, TBAA_METADATA, ZERO, FunctionBuilder, func_symbol,
                      native_functions, ret_type, signature_key)

# Stack budget of native wasm code, from the outermost entry (bytes).
STACK_BUDGET = 4 * 1024 * 1024


@dataclass
class Frame:
    kind: str                     # "block" | "loop" | "if" | "func"
    params: tuple
    results: tuple
    height: int                   # stack height below the block's parameters
    target: str                   # label a branch jumps to (loop: header; others: end)
    start: int = -1               # position of the block instruction (-1: the function body)
    slots: list | None = None     # allocas carrying branch values (loop: params; else results)
    reached: bool = False         # does any branch target `target`?
    else_label: str | None = None
    if_params: list = field(default_factory=list)
    seen_else: bool = False

    @property
    def branch_types(self) -> tuple:
        return self.params if self.kind == "loop" else self.results


class ModuleInfo:
    """What a function body may refer to, computed once per module; `funcs` are the
    validator's side tables of the defined functions (needed to translate bodies, not to
    name entry symbols). `compiled`, for a partial module (the tiered engine's per-function
    compiles), is the set of defined functions that get native code: calls to any other
    function go through its function record (vmctx FUNCS), as calls to imports do; without
    `direct_calls`, every call does (the tiered engine's cheap tier: a function compiled
    again later, hot, is then reached by all its callers through its record)."""

    def __init__(self, module: ast.Module, func_types, funcs: tuple = (),
                 compiled: "frozenset[int] | None" = None, direct_calls: bool = True,
                 osr: frozenset = frozenset()):
        self.module = module
        self.compiled = compiled
        self.direct_calls = direct_calls
        self.osr = osr      # compiled functions that also get an OSR entry (osr.py)
        self.funcs = tuple(funcs)
        self.types = module.types
        self.func_types = list(func_types)
        self.num_imported_funcs = module.num_imported_funcs()
        self.global_types = module.global_types()
        self.table_types = module.table_types()
        self.vmctx_size = vmctx.vmctx_size(len(module.memory_types()))
        self._tail: dict[int, bool] = {}

    def is_tail_function(self, index: int) -> bool:
        """Whether defined function `index` makes tail calls (so is `tailcc`)."""
        tail = self._tail.get(index)
        if tail is None:
            code = self.module.codes[index - self.num_imported_funcs]
            tail = self._tail[index] = makes_tail_calls(code)
        return tail

    def defined_indices(self) -> list[int]:
        """The function indices that get native code (`helpers.native_functions`)."""
        return native_functions(self.num_imported_funcs, len(self.func_types), self.compiled)

    def is_native(self, index: int) -> bool:
        """Whether a call to function `index` is a direct call to a symbol of this module."""
        return self.direct_calls and index >= self.num_imported_funcs and (
            self.compiled is None or index in self.compiled)


class FunctionTranslator(FunctionBuilder):
    """Translate one function body; `translate()` returns the text of its definition."""

    def __init__(self, info: ModuleInfo, func_index: int, declarations: set, record_sigs: set):
        super().__init__(func_index, declarations)
        self.info = info
        self.record_sigs = record_sigs
        local_index = func_index - info.num_imported_funcs
        self.type: FuncType = info.func_types[func_index]
        self.code: ast.Code = info.module.codes[local_index]
        if local_index >= len(info.funcs):
            raise ValueError("aot: translating a body needs the validator's side tables "
                             "(ModuleInfo(..., funcs=validated.funcs))")
        self.side: FuncInfo = info.funcs[local_index]
        self.tailcc = info.is_tail_function(func_index)     # its convention (conventions.py)
        self.pos = 0                                # position of the instruction being emitted
        self.local_types = tuple(self.type.params) + tuple(self.code.locals)
        self.stack: list[tuple[str, str]] = []    # (lltype, operand)
        self.frames: list[Frame] = []
        self.dead = False
        self.locals: list[str] = []
        self.pending_blocks: list[str] = []     # out-of-line blocks (branch value delivery)
        self.osr_headers: list | None = None    # OSR entries (osr.py): [(loop position, label)]

    # -- the operand stack -----------------------------------------------------------------
    def push(self, lltype: str, operand: str) -> None:
        self.stack.append((lltype, operand))

    def pop(self) -> str:
        return self.stack.pop()[1]

    def pop_n(self, n: int) -> list[tuple[str, str]]:
        if n == 0:
            return []
        values = self.stack[-n:]
        del self.stack[-n:]
        return values

    def block_type(self) -> FuncType:
        """Signature of the block/loop/if being emitted (from the side tables)."""
        return self.side.block_types[self.pos]

    def block_base(self, nparams: int) -> int:
        """Stack height under the parameters of the block/loop/if being emitted (from the
        side tables; an `if`'s condition is on top of its parameters)."""
        below_condition = 1 if self.code.body[self.pos][0] == 0x04 else 0
        height = self.side.heights[self.pos] - below_condition - nparams
        assert height == len(self.stack) - below_condition - nparams
        return height

    # -- branches ----------------------------------------------------------------------------
    def frame_slots(self, frame: Frame) -> list:
        if frame.slots is None:
            frame.slots = [self.alloca(LLTYPE[t]) for t in frame.branch_types]
        return frame.slots

    def store_branch_values(self, frame: Frame, values: list[tuple[str, str]]) -> None:
        for slot, (lltype, operand) in zip(self.frame_slots(frame), values):
            self.emit(f"store {lltype} {operand}, ptr {slot}, align 8")

    def branch_to(self, depth: int) -> None:
        """Unconditional branch to the label `depth` levels out (values stay on the stack)."""
        frame = self.frames[-1 - depth]
        arity = len(frame.branch_types)
        values = self.stack[len(self.stack) - arity:] if arity else []
        if frame.kind == "func":
            self.emit_return(values)
            return
        self.store_branch_values(frame, values)
        frame.reached = True
        self.emit(f"br label %{frame.target}")

    def emit_return(self, values: list[tuple[str, str]]) -> None:
        results = self.type.results
        if self.tailcc and results_in_memory(results):
            words, _ = vmctx.buffer_words(results)
            for i, (lltype, operand) in enumerate(values):
                ptr = self.value(f"getelementptr inbounds i64, ptr %results, i64 {words[i]}")
                self.emit(f"store {lltype} {operand}, ptr {ptr}, align 8")
            self.emit("ret void")
        elif not results:
            self.emit("ret void")
        elif len(results) == 1:
            self.emit(f"ret {values[0][0]} {values[0][1]}")
        else:
            rt = ret_type(results)
            agg = "undef"
            for i, (lltype, operand) in enumerate(values):
                agg = self.value(f"insertvalue {rt} {agg}, {lltype} {operand}, {i}")
            self.emit(f"ret {rt} {agg}")

    def load_slots(self, frame: Frame) -> None:
        for slot, t in zip(self.frame_slots(frame), frame.branch_types):
            self.push(LLTYPE[t], self.value(f"load {LLTYPE[t]}, ptr {slot}, align 8"))

    def mark_dead(self) -> None:
        self.dead = True

    def resume_position(self) -> int:
        """Where translation resumes once the code became unreachable: the `else` (still in
        the then-part of an `if` that has one) or the `end` of the innermost open block."""
        frame = self.frames[-1]
        if frame.kind == "func":
            return len(self.code.body) - 1
        if frame.kind == "if" and not frame.seen_else and frame.start in self.side.elses:
            return self.side.elses[frame.start]
        return self.side.matches[frame.start]

    # -- driver ----------------------------------------------------------------------------
    def translate(self) -> str:
        self.emit_prologue()
        self.translate_body()
        return self.definition()

    def translate_body(self) -> None:
        from .emit import EMITTERS
        self.frames.append(Frame("func", (), tuple(self.type.results), 0, "ret"))
        body = self.code.body
        pos = 0
        while self.frames:
            instr = body[pos]
            emitter = EMITTERS.get(instr[0])
            if emitter is None:
                raise NotSupported(f"aot: instruction {instr[0]:#x} is not supported")
            self.pos = pos
            emitter(self, instr)
            pos = self.resume_position() if self.dead and self.frames else pos + 1

    def head(self) -> str:
        """The `define` line: the function's symbol, convention and parameters."""
        ft = self.type
        params = "".join(f", {LLTYPE[t]} %p{i}" for i, t in enumerate(ft.params))
        if self.tailcc and results_in_memory(ft.results):
            params = ", ptr %results" + params
        convention = f"tailcc {tailcc_ret(ft.results)}" if self.tailcc else ret_type(ft.results)
        return (f"define {convention} @{func_symbol(self.func_index)}"
                f"(ptr noalias nonnull align 8 dereferenceable({self.info.vmctx_size}) %vmctx"
                + params + ") #0 {")

    def definition(self) -> str:
        return "\n".join([self.head(), "entry:"] + self.allocas + self.lines
                         + self.pending_blocks + self.trap_blocks() + ["}", ""])

    def emit_prologue(self) -> None:
        ft = self.type
        for i, t in enumerate(self.local_types):
            slot = self.alloca(LLTYPE[t])
            self.locals.append(slot)
            if i < len(ft.params):
                self.emit(f"store {LLTYPE[t]} %p{i}, ptr {slot}, align 8")
            else:
                self.emit(f"store {LLTYPE[t]} {ZERO[LLTYPE[t]]}, ptr {slot}, align 8")
        self.emit_stack_check()

    def emit_stack_check(self) -> None:
        """Trap when the native stack is below the limit the outermost entry set."""
        sp = self.value("call i64 @llvm.read_register.i64(metadata !0)")
        limit_ptr = self.value(f"getelementptr inbounds i8, ptr @{vmctx.CTX_SYMBOL}, "
                               f"i64 {vmctx.CTX_STACK_LIMIT}")
        limit = self.value(f"load i64, ptr {limit_ptr}, align 8")
        low = self.value(f"icmp ult i64 {sp}, {limit}")
        from ..errors import TrapCode
        self.trap_if(low, TrapCode.STACK_EXHAUSTED)

    # -- calls -----------------------------------------------------------------------------
    def call_direct(self, callee: int) -> None:
        ft = self.info.func_types[callee]
        args = self.pop_n(len(ft.params))
        arg_text = "".join(f", {t} {v}" for t, v in args)
        if self.info.is_native(callee):
            self.declare_defined(callee)
            call = f"notail call {ret_type(ft.results)} @{func_symbol(callee)}"
            if self.info.is_tail_function(callee):
                if results_in_memory(ft.results):
                    self.call_results_in_memory(ft, f"@{func_symbol(callee)}", arg_text)
                    return
                call = f"notail call tailcc {ret_type(ft.results)} @{func_symbol(callee)}"
        else:
            record = self.array_slot(vmctx.FUNCS, callee, "i64")
            arg_text = f", i64 {record}" + arg_text
            call = f"notail call {ret_type(ft.results)} @callrec_{signature_key(ft)}"
            self.record_sigs.add(ft)
        self.push_call_results(ft, f"{call}(ptr %vmctx{arg_text})")

    def call_results_in_memory(self, ft: FuncType, target: str, arg_text: str) -> None:
        """Call a `tailcc` function whose results come back through a buffer."""
        words, n_words = vmctx.buffer_words(ft.results)
        buffer = self.alloca(f"[{n_words} x i64]")
        self.emit(f"notail call tailcc void {target}(ptr %vmctx, ptr {buffer}{arg_text})")
        for i, t in enumerate(ft.results):
            ptr = self.value(f"getelementptr inbounds i64, ptr {buffer}, i64 {words[i]}")
            self.push(LLTYPE[t], self.value(f"load {LLTYPE[t]}, ptr {ptr}, align 8"))

    def declare_defined(self, callee: int) -> None:
        """Declare defined function `callee`'s code (another chunk may define it)."""
        if callee != self.func_index:
            ft = self.info.func_types[callee]
            if self.info.is_tail_function(callee):
                self.declare(f"declare tailcc {tailcc_ret(ft.results)} @{func_symbol(callee)}"
                             + tailcc_prototype(ft))
            else:
                self.declare(f"declare {ret_type(ft.results)} @{func_symbol(callee)}"
                             + c_prototype(ft))

    def declare_tail_entry(self, callee: int) -> str:
        """Declare and name defined function `callee`'s entry in the `tailcc` convention."""
        if self.info.is_tail_function(callee):
            self.declare_defined(callee)
            return f"@{func_symbol(callee)}"
        ft = self.info.func_types[callee]
        self.declare(f"declare tailcc {tailcc_ret(ft.results)} @{tail_symbol(callee)}"
                     + tailcc_prototype(ft))
        return f"@{tail_symbol(callee)}"

    def call_record(self, ft: FuncType, record: str) -> None:
        args = self.pop_n(len(ft.params))
        self.record_sigs.add(ft)
        arg_text = "".join(f", {t} {v}" for t, v in args)
        self.push_call_results(ft, f"notail call {ret_type(ft.results)} @callrec_{signature_key(ft)}"
                                   f"(ptr %vmctx, i64 {record}{arg_text})")

    def push_call_results(self, ft: FuncType, call_text: str) -> None:
        results = ft.results
        if not results:
            self.emit(call_text)
        elif len(results) == 1:
            self.push(LLTYPE[results[0]], self.value(call_text))
        else:
            agg = self.value(call_text)
            for i, t in enumerate(results):
                self.push(LLTYPE[t], self.value(f"extractvalue {ret_type(results)} {agg}, {i}"))


# ---- chunk glue ------------------------------------------------------------------------------

PRELUDE = f"""\
@{vmctx.CTX_SYMBOL} = external global [{vmctx.CTX_SIZE // 8} x i64], align 8
declare i32 @{vmctx.HOST_CALL_SYMBOL}(ptr, i64, ptr)
declare i64 @{vmctx.RUNTIME_SYMBOL}(ptr, i32, i64, i64, i64, i64)
declare void @_longjmp(ptr, i32) noreturn nounwind
declare i32 @_setjmp(ptr) returns_twice nounwind
declare i64 @llvm.read_register.i64(metadata)

declare ptr @llvm.frameaddress.p0(i32)

; Record the trap, walk the frame-pointer chain from here up to (not into) the innermost entry
; trampoline, storing each frame's return address (innermost first) for the Python side to map
; to wasm functions, then unwind to the trampoline. Runs only on the trap path.
define internal void @pywamr_trap(i32 %code, i32 %func, ptr %vmctx) noinline noreturn cold nounwind #0 {{
entry:
  %vp = getelementptr inbounds i8, ptr @{vmctx.CTX_SYMBOL}, i64 {vmctx.CTX_TRAP_VMCTX}
  store volatile ptr %vmctx, ptr %vp, align 8
  %cp = getelementptr inbounds i8, ptr @{vmctx.CTX_SYMBOL}, i64 {vmctx.CTX_TRAP_CODE}
  store volatile i32 %code, ptr %cp, align 8
  %fnp = getelementptr inbounds i8, ptr @{vmctx.CTX_SYMBOL}, i64 {vmctx.CTX_TRAP_FUNC}
  store volatile i32 %func, ptr %fnp, align 8
  %efpp = getelementptr inbounds i8, ptr @{vmctx.CTX_SYMBOL}, i64 {vmctx.CTX_ENTRY_FP}
  %efp = load volatile i64, ptr %efpp, align 8
  %btp = getelementptr inbounds i8, ptr @{vmctx.CTX_SYMBOL}, i64 {vmctx.CTX_BT}
  %fa = call ptr @llvm.frameaddress.p0(i32 0)
  %fp0 = ptrtoint ptr %fa to i64
  br label %walk
walk:
  %fp = phi i64 [ %fp0, %entry ], [ %next, %record ]
  %n = phi i64 [ 0, %entry ], [ %n1, %record ]
  %full = icmp uge i64 %n, {vmctx.BT_DEPTH}
  br i1 %full, label %done, label %step
step:
  %fpp = inttoptr i64 %fp to ptr
  %next = load volatile i64, ptr %fpp, align 8
  %up = icmp ugt i64 %next, %fp
  %inside = icmp ult i64 %next, %efp
  %ok = and i1 %up, %inside
  br i1 %ok, label %record, label %done
record:
  %rap = getelementptr inbounds i8, ptr %fpp, i64 8
  %ra = load volatile i64, ptr %rap, align 8
  %slot = getelementptr inbounds i64, ptr %btp, i64 %n
  store volatile i64 %ra, ptr %slot, align 8
  %n1 = add i64 %n, 1
  br label %walk
done:
  %count = phi i64 [ %n, %walk ], [ %n, %step ]
  %cntp = getelementptr inbounds i8, ptr @{vmctx.CTX_SYMBOL}, i64 {vmctx.CTX_BT_COUNT}
  store volatile i64 %count, ptr %cntp, align 8
  %jp = getelementptr inbounds i8, ptr @{vmctx.CTX_SYMBOL}, i64 {vmctx.CTX_JMPBUF}
  %jb = load volatile ptr, ptr %jp, align 8
  call void @_longjmp(ptr %jb, i32 %code)
  unreachable
}}
"""

EPILOGUE = """\
; Every generated function keeps the frame-pointer chain that the trap path walks (it costs
; one register and two instructions per call; see `pywamr_trap`).
attributes #0 = { nounwind "frame-pointer"="all" }
; Call sites that must stay calls: thunks (conventions.py) and tail calls (emit/call.py).
attributes #1 = { noinline }
!0 = !{!"rsp"}
!1 = !{!"branch_weights", i32 1, i32 2000}
""" + TBAA_METADATA


def buffer_store(lltype: str, operand: str, buf: str, index: int, out: list, name: str) -> None:
    """Store a value at word `index` of a value buffer (see `vmctx.buffer_words`)."""
    out.append(f"  {name} = getelementptr inbounds i64, ptr {buf}, i64 {index}")
    out.append(f"  store {lltype} {operand}, ptr {name}, align 8")


def record_call_helper(ft: FuncType) -> str:
    """`callrec_<sig>(vmctx, record, params...)`: call a function record natively, or through
    the Python host-call callback when the record has no native code."""
    key = signature_key(ft)
    rt = ret_type(ft.results)
    params = "".join(f", {LLTYPE[t]} %p{i}" for i, t in enumerate(ft.params))
    args = "".join(f", {LLTYPE[t]} %p{i}" for i, t in enumerate(ft.params))
    words, n_params = vmctx.buffer_words(ft.params)
    n = max(n_params, vmctx.buffer_words(ft.results)[1], 1)
    out = [f"define internal {rt} @callrec_{key}(ptr %vmctx, i64 %rec{params}) #0 {{",
           "entry:",
           f"  %buf = alloca [{n} x i64], align 8",
           "  %rp = inttoptr i64 %rec to ptr",
           "  %code = load ptr, ptr %rp, align 8",
           "  %isnull = icmp eq ptr %code, null",
           "  br i1 %isnull, label %host, label %native",
           "native:",
           f"  %vp = getelementptr inbounds i8, ptr %rp, i64 {vmctx.RECORD_VMCTX}",
           "  %cv = load ptr, ptr %vp, align 8"]
    if ft.results:
        out += [f"  %r = notail call {rt} %code(ptr %cv{args})", f"  ret {rt} %r"]
    else:
        out += [f"  notail call void %code(ptr %cv{args})", "  ret void"]
    out.append("host:")
    for i, t in enumerate(ft.params):
        buffer_store(LLTYPE[t], f"%p{i}", "%buf", words[i], out, f"%a{i}")
    out += [f"  %rc = call i32 @{vmctx.HOST_CALL_SYMBOL}(ptr %vmctx, i64 %rec, ptr %buf)",
            "  %bad = icmp ne i32 %rc, 0",
            "  br i1 %bad, label %fail, label %done",
            "fail:",
            f"  call void @pywamr_trap(i32 {vmctx.HOST_TRAP}, i32 -1, ptr %vmctx)",
            "  unreachable",
            "done:"]
    out += load_results(ft.results, "%buf", "%o")
    out += ["}", ""]
    return "\n".join(out)


def load_results(results, buf: str, prefix: str) -> list[str]:
    out = []
    words = vmctx.buffer_words(results)[0]
    for i, t in enumerate(results):
        out.append(f"  {prefix}p{i} = getelementptr inbounds i64, ptr {buf}, i64 {words[i]}")
        out.append(f"  {prefix}{i} = load {LLTYPE[t]}, ptr {prefix}p{i}, align 8")
    if not results:
        out.append("  ret void")
    elif len(results) == 1:
        out.append(f"  ret {LLTYPE[results[0]]} {prefix}0")
    else:
        rt = ret_type(results)
        agg = "undef"
        for i, t in enumerate(results):
            out.append(f"  {prefix}agg{i} = insertvalue {rt} {agg}, {LLTYPE[t]} {prefix}{i}, {i}")
            agg = f"{prefix}agg{i}"
        out.append(f"  ret {rt} {agg}")
    return out


def entry_trampoline(ft: FuncType) -> str:
    """`i32 entry_<sig>(ptr vmctx, ptr code, ptr buffer)`: the only way in from Python.

    Saves the process context's jmp_buf, stack limit and entry frame address (where a trap's
    backtrace walk stops), sets them (the outermost entry sets the limit from the stack
    budget), calls `code` with arguments read from `buffer` and writes
    the results back. Returns 0, or the trap number after a trap unwound to here; both paths
    restore the saved context fields."""
    key = signature_key(ft)
    rt = ret_type(ft.results)
    ctx = f"@{vmctx.CTX_SYMBOL}"
    out = [f"define i32 @entry_{key}(ptr %vmctx, ptr %code, ptr %buf) #0 {{",
           "entry:",
           "  %jb = alloca [64 x i64], align 16",
           "  %save_jb = alloca ptr, align 8",
           "  %save_limit = alloca i64, align 8",
           "  %save_efp = alloca i64, align 8",
           f"  %efpp = getelementptr inbounds i8, ptr {ctx}, i64 {vmctx.CTX_ENTRY_FP}",
           "  %old_efp = load volatile i64, ptr %efpp, align 8",
           "  store volatile i64 %old_efp, ptr %save_efp, align 8",
           "  %fa = call ptr @llvm.frameaddress.p0(i32 0)",
           "  %efp = ptrtoint ptr %fa to i64",
           "  store volatile i64 %efp, ptr %efpp, align 8",
           f"  %jbp = getelementptr inbounds i8, ptr {ctx}, i64 {vmctx.CTX_JMPBUF}",
           f"  %limp = getelementptr inbounds i8, ptr {ctx}, i64 {vmctx.CTX_STACK_LIMIT}",
           "  %old_jb = load volatile ptr, ptr %jbp, align 8",
           "  %old_limit = load volatile i64, ptr %limp, align 8",
           "  store volatile ptr %old_jb, ptr %save_jb, align 8",
           "  store volatile i64 %old_limit, ptr %save_limit, align 8",
           "  %sp = call i64 @llvm.read_register.i64(metadata !0)",
           f"  %low = sub i64 %sp, {STACK_BUDGET}",
           "  %outer = icmp eq i64 %old_limit, 0",
           "  %limit = select i1 %outer, i64 %low, i64 %old_limit",
           "  store volatile i64 %limit, ptr %limp, align 8",
           "  store volatile ptr %jb, ptr %jbp, align 8",
           "  %r = call i32 @_setjmp(ptr %jb)",
           "  %first = icmp eq i32 %r, 0",
           "  br i1 %first, label %run, label %trapped",
           "run:"]
    args = []
    param_words = vmctx.buffer_words(ft.params)[0]
    result_words = vmctx.buffer_words(ft.results)[0]
    for i, t in enumerate(ft.params):
        out.append(f"  %ap{i} = getelementptr inbounds i64, ptr %buf, i64 {param_words[i]}")
        out.append(f"  %a{i} = load {LLTYPE[t]}, ptr %ap{i}, align 8")
        args.append(f", {LLTYPE[t]} %a{i}")
    call = f"call {rt} %code(ptr %vmctx{''.join(args)})"
    if not ft.results:
        out.append("  " + call)
    else:
        out.append(f"  %res = {call}")
        if len(ft.results) == 1:
            buffer_store(LLTYPE[ft.results[0]], "%res", "%buf", 0, out, "%rp0")
        else:
            for i, t in enumerate(ft.results):
                out.append(f"  %rv{i} = extractvalue {rt} %res, {i}")
                buffer_store(LLTYPE[t], f"%rv{i}", "%buf", result_words[i], out, f"%rp{i}")
    out += ["  %s1 = load volatile ptr, ptr %save_jb, align 8",
            "  %s2 = load volatile i64, ptr %save_limit, align 8",
            "  store volatile ptr %s1, ptr %jbp, align 8",
            "  store volatile i64 %s2, ptr %limp, align 8",
            "  %s3 = load volatile i64, ptr %save_efp, align 8",
            "  store volatile i64 %s3, ptr %efpp, align 8",
            "  ret i32 0",
            "trapped:",
            "  %t1 = load volatile ptr, ptr %save_jb, align 8",
            "  %t2 = load volatile i64, ptr %save_limit, align 8",
            "  store volatile ptr %t1, ptr %jbp, align 8",
            "  store volatile i64 %t2, ptr %limp, align 8",
            "  %t3 = load volatile i64, ptr %save_efp, align 8",
            "  store volatile i64 %t3, ptr %efpp, align 8",
            "  ret i32 %r",
            "}", ""]
    return "\n".join(out)


def chunk_ir(info: ModuleInfo, func_indices, *, with_entries: bool = False) -> str:
    """The IR text of one chunk: the given defined functions plus the glue they need; the
    chunk with `with_entries` also holds the entry trampolines of every defined signature."""
    from .osr import OsrTranslator, entry_types
    declarations: set = set()
    record_sigs: set = set()
    bodies = []
    for index in func_indices:
        bodies.append(FunctionTranslator(info, index, declarations, record_sigs).translate())
        if index in info.osr:
            bodies.append(OsrTranslator(info, index, declarations, record_sigs).translate())
    defined = {name(i) for i in func_indices for name in (func_symbol, c_symbol, tail_symbol)}
    parts = [PRELUDE]
    parts += sorted(d for d in declarations if _declared_symbol(d) not in defined)
    parts += [record_call_helper(ft) for ft in sorted(record_sigs, key=signature_key)]
    if with_entries:
        parts += [entry_trampoline(ft) for ft in sorted(entry_types(info), key=signature_key)]
    parts += bodies
    parts += [function_glue(i, info.func_types[i], info.is_tail_function(i))
              for i in func_indices]
    parts.append(EPILOGUE)
    return "\n".join(parts)


def _declared_symbol(declaration: str) -> str:
    return declaration.split(" @", 1)[1].split("(", 1)[0]


def entry_symbols(info: ModuleInfo) -> list[str]:
    from .osr import entry_types
    sigs = {signature_key(ft) for ft in entry_types(info)}
    return sorted(f"entry_{k}" for k in sigs)


_FUNCTION_OPERAND_OPCODES = (0x10, 0x12, 0xD2)     # call, return_call, ref.func


def referenced_functions(module: ast.Module, func_indices) -> set[int]:
    """The functions that the bodies of `func_indices` name by index (calls, ref.func): what
    a partial module's code reaches through vmctx FUNCS."""
    first = module.num_imported_funcs()
    out: set[int] = set()
    for index in func_indices:
        for instr in module.codes[index - first].body:
            if instr[0] in _FUNCTION_OPERAND_OPCODES:
                out.add(instr[1])
    return out
