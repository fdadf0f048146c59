"""A loader for the native objects the aot engine stores: ELF64 x86-64 relocatable objects,
linked into one executable mapping with nothing but `ctypes` (no LLVM).

Sits in the aot engine's loading path, under `AotModule` and the adapter loader, beside
`codegen.load_objects` (LLVM's JIT linker), which stays the fallback: `load_objects` raises
`LoaderError` for anything outside what it understands (another object format or machine,
an unknown relocation, TLS, common symbols, a symbol nobody defines), and the caller then
hands the same objects to LLVM. Running a module from the code cache or from a `.cwasm`
therefore never imports `llvmlite`.

Design. All objects of a module go into ONE anonymous mapping, laid out as
    [ text sections | stubs ] [ read-only sections | GOT ] [ writable sections, bss ]
with each part page-aligned. Everything a 32-bit PC-relative relocation can reach inside
the image is thus within the mapping (a few MiB), so such relocations always fit, however
much memory the process has mapped elsewhere (LLVM's RuntimeDyld, which places sections
separately, aborts on `isInt<32>(RealOffset)` once multi-GiB linear memories sit between
them). A symbol outside the image (the bridge's ctypes callbacks and process context,
`_setjmp`/`_longjmp`, libm) is reached through an 8-byte GOT slot, and a call to it through a
14-byte stub (`jmp *0(%rip)` followed by the address), so distance never matters either.
The mapping is written while read-write, then its text is made read-execute and its
read-only part read-only (W^X: never writable and executable at once).

Relocations (x86-64 psABI, S symbol, A addend, P place, G the symbol's GOT slot, L its stub):
  R_X86_64_64 S+A;  R_X86_64_PC32 S+A-P;  R_X86_64_PLT32 (S or L)+A-P;
  R_X86_64_GOTPCREL, GOTPCRELX, REX_GOTPCRELX G+A-P (never relaxed: the GOT load is correct);
  R_X86_64_32 / 32S S+A (only when it fits, which it rarely does: mappings are high);
  R_X86_64_PC64 S+A-P.  Anything else is refused.

Symbols: a global defined by one of the objects (one definition each: a second one is an
error, as in LLVM's linker), else the caller's `imports`, else the process (`dlsym` through
`ctypes.CDLL(None)`, as LLVM's `add_current_process`). A weak undefined symbol nobody defines
is 0.

`link_objects` is what the engine calls: this loader, else (on `LoaderError`) LLVM's linker,
with the reason kept on the result. $PYWAMR_AOT_LOADER=llvm always uses LLVM's linker;
$PYWAMR_AOT_LOADER=strict never does (a `LoaderError` propagates: for tests).
Deliberately not here: unwinding tables (generated code never unwinds: traps longjmp),
constructors (the generated code has none: refused if present), other machines or formats.
"""
from __future__ import annotations

import ctypes
import os
import struct
import weakref

from ..errors import WasmError
from ..record import record


class LoaderError(WasmError):
    """Objects this loader does not handle; the caller falls back to LLVM's linker."""


# ELF constants used here.
_SHT_SYMTAB, _SHT_RELA, _SHT_NOBITS, _SHT_REL = 2, 4, 8, 9
_SHF_WRITE, _SHF_ALLOC, _SHF_EXECINSTR, _SHF_TLS = 0x1, 0x2, 0x4, 0x400
_SHN_UNDEF, _SHN_LORESERVE, _SHN_ABS, _SHN_COMMON = 0, 0xFF00, 0xFFF1, 0xFFF2
_STB_LOCAL, _STB_WEAK = 0, 2
_STT_FUNC, _STT_SECTION, _STT_TLS = 2, 3, 6
_EM_X86_64 = 62
_CONSTRUCTOR_SECTIONS = (".init_array", ".fini_array", ".ctors", ".dtors", ".preinit_array")

