"""Content codings a response body may arrive in unasked: gzip and deflate.

The gateway advertises no Accept-Encoding (upstream bodies are small JSON or SSE, relayed
as they come, and compressing them would only cost both sides CPU and delay stream
chunks), but an upstream or a proxy in front of it may compress anyway. The gateway
relays bodies without a Content-Encoding, so what arrives compressed is decoded here;
other codings (br, zstd) are refused rather than passed on as garbage.
"""

import zlib
from collections.abc import Iterator

from app.core.errors import UpstreamUnavailable

# The most a compressed body may expand per step of decoding, so a small bomb cannot
# allocate much before a limit sees it.
DECODE_STEP = 256 * 1024


class ContentDecoder:
    """gzip or deflate, decoded as the body is read, each step's output bounded."""

    __slots__ = ("_name", "_started", "_zlib")

    def __init__(self, name: str, wbits: int) -> None:
        self._name = name
        self._zlib = zlib.decompressobj(wbits)
        self._started = False

    @classmethod
    def for_encoding(cls, encoding: bytes) -> "ContentDecoder | None":
        if encoding in (b"gzip", b"x-gzip"):
            return cls("gzip", 16 + zlib.MAX_WBITS)
        if encoding == b"deflate":
            return cls("deflate", zlib.MAX_WBITS)
        return None

    def decode(self, data: bytes, most: int, origin: str) -> bytes:
        """At most ``most`` bytes of output; input left over shows as one byte more."""
        out = self._step(data, most, origin)
        if self._zlib.unconsumed_tail:
            out += b"\0"
        return out

    def pieces(self, data: bytes, origin: str) -> Iterator[bytes]:
        out = self._step(data, DECODE_STEP, origin)
        while True:
            if out:
                yield out
            tail = self._zlib.unconsumed_tail
            if not tail:
                return
            out = self._step(tail, DECODE_STEP, origin)

    def _step(self, data: bytes, most: int, origin: str) -> bytes:
        try:
            out = self._zlib.decompress(data, max(1, most))
        except zlib.error as exc:
            if self._name == "deflate" and not self._started:
                # RFC 9110 8.4.1.2 says zlib-wrapped; some servers send raw deflate.
                self._name, self._zlib = "raw deflate", zlib.decompressobj(-zlib.MAX_WBITS)
                return self._step(data, most, origin)
            raise UpstreamUnavailable(
                f"upstream {origin} sent a body that does not decode as {self._name}"
            ) from exc
        self._started = True
        return out
