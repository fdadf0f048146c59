"""WAVE, the WebAssembly Value Encoding: component values as text, parsed and printed by type.

Used by `pywamr run --invoke 'name(args)'` (as wasmtime does) and by tests. Works on the
canonical ABI's values (`abi/__init__.py`: records as dicts, variants as (label, payload),
flags as frozensets), guided by the resolved types of `types.py`, so the parser never guesses
a type. Deliberately does not handle resources (a handle has no textual form) and refuses them
with a clear error.

Syntax: `true`, `-7`, `1.5`, `nan`, `inf`, `'c'`, `"text"` (escapes `\\n \\t \\r \\\\ \\' \\"
\\u{1F600}`), `[a, b]`, `(a, b)`, `{field: v}`, `case`, `case(v)`, `some(v)`, `none`, `ok(v)`,
`err(v)`, flags as `{a, b}`; a label that clashes with a keyword is written `%label`.

Maps: wasm-wave has no syntax for `map<K, V>` (its type kinds stop at flags, and wasmtime's
WAVE support reports a map type as unsupported), so pywamr writes a map as the list of
(key, value) tuples it despecializes to: `[("a", 1), ("b", 2)]`, duplicate keys kept in order.
"""
from __future__ import annotations

import math
import struct

from ..errors import NotSupported
from .types import (BorrowType, EnumType, FlagsType, ListType, MapType, OptionType, OwnType,
                    PrimValType, RecordType, ResultType, TupleType, VariantType, despecialize)


class WaveError(ValueError):
    """Malformed WAVE text, or text that does not match the expected type."""


_INT_RANGES = {"s8": (-2**7, 2**7), "u8": (0, 2**8), "s16": (-2**15, 2**15), "u16": (0, 2**16),
               "s32": (-2**31, 2**31), "u32": (0, 2**32), "s64": (-2**63, 2**63),
               "u64": (0, 2**64)}
