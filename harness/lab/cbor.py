"""A small CBOR (RFC 8949) codec for the Smithy RPC v2 CBOR protocol that AWS Health uses.

Only what AWS payloads contain: maps, arrays, text and byte strings, integers, floats,
booleans, null and epoch timestamps (tag 1). Datetimes are written as tag 1 floats.
"""

from __future__ import annotations

import datetime as dt
import struct
from typing import Any


def _head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    if value < 0x100:
        return bytes([major << 5 | 24, value])
    if value < 0x10000:
        return bytes([major << 5 | 25]) + struct.pack(">H", value)
    if value < 0x100000000:
        return bytes([major << 5 | 26]) + struct.pack(">I", value)
    return bytes([major << 5 | 27]) + struct.pack(">Q", value)


def dumps(value: Any) -> bytes:
    if value is None:
        return b"\xf6"
    if value is True:
        return b"\xf5"
    if value is False:
        return b"\xf4"
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(3, len(raw)) + raw
    if isinstance(value, bytes | bytearray):
        return _head(2, len(value)) + bytes(value)
    if isinstance(value, dt.datetime):
        return b"\xc1" + dumps(float(value.timestamp()))
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(dumps(k) + dumps(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return _head(4, len(value)) + b"".join(dumps(v) for v in value)
    raise TypeError(f"cannot CBOR-encode {type(value).__name__}")


class _Reader:
    def __init__(self, data: bytes, max_depth: int) -> None:
        self.data = data
        self.pos = 0
        self.depth = 0
        self.max_depth = max_depth

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated CBOR data")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def arg(self, info: int) -> int | None:
        if info < 24:
            return info
        if info == 31:
            return None
        size = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
        if size is None:
            raise ValueError("bad CBOR length")
        return int.from_bytes(self.take(size), "big")

    def item(self) -> Any:
        # Nesting is bounded so a hostile body cannot recurse the decoder into a RecursionError.
        self.depth += 1
        if self.depth > self.max_depth:
            raise ValueError(f"CBOR nests deeper than {self.max_depth} levels")
        try:
            return self._item()
        finally:
            self.depth -= 1

    def _item(self) -> Any:
        first = self.take(1)[0]
        major, info = first >> 5, first & 31
        if major == 7:
            return self._simple(info)
        n = self.arg(info)
        if major == 0:
            return n
        if major == 1:
            return -1 - (n or 0)
        if major in (2, 3):
            raw = self._string(major, n)
            return raw if major == 2 else raw.decode("utf-8")
        if major == 4:
            return self._array(n)
        if major == 5:
            return self._map(n)
        value = self.item()  # major 6: a tag; tag 1 is an epoch timestamp
        return value

    def _simple(self, info: int) -> Any:
        if info == 20:
            return False
        if info == 21:
            return True
        if info in (22, 23):
            return None
        if info == 25:
            return _half(self.take(2))
        if info == 26:
            return struct.unpack(">f", self.take(4))[0]
        if info == 27:
            return struct.unpack(">d", self.take(8))[0]
        if info == 31:
            return _BREAK
        raise ValueError("unsupported CBOR simple value")

    def _string(self, major: int, n: int | None) -> bytes:
        if n is not None:
            return self.take(n)
        parts = []
        while self.data[self.pos] != 0xFF:
            part = self.item()
            parts.append(part.encode() if isinstance(part, str) else part)
        self.pos += 1
        return b"".join(parts)

    def _array(self, n: int | None) -> list[Any]:
        out = []
        if n is None:
            while (value := self.item()) is not _BREAK:
                out.append(value)
            return out
        return [self.item() for _ in range(n)]

    def _map(self, n: int | None) -> dict[Any, Any]:
        out = {}
        if n is None:
            while (key := self.item()) is not _BREAK:
                out[key] = self.item()
            return out
        for _ in range(n):
            key = self.item()
            out[key] = self.item()
        return out


_BREAK = object()


def _half(raw: bytes) -> float:
    bits = int.from_bytes(raw, "big")
    exp, frac = (bits >> 10) & 0x1F, bits & 0x3FF
    sign = -1.0 if bits & 0x8000 else 1.0
    if exp == 0:
        return sign * frac * 2.0**-24
    if exp == 31:
        return sign * float("inf") if frac == 0 else float("nan")
    return sign * (1 + frac / 1024) * 2.0 ** (exp - 15)


def loads(data: bytes, max_depth: int = 64) -> Any:
    reader = _Reader(data, max_depth)
    value = reader.item()
    return value
