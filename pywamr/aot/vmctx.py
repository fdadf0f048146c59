"""The one definition of the native data layout shared by generated code and the Python side.

Sits under both `translate`/emitters (which compute offsets from here when writing IR) and
the Python side (`instance`, `bridge`, `handles`, which fill the buffers with ctypes). Nothing
else hard-codes an offset. Bump `LAYOUT_VERSION` whenever anything here changes: it is part of
the code-cache key.

Layout (all slots 8 bytes, little-endian):

vmctx (one per instance):
  MEM_BASE      address of linear memory 0 (refreshed by a grow hook)
  MEM_SIZE      its size in bytes
  FUNCS         address of an array: function index -> address of a function record
  TABLES        address of an array: table index -> address of a table descriptor
  GLOBALS       address of an array: global index -> address of the global's 8-byte cell
                (0 for a reference global: reached through RT_GLOBAL_GET/SET)
  TYPE_IDS      address of an array: type index -> canonical structural type id
  INSTANCE_ID   key of the instance in the Python registry (runtime helper calls)
  then, for each memory N >= 1 (multi-memory), past the fixed part:
  MEM_BASE(N)   address of linear memory N      at VMCTX_SIZE + 16 * (N - 1)
  MEM_SIZE(N)   its size in bytes                at VMCTX_SIZE + 16 * (N - 1) + 8
  Memory 0 keeps its fixed slots, so its accesses are the same IR as with one memory; memory N
  is one vmctx load away too (no indirection through an array).

function record (one per function object that native code can see; a funcref is its address):
  CODE          native entry `ret f(ptr vmctx, params...)` (C calling convention), 0 for a
                function run by Python
  CALLEE_VMCTX  vmctx to pass to CODE (and TAIL_CODE)
  TYPE_ID       canonical structural type id (never 0)
  TAIL_CODE     the same function's entry in the `tailcc` convention that wasm functions use
                for tail calls (conventions.py; tail calls through records go there), or 0
                when the function has none (Python-run functions, component adapters): then
                CODE

table descriptor (one per table, shared by every instance using it):
  ELEMENTS      address of an i64 array of references (funcref: record address; 0 = null)
  SIZE          number of elements

adapter context (one per native component-to-component adapter, see adapter.py; its
address is the VMCTX of the adapter's function record):
  CALLER_FLAGS, CALLEE_FLAGS  addresses of the two component instances' flag cells
                (byte 0 may_enter, byte 1 may_leave)
  CALLEE_CODE, POST_RETURN, CALLER_REALLOC, CALLEE_REALLOC
                pairs (native code, its vmctx) of the functions the adapter calls
  CALLER_MEMORY, CALLEE_MEMORY  pairs (base address, size in bytes), refreshed by grow hooks
  SLOW_RECORD, RESULT_RECORD, TRAP_RECORD  records of the Python fallbacks
  ENTERING      addresses of the flag cells of the instances the call enters

value buffer (the argument and result buffer of an entry trampoline and of a host call):
  one 8-byte word per value, in order, two words for a v128 (lane 0's bits in the first
  word); arguments and results each start at word 0 (`buffer_words`)

process context (the external global `pywamr_ctx`, one per process):
  JMPBUF        jmp_buf of the innermost entry trampoline
  STACK_LIMIT   lowest allowed stack pointer (0 outside native code)
  TRAP_CODE     code of the last trap
  TRAP_FUNC     function index of the last trap
  RT_STATUS     trap code set by a runtime helper callback (0 = ok)
  TRAP_VMCTX    vmctx of the function that trapped (names the module for the backtrace)
  ENTRY_FP      frame address of the innermost entry trampoline (where a backtrace walk stops)
  BT_COUNT      number of return addresses in BT after the last trap
  BT            BT_DEPTH return addresses of the last trap's wasm frames, innermost first
"""
from __future__ import annotations

from ..binary.types import V128
from ..errors import TrapCode

LAYOUT_VERSION = 6

SLOT = 8

# vmctx slots (byte offsets)
MEM_BASE = 0
MEM_SIZE = 8
FUNCS = 16
TABLES = 24
GLOBALS = 32
TYPE_IDS = 40
INSTANCE_ID = 48
VMCTX_SIZE = 64             # the fixed part; memories 1.. follow (`vmctx_size`)