_KEYWORDS = {"true", "false", "nan", "inf", "some", "none", "ok", "err"}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def error(self, what: str) -> WaveError:
        return WaveError(f"{what} at offset {self.pos} of {self.text!r:.80}")

    def skip(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            raise self.error(f"expected {ch!r}")
        self.pos += 1

    def accept(self, ch: str) -> bool:
        if self.peek() == ch:
            self.pos += 1
            return True
        return False

    def label(self) -> str:
        self.skip()
        start = self.pos
        if self.accept("%"):
            start = self.pos
        text = self.text
        while self.pos < len(text) and (text[self.pos].isalnum() or text[self.pos] == "-"):
            self.pos += 1
        if self.pos == start:
            raise self.error("expected a name")
        return text[start:self.pos]

    def number(self) -> str:
        self.skip()
        start = self.pos
        text = self.text
        while self.pos < len(text) and (text[self.pos].isalnum() or text[self.pos] in "+-._"):
            self.pos += 1
        if self.pos == start:
            raise self.error("expected a number")
        return text[start:self.pos]

    def quoted(self, quote: str) -> str:
        self.expect(quote)
        out = []
        text = self.text
        while True:
            if self.pos >= len(text):
                raise self.error("unterminated literal")
            ch = text[self.pos]
            self.pos += 1
            if ch == quote:
                return "".join(out)
            if ch != "\\":
                out.append(ch)
                continue
            esc = text[self.pos:self.pos + 1]
            self.pos += 1
            if esc in _ESCAPES:
                out.append(_ESCAPES[esc])
            elif esc == "u":
                end = text.find("}", self.pos)
                if text[self.pos:self.pos + 1] != "{" or end < 0:
                    raise self.error("bad \\u{...} escape")
                try:
                    code = int(text[self.pos + 1:end], 16)
                    out.append(chr(code))
                except ValueError:
                    raise self.error("bad \\u{...} escape") from None
                if 0xD800 <= code <= 0xDFFF:
                    raise self.error("a surrogate is not a char")
                self.pos = end + 1
            else:
                raise self.error(f"unknown escape \\{esc}")

    # ---- by type --------------------------------------------------------------------------
    def value(self, t):
        if isinstance(t, PrimValType):
            return self.prim(t.name)
        if isinstance(t, ListType):
            self.expect("[")
            items = self.sequence("]", lambda: self.value(t.elem))
            if t.length is not None and len(items) != t.length:
                raise self.error(f"expected {t.length} elements")
            return bytes(items) if t.elem == PrimValType("u8") else items
        if isinstance(t, MapType):
            return self.value(despecialize(t))      # [(key, value), ...]
        if isinstance(t, TupleType):
            self.expect("(")
            items = []
            for i, e in enumerate(t.elems):
                if i:
                    self.expect(",")
                items.append(self.value(e))
            self.accept(",")
            self.expect(")")
            return tuple(items)
        if isinstance(t, RecordType):
            return self.record(t)
        if isinstance(t, FlagsType):
            self.expect("{")
            labels = self.sequence("}", self.label)
            for label in labels:
                if label not in t.labels:
                    raise self.error(f"unknown flag {label!r}")
            return frozenset(labels)
        if isinstance(t, EnumType):
            label = self.label()
            if label not in t.labels:
                raise self.error(f"unknown enum case {label!r}")
            return label
        if isinstance(t, OptionType):
            return self.cases((("none", None), ("some", t.t)))
        if isinstance(t, ResultType):
            label, payload = self.cases((("ok", t.ok), ("err", t.error)))
            return ("ok" if label == "ok" else "error", payload)
        if isinstance(t, VariantType):
            return self.cases(tuple((c.label, c.t) for c in t.cases))
        if isinstance(t, (OwnType, BorrowType)):
            raise NotSupported("resource handles have no WAVE form")
        raise NotSupported(f"WAVE values of {t} are not supported")

    def sequence(self, close: str, item) -> list:
        items = []
        while not self.accept(close):
            if items:
                self.expect(",")
                if self.accept(close):
                    break
            items.append(item())
        return items

    def record(self, t: RecordType) -> dict:
        self.expect("{")
        got = {}
        types = {f.label: f.t for f in t.fields}
        if not self.accept("}"):
            while True:
                label = self.label()
                if label not in types:
                    raise self.error(f"unknown field {label!r}")
                if label in got:
                    raise self.error(f"duplicate field {label!r}")
                self.expect(":")
                got[label] = self.value(types[label])
                if self.accept("}"):
                    break
                self.expect(",")
                if self.accept("}"):
                    break
        out = {}
        for f in t.fields:
            if f.label in got:
                out[f.label] = got[f.label]
            elif isinstance(f.t, OptionType):
                out[f.label] = ("none", None)      # an omitted option field is none
            else:
                raise self.error(f"missing field {f.label!r}")
        return out

    def cases(self, cases) -> tuple:
        label = self.label()
        for name, payload_type in cases:
            if name == label:
                if payload_type is None:
                    if self.peek() == "(":
                        raise self.error(f"case {label!r} has no payload")
                    return (label, None)
                self.expect("(")
                payload = self.value(payload_type)
                self.expect(")")
                return (label, payload)
        raise self.error(f"unknown case {label!r}")

    def prim(self, name: str):
        if name == "bool":
            word = self.label()
            if word not in ("true", "false"):
                raise self.error("expected true or false")
            return word == "true"
        if name in _INT_RANGES:
            text = self.number()
            try:
                v = int(text, 10)
            except ValueError:
                raise self.error(f"bad {name} {text!r}") from None
            lo, hi = _INT_RANGES[name]
            if not lo <= v < hi:
                raise self.error(f"{v} is out of range for {name}")
            return v
        if name in ("f32", "f64"):
            text = self.number()
            try:
                v = float(text)
            except ValueError:
                raise self.error(f"bad {name} {text!r}") from None
            if text.lower() in ("infinity", "-infinity", "+inf", "+nan", "-nan"):
                raise self.error(f"bad {name} {text!r}")
            if name == "f32" and math.isfinite(v):
                try:
                    v = struct.unpack("<f", struct.pack("<f", v))[0]
                except OverflowError:
                    raise self.error(f"{text} is out of range for f32") from None
            return v
        if name == "char":
            s = self.quoted("'")
            if len(s) != 1:
                raise self.error("a char literal holds one character")
            return s
        if name == "string":
            return self.quoted('"')
        raise NotSupported(f"WAVE values of type {name} are not supported")


def parse_value(text: str, t):
    """Parse one value of type `t` (the whole text)."""
    p = _Parser(text)
    v = p.value(t)
    if p.peek():
        raise p.error("unexpected text after the value")
    return v


def parse_call(text: str) -> tuple[str, str]:
    """Split `name(args)` into the function name and the argument text (without parens)."""
    text = text.strip()
    open_at = text.find("(")
    if open_at <= 0 or not text.endswith(")"):
        raise WaveError(f"expected `name(arguments)`, got {text!r}")
    return text[:open_at].strip(), text[open_at + 1:-1]


def parse_args(text: str, types) -> list:
    """Parse comma-separated arguments of the given types."""
    p = _Parser(text)
    args = []
    for i, t in enumerate(types):
        if i:
            p.expect(",")
        args.append(p.value(t))
    p.accept(",")
    if p.peek():
        raise p.error(f"expected {len(types)} argument(s)")
    return args


# ---- printing --------------------------------------------------------------------------------

def _label(name: str) -> str:
    return "%" + name if name in _KEYWORDS else name


def _float(v: float, name: str) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if name == "f32":
        for digits in range(1, 10):
            text = f"{v:.{digits}g}"
            if struct.unpack("<f", struct.pack("<f", float(text)))[0] == v:
                break
    else:
        text = repr(v)
    if "e" in text or "E" in text:
        text = repr(float(text)) if name == "f64" else text
    if text.endswith(".0"):
        text = text[:-2]
    return text


def _quote(s: str, quote: str) -> str:
    out = [quote]
    for ch in s:
        if ch == quote or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


def format_value(v, t) -> str:
    """The WAVE text of value `v` of type `t`."""
    if isinstance(t, PrimValType):
        name = t.name
        if name == "bool":
            return "true" if v else "false"
        if name in ("f32", "f64"):
            return _float(v, name)
        if name == "char":
            return _quote(v, "'")
        if name == "string":
            return _quote(v, '"')
        return str(v)
    if isinstance(t, ListType):
        return "[" + ", ".join(format_value(x, t.elem) for x in v) + "]"
    if isinstance(t, MapType):
        pairs = v.items() if isinstance(v, dict) else v
        return format_value(list(pairs), despecialize(t))
    if isinstance(t, TupleType):
        return "(" + ", ".join(format_value(x, e) for x, e in zip(v, t.elems)) + ")"
    if isinstance(t, RecordType):
        parts = [f"{_label(f.label)}: {format_value(v[f.label], f.t)}" for f in t.fields]
        return "{" + ", ".join(parts) + "}"
    if isinstance(t, FlagsType):
        return "{" + ", ".join(_label(l) for l in t.labels if l in v) + "}"
    if isinstance(t, EnumType):
        return _label(v)
    if isinstance(t, OptionType):
        return "none" if v[0] == "none" else f"some({format_value(v[1], t.t)})"
    if isinstance(t, ResultType):
        label = "ok" if v[0] == "ok" else "err"
        payload_type = t.ok if label == "ok" else t.error
        return label if payload_type is None else f"{label}({format_value(v[1], payload_type)})"
    if isinstance(t, VariantType):
        label, payload = v
        case = next(c for c in t.cases if c.label == label)
        return _label(label) if case.t is None else f"{_label(label)}({format_value(payload, case.t)})"
    if isinstance(t, (OwnType, BorrowType)):
        return f"<resource {t.resource.name} rep {v}>"
    raise NotSupported(f"WAVE values of {t} are not supported")
