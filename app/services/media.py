"""Inlining media an upstream cannot fetch itself (PROTOCOLS.md 7.4).

Gemini takes images and documents only as inline bytes (or its own Files API
URIs); OpenAI Chat has no URL form for documents. Before such a request is
encoded, every URL part is downloaded by the guarded ``MediaFetcher`` (public
addresses only, bounded size and time) and replaced by base64 data.
"""

import asyncio
import base64
from collections.abc import Iterator

from app.canonical.content import FilePart, ImagePart, Part, ToolResultPart
from app.canonical.protocol import WireProtocol
from app.canonical.request import Request
from app.core.errors import InvalidRequest
from app.protocols.gemini.media import google_file
from app.protocols.media import sniff
from app.upstream.transport import FetchedMedia, MediaFetcher

MAX_URLS_PER_REQUEST = 16


def needs_inline(part: ImagePart | FilePart, upstream: WireProtocol) -> bool:
    if part.data is not None or part.url is None:
        return False
    if upstream is WireProtocol.GEMINI:
        return not google_file(part.url)
    return upstream is WireProtocol.OPENAI_CHAT and isinstance(part, FilePart)


async def inline_media(request: Request, upstream: WireProtocol, fetcher: MediaFetcher) -> None:
    """Download, in parallel, every URL part ``upstream`` cannot take, in place."""
    pending = [part for part in _media_parts(request) if needs_inline(part, upstream)]
    if not pending:
        return
    if len(pending) > MAX_URLS_PER_REQUEST:
        raise InvalidRequest(
            f"At most {MAX_URLS_PER_REQUEST} media URLs per request can be "
            "fetched for this model; send the data inline."
        )
    fetched = await asyncio.gather(*(fetcher.fetch(part.url or "") for part in pending))
    for part, media in zip(pending, fetched, strict=True):
        part.data = base64.b64encode(media.data).decode()
        part.media_type = part.media_type or _media_type(media)
        part.url = None


def _media_type(media: FetchedMedia) -> str:
    sniffed = sniff(media.data[:16])
    if sniffed is not None:
        return sniffed
    declared = (media.content_type or "").split(";")[0].strip()
    return declared or "application/octet-stream"


def _media_parts(request: Request) -> Iterator[ImagePart | FilePart]:
    for message in request.messages:
        yield from _in(message.parts)


def _in(parts: list[Part]) -> Iterator[ImagePart | FilePart]:
    for part in parts:
        if isinstance(part, ImagePart | FilePart):
            yield part
        elif isinstance(part, ToolResultPart):
            yield from _in(part.content)