R_X86_64_NONE, R_X86_64_64, R_X86_64_PC32, R_X86_64_PLT32 = 0, 1, 2, 4
R_X86_64_GOTPCREL, R_X86_64_32, R_X86_64_32S, R_X86_64_PC64 = 9, 10, 11, 24
R_X86_64_GOTPCRELX, R_X86_64_REX_GOTPCRELX = 41, 42
_GOT_RELOCATIONS = (R_X86_64_GOTPCREL, R_X86_64_GOTPCRELX, R_X86_64_REX_GOTPCRELX)
_RELOCATION_NAMES = {R_X86_64_NONE: "R_X86_64_NONE", R_X86_64_64: "R_X86_64_64",
                     R_X86_64_PC32: "R_X86_64_PC32", R_X86_64_PLT32: "R_X86_64_PLT32",
                     R_X86_64_GOTPCREL: "R_X86_64_GOTPCREL", R_X86_64_32: "R_X86_64_32",
                     R_X86_64_32S: "R_X86_64_32S", R_X86_64_PC64: "R_X86_64_PC64",
                     R_X86_64_GOTPCRELX: "R_X86_64_GOTPCRELX",
                     R_X86_64_REX_GOTPCRELX: "R_X86_64_REX_GOTPCRELX"}

_PAGE = os.sysconf("SC_PAGE_SIZE")
# mmap(2) and mprotect(2) flags (Linux; the `mmap` module would cost an extension's import)
_PROT_READ, _PROT_WRITE, _PROT_EXEC = 1, 2, 4
_MAP_PRIVATE, _MAP_ANONYMOUS = 0x02, 0x20
_STUB = b"\xff\x25\x00\x00\x00\x00"          # jmp *0(%rip); the 8-byte target follows
_STUB_SIZE = 16
_EXEC_FILL = b"\xcc"                          # int3 between functions and in padding

_SECTION = struct.Struct("<IIQQQQIIQQ")
_SYMBOL = struct.Struct("<IBBHQQ")
_RELA = struct.Struct("<QQq")

_libc = ctypes.CDLL(None, use_errno=True)
_process = _libc
_mmap = _libc.mmap
_mmap.restype = ctypes.c_void_p
_mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                  ctypes.c_long)
_mprotect = _libc.mprotect
_mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
_munmap = _libc.munmap
_munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
_MAP_FAILED = ctypes.c_void_p(-1).value


def process_symbol(name: str) -> int | None:
    """The address of `name` in this process (libc, libm, Python), or None."""
    try:
        return ctypes.cast(_process[name], ctypes.c_void_p).value
    except AttributeError:
        return None


# ---- reading an object -------------------------------------------------------------------------

class _Section:
    __slots__ = ("index", "name", "type", "flags", "offset", "size", "link", "info", "align",
                 "entsize", "address")

    def __init__(self, index, name, fields):
        self.index = index
        self.name = name
        (_, self.type, self.flags, _, self.offset, self.size, self.link, self.info,
         self.align, self.entsize) = fields
        self.address = None     # where it is placed in the image (allocated sections only)


class _Symbol:
    __slots__ = ("name", "bind", "type", "shndx", "value", "size")

    def __init__(self, name, info, shndx, value, size):
        self.name = name
        self.bind = info >> 4
        self.type = info & 0xF
        self.shndx = shndx
        self.value = value
        self.size = size