def memory_base(index: int) -> int:
    """vmctx offset of the base address of memory `index`."""
    return MEM_BASE if index == 0 else VMCTX_SIZE + 16 * (index - 1)


def memory_size(index: int) -> int:
    """vmctx offset of the byte size of memory `index`."""
    return MEM_SIZE if index == 0 else VMCTX_SIZE + 16 * (index - 1) + 8


def vmctx_size(memories: int) -> int:
    """Bytes of the vmctx of an instance with `memories` memories (imported and defined)."""
    return VMCTX_SIZE + 16 * max(memories - 1, 0)


def buffer_words(types) -> tuple[list[int], int]:
    """(word index of each value, words in all) of a value buffer holding values of `types`."""
    offsets = []
    n = 0
    for t in types:
        offsets.append(n)
        n += 2 if t == V128 else 1
    return offsets, n


# function record
RECORD_CODE = 0
RECORD_VMCTX = 8
RECORD_TYPE_ID = 16
RECORD_TAIL_CODE = 24
RECORD_SIZE = 32

# table descriptor
TABLE_ELEMENTS = 0
TABLE_SIZE = 8
TABLE_DESC_SIZE = 16

# process context
CTX_SYMBOL = "pywamr_ctx"
CTX_JMPBUF = 0
CTX_STACK_LIMIT = 8
CTX_TRAP_CODE = 16
CTX_TRAP_FUNC = 24
CTX_RT_STATUS = 32
CTX_TRAP_VMCTX = 40
CTX_ENTRY_FP = 48
CTX_BT_COUNT = 56
CTX_BT = 64
BT_DEPTH = 64
CTX_SIZE = CTX_BT + BT_DEPTH * SLOT

# symbols the generated code imports from the Python side
HOST_CALL_SYMBOL = "pywamr_host_call"     # i32 (ptr vmctx, i64 record, ptr buffer)
RUNTIME_SYMBOL = "pywamr_runtime"         # i64 (ptr vmctx, i32 op, i64 a, i64 b, i64 c, i64 d)

# trap codes as small ints; 0 means "no trap"
TRAP_CODES: tuple[TrapCode, ...] = tuple(TrapCode)
TRAP_NUMBER = {code: i + 1 for i, code in enumerate(TRAP_CODES)}
HOST_TRAP = TRAP_NUMBER[TrapCode.HOST]     # a Python exception is pending


def trap_from_number(n: int) -> TrapCode:
    return TRAP_CODES[n - 1]


# runtime helper operations (the `op` argument of RUNTIME_SYMBOL)
RT_MEMORY_GROW = 1        # a=delta, b=memory           -> old pages or 0xFFFFFFFF
RT_MEMORY_INIT = 2        # a=data index | memory << 32, b=dst, c=src, d=n
RT_DATA_DROP = 3          # a=data index
RT_TABLE_SET = 5          # a=table, b=index, c=reference handle
RT_TABLE_GROW = 6         # a=table, b=delta, c=init handle    -> old size or 0xFFFFFFFF
RT_TABLE_FILL = 7         # a=table, b=dst, c=value handle, d=n
RT_TABLE_COPY = 8         # a=dst table | src table << 32, b=dst, c=src, d=n
RT_TABLE_INIT = 9         # a=table | elem << 32, b=dst, c=src, d=n
RT_ELEM_DROP = 10         # a=elem index
RT_GLOBAL_GET = 11        # a=global (reference type)        -> reference handle
RT_GLOBAL_SET = 12        # a=global (reference type), b=reference handle


# adapter context (byte offsets; pairs are (code, vmctx) or (base, size))
ADAPTER_CALLER_FLAGS = 0
ADAPTER_CALLEE_FLAGS = 8
ADAPTER_CALLEE_CODE = 16
ADAPTER_POST_RETURN = 32
ADAPTER_CALLER_REALLOC = 48
ADAPTER_CALLEE_REALLOC = 64
ADAPTER_CALLER_MEMORY = 80
ADAPTER_CALLEE_MEMORY = 96
ADAPTER_SLOW_RECORD = 112
ADAPTER_RESULT_RECORD = 120
ADAPTER_TRAP_RECORD = 128
ADAPTER_HANDLE_RECORD = 136     # the Python handle-table transfer (0 when no handles)
ADAPTER_ENTERING = 144


def adapter_context_size(entering: int) -> int:
    return ADAPTER_ENTERING + SLOT * max(entering, 1)
