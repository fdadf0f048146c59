"""Value-by-value conversions of a native adapter: scalars, variants (options, results) and
records, flat and in memory (see `adapter.py` for the kinds).

A mixin of `adapter_ir._Writer`, split from it along the seam between the adapter's control
(checks, entering, calls, fallbacks) and the conversion of one value; it emits IR text
through the `FunctionBuilder` methods of the writer it is mixed into, and copies nothing
through `realloc` (strings and lists stay in `adapter_ir`). Spec: CanonicalABI.md, "Flat
Lifting", "Flat Lowering", "Loading", "Storing".
"""
from __future__ import annotations

from .adapter import (_flat, _scalar_size, record_fields, record_offsets, scalar_type,
                      variant_cases, variant_payload, variant_payload_offset)
from .helpers import int_const


class ValueConversions:
    """Conversions of scalar, variant and record kinds (mixed into the adapter writer)."""

    # -- scalars ----------------------------------------------------------------------------
    def convert_scalar(self, kind: str, v: str, on_invalid: str | None) -> str:
        """Lift `v` in one component's options and lower it in the other's; an invalid
        `char` jumps to `on_invalid`."""
        if kind == "bool":
            nz = self.value(f"icmp ne i32 {v}, 0")
            return self.value(f"zext i1 {nz} to i32")
        if kind in ("u8", "u16"):
            return self.value(f"and i32 {v}, {0xFF if kind == 'u8' else 0xFFFF}")
        if kind in ("s8", "s16"):
            small = "i8" if kind == "s8" else "i16"
            t = self.value(f"trunc i32 {v} to {small}")
            return self.value(f"sext {small} {t} to i32")
        if kind in ("f32", "f64"):
            ty, bits = ("float", "i32 2143289344") if kind == "f32" else \
                ("double", f"i64 {int_const(0x7FF8000000000000, 64)}")
            nan = self.value(f"fcmp uno {ty} {v}, {v}")
            canonical = self.value(f"bitcast {bits} to {ty}")
            return self.value(f"select i1 {nan}, {ty} {canonical}, {ty} {v}")
        if kind.startswith("enum:"):       # a case index out of range traps
            bad = self.value(f"icmp uge i32 {v}, {int(kind[5:])}")
            self.branch(bad, on_invalid)
            return v
        if kind.startswith("flags:"):      # bits past the labels are dropped
            labels = int(kind[6:])
            return v if labels == 32 else self.value(f"and i32 {v}, {(1 << labels) - 1}")
        if kind == "char":
            big = self.value(f"icmp uge i32 {v}, 1114112")
            off = self.value(f"sub i32 {v}, 55296")
            surrogate = self.value(f"icmp ult i32 {off}, 2048")
            bad = self.value(f"or i1 {big}, {surrogate}")
            self.branch(bad, on_invalid)
            return v
        return v

    # -- variants and records (flat, and in memory) -------------------------------------------
    ZERO = {"i32": "0", "i64": "0", "float": "0.0", "double": "0.0"}

    def coerce(self, v: str, have: str, want: str) -> str:
        """A flat value of type `have` as `want`: the joined-type coercions of
        `lift_flat_variant` (joined -> case) and `lower_flat_variant` (case -> joined)."""
        if have == want:
            return v
        if (have, want) in (("i32", "float"), ("float", "i32"), ("i64", "double"),
                            ("double", "i64")):
            return self.value(f"bitcast {have} {v} to {want}")
        if (have, want) == ("i64", "i32"):
            return self.value(f"trunc i64 {v} to i32")
        if (have, want) == ("i32", "i64"):
            return self.value(f"zext i32 {v} to i64")
        if (have, want) == ("i64", "float"):
            return self.coerce(self.coerce(v, "i64", "i32"), "i32", "float")
        if (have, want) == ("float", "i64"):
            return self.coerce(self.coerce(v, "float", "i32"), "i32", "i64")
        raise AssertionError(f"no coercion from {have} to {want}")

    def by_case(self, kind: str, disc: str, case_value) -> str | None:
        """Switch on `disc` over the cases of variant `kind`; `case_value(payload kind)`
        emits a case's code and returns its joined payload value (None when the variant has
        no payload). Cases out of range take case 0's block (checked elsewhere). Returns
        the phi of the payload values."""
        cases = variant_cases(kind)
        joined = variant_payload(kind)
        labels = [self.new_label("case") for _ in cases]
        join = self.new_label("cases")
        self.emit(f"switch i32 {disc}, label %{labels[0]} [ " + " ".join(
            f"i32 {n}, label %{label}" for n, label in enumerate(labels) if n) + " ]")
        incoming = []
        for case, label in zip(cases, labels):
            self.start_block(label)
            v = case_value(case)
            end = self.new_label("caseend")
            self.emit(f"br label %{end}")
            self.start_block(end)
            self.emit(f"br label %{join}")
            incoming.append((v, end))
        self.start_block(join)
        if not joined:
            return None
        return self.value(f"phi {joined[0]} " + ", ".join(f"[ {v}, %{b} ]"
                                                          for v, b in incoming))

    def convert_flat(self, kind: str, vals: list[str], on_invalid: str) -> list[str]:
        """Lift the flat values of a scalar, variant or record `kind` in one component's
        options and lower them in the other's; an invalid value jumps to `on_invalid`.
        Spec: "Flat Lifting", "Flat Lowering" (`lift_flat_variant`, `lower_flat_variant`)."""
        if scalar_type(kind) is not None:
            return [self.convert_scalar(kind, vals[0], on_invalid)]
        fields = record_fields(kind)
        if fields is not None:
            out, i = [], 0
            for f in fields:
                n = len(_flat(f))
                out += self.convert_flat(f, vals[i:i + n], on_invalid)
                i += n
            return out
        cases = variant_cases(kind)
        disc = vals[0]
        self.branch(self.value(f"icmp uge i32 {disc}, {len(cases)}"), on_invalid)
        joined = variant_payload(kind)
        if not joined:
            return [disc]

        def case_value(case):
            if case is None:
                return self.ZERO[joined[0]]
            want = scalar_type(case)
            v = self.convert_scalar(case, self.coerce(vals[1], joined[0], want), on_invalid)
            return self.coerce(v, want, joined[0])
        return [disc, self.by_case(kind, disc, case_value)]

    def address(self, base: str, ptr: str, offset: int = 0) -> str:
        p = self.value(f"zext i32 {ptr} to i64")
        if offset:
            p = self.value(f"add i64 {p}, {offset}")
        return self.value(f"getelementptr i8, ptr {base}, i64 {p}")

    def load_scalar(self, kind: str, address: str) -> str:
        """The flat value of a scalar stored at `address` (small integers zero-extended:
        `convert_scalar` sign-extends or masks them)."""
        lltype = scalar_type(kind)
        size = _scalar_size(kind)
        if lltype in ("float", "double", "i64") or size == 4:
            return self.value(f"load {lltype}, ptr {address}, align 1")
        v = self.value(f"load i{8 * size}, ptr {address}, align 1")
        return self.value(f"zext i{8 * size} {v} to i32")

    def store_scalar(self, kind: str, v: str, address: str) -> None:
        lltype = scalar_type(kind)
        size = _scalar_size(kind)
        if lltype == "i32" and size < 4:
            v = self.value(f"trunc i32 {v} to i{8 * size}")
            lltype = f"i{8 * size}"
        self.emit(f"store {lltype} {v}, ptr {address}, align 1")

    def load_flat(self, kind: str, address: str) -> list[str]:
        """The flat values of a scalar, variant or record stored at `address` (bounds
        checked by the caller). Spec: "Loading" (`load_variant`, `load_record`)."""
        if scalar_type(kind) is not None:
            return [self.load_scalar(kind, address)]
        fields = record_fields(kind)
        if fields is not None:
            out = []
            for f, off in zip(fields, record_offsets(kind)):
                a = self.value(f"getelementptr i8, ptr {address}, i64 {off}")
                out += self.load_flat(f, a)
            return out
        cases = variant_cases(kind)
        disc = self.load_scalar(f"enum:{len(cases)}", address)
        joined = variant_payload(kind)
        if not joined:
            return [disc]
        payload = self.value(f"getelementptr i8, ptr {address}, i64 "
                             f"{variant_payload_offset(kind)}")

        def case_value(case):
            if case is None:
                return self.ZERO[joined[0]]
            return self.coerce(self.load_scalar(case, payload), scalar_type(case), joined[0])
        return [disc, self.by_case(kind, disc, case_value)]

    def store_flat(self, kind: str, vals: list[str], address: str) -> None:
        """Store converted flat values at `address`: a variant writes its discriminant and
        its case's payload only. Spec: "Storing" (`store_variant`, `store_record`)."""
        if scalar_type(kind) is not None:
            self.store_scalar(kind, vals[0], address)
            return
        fields = record_fields(kind)
        if fields is not None:
            i = 0
            for f, off in zip(fields, record_offsets(kind)):
                n = len(_flat(f))
                a = self.value(f"getelementptr i8, ptr {address}, i64 {off}")
                self.store_flat(f, vals[i:i + n], a)
                i += n
            return
        cases = variant_cases(kind)
        self.store_scalar(f"enum:{len(cases)}", vals[0], address)
        joined = variant_payload(kind)
        if not joined:
            return
        payload = self.value(f"getelementptr i8, ptr {address}, i64 "
                             f"{variant_payload_offset(kind)}")

        def case_value(case):
            if case is not None:
                want = scalar_type(case)
                self.store_scalar(case, self.coerce(vals[1], joined[0], want), payload)
            return self.ZERO[joined[0]]
        self.by_case(kind, vals[0], case_value)