class _Object:
    """The parts of one relocatable object the loader uses."""

    def __init__(self, data: bytes, number: int):
        self.data = data
        self.number = number
        if len(data) < 64 or data[:4] != b"\x7fELF":
            raise LoaderError(f"object {number} is not an ELF file")
        if data[4] != 2 or data[5] != 1:
            raise LoaderError(f"object {number} is not a little-endian ELF64 file")
        e_type, e_machine = struct.unpack_from("<HH", data, 16)
        if e_type != 1 or e_machine != _EM_X86_64:
            raise LoaderError(f"object {number} is not an x86-64 relocatable object "
                              f"(type {e_type}, machine {e_machine})")
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
        if shentsize != _SECTION.size or shnum == 0 or shstrndx >= shnum \
                or shoff + shnum * shentsize > len(data):
            raise LoaderError(f"object {number}: unusable section header table")
        raw = [_SECTION.unpack_from(data, shoff + i * shentsize) for i in range(shnum)]
        names = raw[shstrndx]
        self.sections = [_Section(i, self._string(names[4], names[5], fields[0]), fields)
                         for i, fields in enumerate(raw)]
        for s in self.sections:
            if s.type != _SHT_NOBITS and s.offset + s.size > len(data):
                raise LoaderError(f"object {number}: section {s.name} lies past the end")
        symtabs = [s for s in self.sections if s.type == _SHT_SYMTAB]
        if len(symtabs) > 1:
            raise LoaderError(f"object {number} has more than one symbol table")
        self.symbols = self._read_symbols(symtabs[0]) if symtabs else []

    def _string(self, table_offset: int, table_size: int, at: int) -> str:
        if at >= table_size:
            raise LoaderError(f"object {self.number}: string offset out of range")
        start = table_offset + at
        end = self.data.find(b"\0", start, table_offset + table_size)
        if end < 0:
            raise LoaderError(f"object {self.number}: unterminated string")
        return self.data[start:end].decode("utf-8", "replace")

    def _read_symbols(self, symtab: _Section) -> list[_Symbol]:
        if symtab.entsize != _SYMBOL.size or symtab.link >= len(self.sections):
            raise LoaderError(f"object {self.number}: unusable symbol table")
        strtab = self.sections[symtab.link]
        out = []
        data = self.data
        for st_name, info, _other, shndx, value, size in _SYMBOL.iter_unpack(
                data[symtab.offset:symtab.offset + symtab.size - symtab.size % _SYMBOL.size]):
            name = self._string(strtab.offset, strtab.size, st_name) if st_name else ""
            out.append(_Symbol(name, info, shndx, value, size))
        return out

    def relocation_sections(self):
        """(target section, RELA section) for every relocated allocated section."""
        for s in self.sections:
            if s.type == _SHT_REL:
                raise LoaderError(f"object {self.number}: REL relocations (without addends) "
                                  f"are not supported")
            if s.type != _SHT_RELA:
                continue
            if s.info >= len(self.sections) or s.entsize != _RELA.size:
                raise LoaderError(f"object {self.number}: unusable relocation section {s.name}")
            target = self.sections[s.info]
            if target.flags & _SHF_ALLOC:
                yield target, s

    def function_sizes(self) -> dict[str, int]:
        return {sym.name: sym.size for sym in self.symbols if sym.type == _STT_FUNC}


def function_sizes(obj: bytes) -> dict[str, int]:
    """{symbol: size in bytes} of the functions an ELF64 object defines (local ones included),
    read from its symbol table; {} for anything this loader cannot read. Lets the trap
    backtrace tell a wasm function's code from the internal helpers placed next to it."""
    try:
        return _Object(obj, 0).function_sizes()
    except (LoaderError, struct.error, IndexError, ValueError):
        return {}


# ---- the loaded image --------------------------------------------------------------------------

class LoadedImage:
    """One mapping holding the code and data of a set of objects.

    Holds the mapping (unmapped when this object dies: keep it as long as any address in it
    may be called, as the LLJIT tracker it stands in for). `symbols` are the global symbols
    the objects define; `function_sizes` the sizes of every function symbol."""

    __slots__ = ("address", "size", "symbols", "function_sizes", "_finalizer", "__weakref__")

    def __init__(self, address: int, size: int, symbols: dict[str, int],
                 function_sizes: dict[str, int]):
        self.address = address
        self.size = size
        self.symbols = symbols
        self.function_sizes = function_sizes
        self._finalizer = weakref.finalize(self, _munmap, address, size)

    def __getitem__(self, name: str) -> int:
        return self.symbols[name]


