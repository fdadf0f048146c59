"""Byte cursor for the binary format: LEB128 integers, floats, names, with offsets in errors.

The lowest layer of decoding: it knows encodings, not sections or instructions.
"""
from __future__ import annotations

from ..errors import DecodeError


class Reader:
    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else min(end, len(data))

    def error(self, message: str, offset: int | None = None) -> DecodeError:
        return DecodeError(message, self.pos if offset is None else offset)

    def at_end(self) -> bool:
        return self.pos >= self.end

    def byte(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise self.error("unexpected end")
        self.pos = pos + 1
        return self.data[pos]

    def bytes(self, n: int) -> bytes:
        pos = self.pos
        if n < 0 or pos + n > self.end:
            raise self.error("unexpected end of section or function" if pos + n <= len(self.data)
                             else "unexpected end")
        self.pos = pos + n
        return self.data[pos:pos + n]

    def u32(self) -> int:
        return self._uleb(32)

    def u64(self) -> int:
        return self._uleb(64)

    def _uleb(self, bits: int) -> int:
        data, pos, end = self.data, self.pos, self.end
        maxlen = (bits + 6) // 7
        result = 0
        shift = 0
        count = 0
        while True:
            if pos >= end:
                self.pos = pos
                raise self.error("unexpected end")
            b = data[pos]
            pos += 1
            count += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
            if count >= maxlen:
                self.pos = pos
                raise self.error("integer representation too long")
        if count == maxlen and b >> (bits - 7 * (maxlen - 1)):
            self.pos = pos
            raise self.error("integer too large")
        self.pos = pos
        return result

    def s32(self) -> int:
        return self._sleb(32)

    def s33(self) -> int:
        return self._sleb(33)

    def s64(self) -> int:
        return self._sleb(64)

    def _sleb(self, bits: int) -> int:
        data, pos, end = self.data, self.pos, self.end
        maxlen = (bits + 6) // 7
        result = 0
        shift = 0
        count = 0
        while True:
            if pos >= end:
                self.pos = pos
                raise self.error("unexpected end")
            b = data[pos]
            pos += 1
            count += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
            if count >= maxlen:
                self.pos = pos
                raise self.error("integer representation too long")
        if count == maxlen:
            used = bits - 7 * (maxlen - 1)     # payload bits in the last byte, sign included
            high = b >> (used - 1)            # sign bit and the unused bits above it
            if high != 0 and high != (0x7F >> (used - 1)):
                self.pos = pos
                raise self.error("integer too large")
        if result & (1 << (shift - 1)):
            result -= 1 << shift
        self.pos = pos
        return result

    def f32_bits(self) -> int:
        return int.from_bytes(self.bytes(4), "little")

    def f64_bits(self) -> int:
        return int.from_bytes(self.bytes(8), "little")

    def name(self) -> str:
        n = self.u32()
        raw = self.bytes(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error("malformed UTF-8 encoding") from None
