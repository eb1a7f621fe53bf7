"""A translated stream that the decoders cannot follow still ends visibly failed."""

import asyncio
from collections.abc import AsyncIterator, Mapping

from app.canonical.protocol import WireProtocol
from app.canonical.response import StreamEvent
from app.services.codecs import CODECS, ClientView
from app.services.ledger import UsageRecord
from app.services.translate import Translator
from app.upstream.transport import MediaFetcher


class OneChunk:
    status = 200
    headers: Mapping[str, str] = {}
    closed = released = False

    async def read(self, limit: int) -> bytes:
        return b""

    async def chunks(self) -> AsyncIterator[bytes]:
        yield b"event: message_start\ndata: {}\n\n"

    def release(self) -> None:
        self.released = True

    def close(self) -> None:
        self.closed = True


class BrokenDecoder:
    def feed(self, chunk: bytes) -> list[StreamEvent]:
        raise KeyError("message")

    def finish(self) -> list[StreamEvent]:
        return []


def test_an_untranslatable_stream_ends_with_the_clients_in_stream_error() -> None:
    finished: list[tuple[str, str | None]] = []

    def finish(record: UsageRecord, status: int, outcome: str, error: str | None) -> None:
        finished.append((outcome, error))

    async def run() -> bytes:
        translator = Translator(
            MediaFetcher(max_bytes=1024, timeout=1), finish, max_response_bytes=1024
        )
        encoder = CODECS[WireProtocol.ANTHROPIC].stream_encoder(ClientView(body={}))
        response = OneChunk()
        record = UsageRecord("r", "k", "anthropic", "m")
        stream = translator._stream(
            response, BrokenDecoder(), encoder, "m", record, [], aiter(response.chunks())
        )
        out = b"".join([chunk async for chunk in stream])
        assert response.closed and not response.released
        return out

    out = asyncio.run(run())
    assert out.startswith(b"event: error\n")
    assert b"could not translate" in out
    assert finished == [("error", "untranslatable upstream stream")]