def _align(n: int, alignment: int) -> int:
    return -(-n // alignment) * alignment if alignment > 1 else n


class _Layout:
    """Where every allocated section, stub and GOT slot goes, relative to the image start."""

    def __init__(self, objects: list[_Object]):
        text, rodata, rwdata = [], [], []
        for obj in objects:
            for s in obj.sections:
                if not s.flags & _SHF_ALLOC:
                    continue
                if s.flags & _SHF_TLS:
                    raise LoaderError(f"object {obj.number}: thread-local section {s.name}")
                if s.name.startswith(_CONSTRUCTOR_SECTIONS):
                    raise LoaderError(f"object {obj.number}: constructor section {s.name}")
                if s.align & (s.align - 1) or s.align > _PAGE:
                    raise LoaderError(f"object {obj.number}: section {s.name} has "
                                      f"alignment {s.align}")
                (text if s.flags & _SHF_EXECINSTR else rwdata if s.flags & _SHF_WRITE
                 else rodata).append(s)
        self.text, self.rodata, self.rwdata = text, rodata, rwdata

    def place(self, n_stubs: int, n_got: int) -> None:
        """Give every section its offset; sets the stub and GOT offsets and the total size."""
        at = 0
        for s in self.text:
            at = _align(at, s.align)
            s.address = at
            at += s.size
        self.stubs = at = _align(at, _STUB_SIZE)
        at += n_stubs * _STUB_SIZE
        self.text_end = at = _align(at, _PAGE)
        for s in self.rodata:
            at = _align(at, s.align)
            s.address = at
            at += s.size
        self.got = at = _align(at, 8)
        at += n_got * 8
        self.rodata_end = at = _align(at, _PAGE)
        for s in self.rwdata:
            at = _align(at, s.align)
            s.address = at
            at += s.size
        self.size = max(_align(at, _PAGE), _PAGE)


def load_objects(objects: list[bytes], imports: dict[str, int]) -> LoadedImage:
    """Link `objects` into a fresh mapping, resolving undefined symbols against each other,
    `imports` ({name: address}) and the process. Raises `LoaderError` (having mapped nothing,
    or unmapped it again) for anything it does not handle."""
    try:
        parsed = [_Object(bytes(data), n) for n, data in enumerate(objects)]
    except (struct.error, IndexError, ValueError) as exc:
        raise LoaderError(f"unreadable object: {exc}") from None
    layout = _Layout(parsed)
    relocations = [(obj, target, list(_RELA.iter_unpack(
                        obj.data[rela.offset:rela.offset + rela.size - rela.size % _RELA.size])))
                   for obj in parsed for target, rela in obj.relocation_sections()]
    definitions = _global_definitions(parsed)
    external = _external_uses(relocations, definitions)
    stub_names = sorted(external["stub"])
    got_names = sorted(external["got"])
    layout.place(len(stub_names), len(got_names))
    base = _map(layout.size)
    try:
        image = _build(parsed, layout, relocations, definitions, imports, base,
                       stub_names, got_names)
        _protect(base, layout)
    except BaseException:
        _munmap(base, layout.size)
        raise
    return image


def _global_definitions(parsed: list[_Object]) -> dict[str, tuple[_Object, _Symbol]]:
    out: dict[str, tuple[_Object, _Symbol]] = {}
    for obj in parsed:
        for sym in obj.symbols:
            if sym.bind == _STB_LOCAL or sym.shndx == _SHN_UNDEF or not sym.name:
                continue
            if sym.shndx == _SHN_COMMON:
                raise LoaderError(f"object {obj.number}: common symbol {sym.name}")
            if sym.type == _STT_TLS:
                raise LoaderError(f"object {obj.number}: thread-local symbol {sym.name}")
            seen = out.get(sym.name)
            if seen is not None:
                if sym.bind == _STB_WEAK:
                    continue
                if seen[1].bind != _STB_WEAK:
                    raise LoaderError(f"symbol {sym.name} is defined twice")
            out[sym.name] = (obj, sym)
    return out


def _external_uses(relocations, definitions) -> dict[str, set]:
    """Names of symbols outside the objects that need a stub (calls) or a GOT slot (GOT
    loads). A GOT load of a symbol inside the image gets a slot too (the code expects one)."""
    stub, got = set(), set()
    for obj, _target, entries in relocations:
        symbols = obj.symbols
        for _offset, info, _addend in entries:
            kind = info & 0xFFFFFFFF
            if kind == R_X86_64_PLT32 or kind in _GOT_RELOCATIONS:
                index = info >> 32
                if index >= len(symbols):
                    raise LoaderError(f"object {obj.number}: relocation names symbol {index}, "
                                      f"past the symbol table")
                sym = symbols[index]
                if kind in _GOT_RELOCATIONS:
                    got.add(_got_key(obj, sym))
                elif sym.shndx == _SHN_UNDEF and sym.name not in definitions:
                    stub.add(sym.name)
    return {"stub": stub, "got": got}


def _got_key(obj: _Object, sym: _Symbol) -> str:
    """The GOT slot a symbol uses: one per global name; a local symbol gets its own."""
    if sym.bind == _STB_LOCAL:
        return f"\0{obj.number}\0{sym.shndx}\0{sym.value}\0{sym.name}"
    return sym.name


def _map(size: int) -> int:
    address = _mmap(None, size, _PROT_READ | _PROT_WRITE, _MAP_PRIVATE | _MAP_ANONYMOUS, -1, 0)
    if address is None or address == _MAP_FAILED:
        raise MemoryError(f"cannot map {size} bytes for native code "
                          f"(errno {ctypes.get_errno()})")
    return address


def _protect(base: int, layout: _Layout) -> None:
    for start, end, prot in ((0, layout.text_end, _PROT_READ | _PROT_EXEC),
                             (layout.text_end, layout.rodata_end, _PROT_READ)):
        if end > start and _mprotect(base + start, end - start, prot) != 0:
            raise LoaderError(f"mprotect failed (errno {ctypes.get_errno()}): this system "
                              f"may forbid making written memory executable")


_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_I64 = struct.Struct("<q")
_U64 = struct.Struct("<Q")


class _Resolver:
    """Addresses of the objects' symbols once the image has a base."""

    def __init__(self, definitions, imports: dict[str, int], base: int):
        self.definitions = definitions
        self.imports = imports
        self.base = base

    def defined(self, obj: _Object, sym: _Symbol) -> int:
        if sym.shndx == _SHN_ABS:
            return sym.value
        if sym.shndx >= _SHN_LORESERVE or sym.shndx >= len(obj.sections):
            raise LoaderError(f"object {obj.number}: symbol {sym.name!r} in special section "
                              f"{sym.shndx:#x}")
        section = obj.sections[sym.shndx]
        if section.address is None:
            raise LoaderError(f"object {obj.number}: symbol {sym.name!r} is in section "
                              f"{section.name}, which is not loaded")
        return self.base + section.address + sym.value

    def address(self, obj: _Object, sym: _Symbol) -> int | None:
        """The symbol's address; None for an undefined one nobody provides."""
        if sym.shndx != _SHN_UNDEF:
            return self.defined(obj, sym)
        found = self.definitions.get(sym.name)
        if found is not None:
            return self.defined(*found)
        address = self.imports.get(sym.name)
        if address is None:
            address = process_symbol(sym.name)
        if address is None and sym.bind == _STB_WEAK:
            return 0
        return address


def _build(parsed, layout: _Layout, relocations, definitions, imports, base: int,
           stub_names: list[str], got_names: list[str]) -> LoadedImage:
    """Copy the sections into the mapping at `base`, fill stubs and GOT, apply relocations."""
    view = memoryview((ctypes.c_ubyte * layout.size).from_address(base)).cast("B")
    view[:layout.stubs] = _EXEC_FILL * layout.stubs
    for obj in parsed:
        for s in obj.sections:
            if s.address is not None and s.type != _SHT_NOBITS:
                view[s.address:s.address + s.size] = obj.data[s.offset:s.offset + s.size]
    resolver = _Resolver(definitions, imports, base)
    addresses = [[resolver.address(obj, sym) for sym in obj.symbols] for obj in parsed]
    by_name = {}
    for obj, resolved in zip(parsed, addresses):
        for sym, address in zip(obj.symbols, resolved):
            if sym.shndx == _SHN_UNDEF and sym.name:
                by_name[sym.name] = address
    stub_at = {}
    for k, name in enumerate(stub_names):
        target = by_name.get(name)
        if target is None:
            raise LoaderError(f"unresolved symbol {name!r}")
        at = layout.stubs + k * _STUB_SIZE
        view[at:at + _STUB_SIZE] = _STUB + _U64.pack(target) + _EXEC_FILL * 2
        stub_at[name] = base + at
    got_at = {name: base + layout.got + 8 * k for k, name in enumerate(got_names)}
    for obj, resolved in zip(parsed, addresses):
        for index, sym in enumerate(obj.symbols):
            slot = got_at.get(_got_key(obj, sym))
            if slot is not None:
                if resolved[index] is None:
                    raise LoaderError(f"unresolved symbol {sym.name!r}")
                _U64.pack_into(view, slot - base, resolved[index])
    for obj, target, entries in relocations:
        _relocate(view, base, obj, target, entries, addresses[obj.number],
                  stub_at, got_at)
    symbols = {name: resolver.defined(obj, sym) for name, (obj, sym) in definitions.items()}
    sizes = {}
    for obj in parsed:
        sizes.update(obj.function_sizes())
    view.release()
    return LoadedImage(base, layout.size, symbols, sizes)


def _relocate(view, base: int, obj: _Object, target: _Section, entries, resolved,
              stub_at: dict, got_at: dict) -> None:
    """Apply one section's relocations (see the module docstring for the formulas)."""
    if target.type == _SHT_NOBITS or target.address is None:
        raise LoaderError(f"object {obj.number}: relocations in section {target.name}, "
                          f"which has no bytes")
    symbols = obj.symbols
    start = target.address
    place0 = base + start
    size = target.size
    for offset, info, addend in entries:
        kind = info & 0xFFFFFFFF
        index = info >> 32
        if index >= len(symbols):
            raise LoaderError(f"object {obj.number}: relocation names symbol {index}, past "
                              f"the symbol table")
        place = place0 + offset
        if kind == R_X86_64_PLT32 or kind == R_X86_64_PC32:
            s = resolved[index]
            if kind == R_X86_64_PLT32 and symbols[index].shndx == _SHN_UNDEF:
                s = stub_at.get(symbols[index].name, s)
            width, value, pack = 4, _need(s, obj, symbols[index]) + addend - place, _I32
        elif kind in _GOT_RELOCATIONS:
            width, value, pack = 4, got_at[_got_key(obj, symbols[index])] + addend - place, _I32
        elif kind == R_X86_64_64:
            width, value, pack = 8, (_need(resolved[index], obj, symbols[index]) + addend) \
                & 0xFFFFFFFFFFFFFFFF, _U64
        elif kind == R_X86_64_PC64:
            width, value, pack = 8, _need(resolved[index], obj, symbols[index]) + addend \
                - place, _I64
        elif kind == R_X86_64_32:
            width, value, pack = 4, _need(resolved[index], obj, symbols[index]) + addend, _U32
        elif kind == R_X86_64_32S:
            width, value, pack = 4, _need(resolved[index], obj, symbols[index]) + addend, _I32
        elif kind == R_X86_64_NONE:
            continue
        else:
            raise LoaderError(f"object {obj.number}: relocation type {kind} in {target.name} "
                              f"is not supported by the loader")
        if offset > size - width:
            raise LoaderError(f"object {obj.number}: relocation at {offset:#x} lies outside "
                              f"section {target.name}")
        try:
            pack.pack_into(view, start + offset, value)
        except struct.error:
            raise LoaderError(f"object {obj.number}: {_RELOCATION_NAMES[kind]} against "
                              f"{symbols[index].name or 'a section'} does not fit "
                              f"(value {value:#x})") from None


def _need(address: int | None, obj: _Object, sym: _Symbol) -> int:
    if address is None:
        raise LoaderError(f"object {obj.number}: unresolved symbol {sym.name!r}")
    return address


@record
class Linked:
    """The outcome of `link_objects`: `owner` keeps the code alive (a `LoadedImage` or LLVM's
    resource tracker), `symbols` the addresses of the exported symbols, `function_sizes` the
    sizes of the function symbols, `linker` "pywamr" or "llvm", `fallback_reason` why this
    loader was not used (None when it was, or when LLVM's linker was asked for)."""
    owner: object
    symbols: dict
    function_sizes: dict
    linker: str
    fallback_reason: str | None = None


def link_objects(objects: list[bytes], imports: dict[str, int], exports) -> Linked:
    """Load `objects` with this loader, else with LLVM's (which needs the names to export:
    `exports()`, called only then). With this loader every global symbol is exported."""
    reason = None
    choice = os.environ.get("PYWAMR_AOT_LOADER", "").lower()
    if choice != "llvm":
        try:
            image = load_objects(objects, imports)
            return Linked(image, image.symbols, image.function_sizes, "pywamr")
        except LoaderError as exc:
            if choice == "strict":
                raise
            reason = str(exc)
    from .codegen import load_objects as llvm_load_objects
    tracker, addresses = llvm_load_objects(objects, imports, exports())
    sizes: dict[str, int] = {}
    for obj in objects:
        sizes.update(function_sizes(obj))
    return Linked(tracker, addresses, sizes, "llvm", reason)
