"""Name rules of components: kebab-case labels, extern names, semver, strong uniqueness.

Part of component validation (`validate.py` calls these for every label and import/export
name). Pure string functions: no types here; the type rules that annotated names carry
(`[constructor]r` returns `own<r>`, `[method]r.m` takes `self: borrow<r>`) are checked by
`validate_names.py`, which has the resolved types. Spec: Explainer.md "Import and Export
Definitions", "Name Uniqueness", "Canonical Interface Name"; semver.org 2.0.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ValidationError

_WORD = r"[a-z][0-9a-z]*"
_FRAGMENT = r"(?:[0-9a-z]+|[0-9A-Z]+)"
_LABEL = rf"(?:[a-z][0-9a-z]*|[A-Z][0-9A-Z]*)(?:-{_FRAGMENT})*"
_WORDS = rf"{_WORD}(?:-[0-9a-z]+)*"
LABEL_RE = re.compile(rf"{_LABEL}\Z")
WORDS_RE = re.compile(rf"{_WORDS}\Z")

_NUM = r"(?:0|[1-9][0-9]*)"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
_BUILD_ID = r"[0-9A-Za-z-]+"
SEMVER_RE = re.compile(rf"({_NUM})\.({_NUM})\.({_NUM})(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?"
                       rf"(?:\+({_BUILD_ID}(?:\.{_BUILD_ID})*))?\Z")
CANON_VERSION_RE = re.compile(r"(?:[1-9][0-9]*|0\.[1-9][0-9]*|0\.0\.[1-9][0-9]*|0\.0\.0)\Z")


@dataclass(frozen=True, slots=True)
class ParsedName:
    """An extern name, taken apart. kind: "plain" | "constructor" | "method" | "static" |
    "interface". For annotated names `resource` is the resource label and `label` the
    function label (the resource label again for constructors); interface names fill
    namespace/package/interface/version."""
    kind: str
    label: str = ""
    resource: str = ""
    namespace: str = ""
    package: str = ""
    interface: str = ""
    version: str | None = None


def is_label(s: str) -> bool:
    return bool(LABEL_RE.match(s))


def check_label(s: str, what: str) -> None:
    if not is_label(s):
        raise ValidationError(f"{what} `{s}` is not a valid kebab-case label")


def parse_semver(s: str) -> tuple[int, int, int, str | None, str | None]:
    """Semantic Versioning 2.0: (major, minor, patch, pre-release, build)."""
    m = SEMVER_RE.match(s)
    if m is None:
        raise ValidationError(f"`{s}` is not a valid semver")
    return int(m[1]), int(m[2]), int(m[3]), m[4], m[5]


def parse_extern_name(name: str) -> ParsedName:
    """Parse an import/export name (plain, annotated or interface name) or raise."""
    for prefix, kind in (("[constructor]", "constructor"), ("[method]", "method"),
                         ("[static]", "static")):
        if name.startswith(prefix):
            rest = name[len(prefix):]
            if kind == "constructor":
                check_label(rest, "constructor name")
                return ParsedName(kind, label=rest, resource=rest)
            resource, dot, label = rest.partition(".")
            if not dot:
                raise ValidationError(f"`{name}` is not a valid {kind} name: expected "
                                      f"`{prefix}resource.name`")
            check_label(resource, f"{kind} resource name")
            check_label(label, f"{kind} name")
            return ParsedName(kind, label=label, resource=resource)
    if name.startswith("["):
        raise ValidationError(f"`{name}` has an unknown annotation")
    if ":" in name or "/" in name or "@" in name:
        return _parse_interface_name(name)
    check_label(name, "name")
    return ParsedName("plain", label=name)


def _parse_interface_name(name: str) -> ParsedName:
    body, at, version = name.partition("@")
    if at:
        if not CANON_VERSION_RE.match(version):
            parse_semver(version)
    ns, colon, rest = body.partition(":")
    if not colon:
        raise ValidationError(f"`{name}` is not a valid interface name: expected `ns:pkg/iface`")
    package, slash, interface = rest.partition("/")
    if not slash:
        raise ValidationError(f"`{name}` is not a valid interface name: missing `/interface`")
    if not WORDS_RE.match(ns):
        raise ValidationError(f"`{name}`: namespace `{ns}` is not valid")
    if not WORDS_RE.match(package):
        raise ValidationError(f"`{name}`: package `{package}` is not valid")
    check_label(interface, f"`{name}`: interface")
    return ParsedName("interface", label=interface, namespace=ns, package=package,
                      interface=interface, version=version if at else None)


def check_attributes(name: str, parsed: ParsedName, attributes, sort: str) -> None:
    """Attribute rules: each kind at most once; `implements` only on plain-named instances
    with a valid interface name; `versionsuffix` only after a canonical version, forming a
    valid semver with it."""
    seen = set()
    for kind, value in attributes:
        if kind in seen:
            raise ValidationError(f"`{name}`: duplicate `{kind}` attribute")
        seen.add(kind)
        if kind == "implements":
            if sort != "instance":
                raise ValidationError(f"`{name}`: `implements` is only allowed on instances")
            if parsed.kind != "plain":
                raise ValidationError(f"`{name}`: `implements` requires a plain name")
            if _parse_interface_name(value).kind != "interface":
                raise ValidationError(f"`{value}` is not an interface name")
        elif kind == "versionsuffix":
            if parsed.kind != "interface" or parsed.version is None or \
                    not CANON_VERSION_RE.match(parsed.version):
                raise ValidationError(f"`{name}`: `versionsuffix` requires a canonical "
                                      "interface version")
            if not re.fullmatch(r"[0-9A-Za-z.+-]*", value):
                raise ValidationError(f"`{name}`: invalid version suffix `{value}`")
            parse_semver(parsed.version + value)


def strong_key(name: str) -> str:
    """Canonical form for strong uniqueness: acronyms lower-cased, `[method]l.l` and
    `[static]l.l` become `l`, annotations other than `[constructor]` stripped."""
    s = name.lower()
    for prefix in ("[method]", "[static]"):
        if s.startswith(prefix):
            rest = s[len(prefix):]
            resource, _, label = rest.partition(".")
            return resource if resource == label else rest
    return s


class NameSet:
    """Names seen so far in one scope (imports, or exports, or labels of one type)."""
    __slots__ = ("keys", "what")

    def __init__(self, what: str):
        self.keys: dict[str, str] = {}
        self.what = what

    def add(self, name: str) -> None:
        key = strong_key(name)
        other = self.keys.get(key)
        if other is not None:
            if other == name:
                raise ValidationError(f"{self.what} name `{name}` conflicts with previous name "
                                      f"`{other}`: duplicate {self.what} name")
            raise ValidationError(f"{self.what} name `{name}` conflicts with previous name "
                                  f"`{other}` (names must be strongly unique)")
        self.keys[key] = name


def check_unique_labels(labels, what: str) -> None:
    seen = NameSet(what)
    for label in labels:
        check_label(label, what)
        seen.add(label)
