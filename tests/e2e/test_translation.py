"""Official SDKs against accounts of another protocol: the gateway translates both ways.

For each of the 12 (client, upstream) pairs, streamed and whole: the SDK's own parser accepts
what the gateway made of the fake's reply, text and usage intact, and the fake received a
well-formed request of its own protocol. Then images, base64 for every pair and by URL for
Gemini upstreams. Errors and token counting: ``test_translation_errors.py``; tool calling:
``test_translation_tools.py``.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import threading
import zlib
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiohttp import web
from google.genai import types

from tests.e2e.clients import anthropic_client, genai_client, only_request, openai_client
from tests.e2e.harness import CLIENT_KEY, Gateway
from tests.e2e.translation import (
    FINISHED,
    MODEL,
    PAIR_IDS,
    PAIRS,
    PROMPT,
    SCRIPTED_USAGE,
    ask,
    assert_reached,
    client_usage,
    user_texts,
)
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

STREAM = pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
# ``provider``: the upstream protocol (``upstream`` is the fake itself).
CROSS = pytest.mark.parametrize(("client", "provider"), PAIRS, ids=PAIR_IDS)


@STREAM
@CROSS
def test_text_exchange(
    translation_gateway: Gateway, upstream: FakeUpstream, client: str, provider: str, stream: bool
) -> None:
    text = f"{client} from {provider}, {'streamed' if stream else 'whole'}: all points clear."
    upstream.script({"text": text, "usage": SCRIPTED_USAGE})
    answer = ask(client, translation_gateway.url, MODEL[provider], stream=stream)
    assert answer.text == text
    assert answer.usage == client_usage(client, provider)
    assert answer.finish == FINISHED[client]
    assert answer.model == MODEL[provider]  # the public name, not the upstream's
    body = assert_reached(only_request(upstream), provider, stream=stream)
    assert user_texts(provider, body) == [PROMPT]


# --- Images ----------------------------------------------------------------------------------


def _png() -> bytes:
    """A real 2x2 RGB PNG (red, green / blue, white)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = b"\x00\xff\x00\x00\x00\xff\x00" + b"\x00\x00\x00\xff\xff\xff\xff"
    pixels = chunk(b"IDAT", zlib.compress(rows))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + pixels + chunk(b"IEND", b"")


PNG = _png()
PNG_B64 = base64.b64encode(PNG).decode()
PNG_DATA_URL = f"data:image/png;base64,{PNG_B64}"
LOOK = "What is in this picture?"


def _chat_image(url: str, model: str, image: str) -> str:
    content: Any = [
        {"type": "text", "text": LOOK},
        {"type": "image_url", "image_url": {"url": image}},
    ]
    with openai_client(url) as client:
        completion = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": content}]
        )
    return completion.choices[0].message.content or ""


def _responses_image(url: str, model: str, image: str) -> str:
    content: Any = [
        {"type": "input_text", "text": LOOK},
        {"type": "input_image", "image_url": image, "detail": "auto"},
    ]
    with openai_client(url) as client:
        response = client.responses.create(
            model=model, input=[{"role": "user", "content": content}]
        )
    return response.output_text


def _anthropic_image(url: str, model: str, image: str) -> str:
    source: Any = (
        {"type": "base64", "media_type": "image/png", "data": PNG_B64}
        if image.startswith("data:")
        else {"type": "url", "url": image}
    )
    content: Any = [{"type": "image", "source": source}, {"type": "text", "text": LOOK}]
    with anthropic_client(url) as client:
        message = client.messages.create(
            model=model, max_tokens=64, messages=[{"role": "user", "content": content}]
        )
    return "".join(block.text for block in message.content if block.type == "text")


def _gemini_image(url: str, model: str, image: str) -> str:
    picture = (
        types.Part.from_bytes(data=PNG, mime_type="image/png")
        if image.startswith("data:")
        else types.Part.from_uri(file_uri=image, mime_type="image/png")
    )
    contents = [types.Content(role="user", parts=[types.Part.from_text(text=LOOK), picture])]
    with genai_client(url) as client:
        return client.models.generate_content(model=model, contents=contents).text or ""


_IMAGE = {
    "chat": _chat_image,
    "responses": _responses_image,
    "anthropic": _anthropic_image,
    "gemini": _gemini_image,
}


def _images_received(provider: str, body: dict[str, Any]) -> list[tuple[str, bytes]]:
    """Every image in the upstream request, as (media type, bytes), read from ``provider``'s
    inline form only: a URL left in place would be missed, and the count would fail."""
    if provider == "gemini":
        parts = [part for turn in body["contents"] for part in turn["parts"]]
        inline = [part["inlineData"] for part in parts if "inlineData" in part]
        assert not [part for part in parts if "fileData" in part]
        return [(data["mimeType"], base64.b64decode(data["data"])) for data in inline]
    if provider == "anthropic":
        blocks = [block for message in body["messages"] for block in message["content"]]
        images = [block["source"] for block in blocks if block["type"] == "image"]
        assert all(source["type"] == "base64" for source in images)
        return [(source["media_type"], base64.b64decode(source["data"])) for source in images]
    if provider == "chat":
        parts = [part for message in body["messages"] for part in message["content"]]
        urls = [part["image_url"]["url"] for part in parts if part["type"] == "image_url"]
    else:
        parts = [part for item in body["input"] for part in item["content"]]
        urls = [part["image_url"] for part in parts if part["type"] == "input_image"]
    return [_data_url(url) for url in urls]


def _data_url(url: str) -> tuple[str, bytes]:
    header, _, data = url.partition(",")
    assert header.startswith("data:") and header.endswith(";base64"), url[:80]
    return header.removeprefix("data:").removesuffix(";base64"), base64.b64decode(data)


@CROSS
def test_base64_image_arrives_in_the_upstream_form(
    translation_gateway: Gateway, upstream: FakeUpstream, client: str, provider: str
) -> None:
    upstream.script({"text": "Four pixels: red, green, blue, white."})
    text = _IMAGE[client](translation_gateway.url, MODEL[provider], PNG_DATA_URL)
    assert text == "Four pixels: red, green, blue, white."
    body = assert_reached(only_request(upstream), provider, stream=False)
    assert _images_received(provider, body) == [("image/png", PNG)]
    assert user_texts(provider, body) == [LOOK]


@dataclass
class ImageServer:
    url: str
    hits: list[str]


@pytest.fixture
def image_server() -> Iterator[ImageServer]:
    """A PNG served from 127.0.0.1 by aiohttp on a thread of its own, for the gateway to fetch."""
    hits: list[str] = []

    async def pixel(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=PNG, content_type="image/png")

    application = web.Application()
    application.router.add_get("/pixel.png", pixel)
    runner = web.AppRunner(application)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=10)

    try:
        run(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        run(site.start())
        port = runner.addresses[0][1]
        yield ImageServer(f"http://127.0.0.1:{port}/pixel.png", hits)
    finally:
        run(runner.cleanup())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.mark.parametrize("client", ["chat", "responses", "anthropic"])
def test_image_url_is_fetched_and_inlined_for_gemini(
    translation_gateway: Gateway, upstream: FakeUpstream, image_server: ImageServer, client: str
) -> None:
    """Gemini takes no image URLs: the gateway downloads the picture and sends its bytes."""
    upstream.script({"text": "A tiny picture."})
    text = _IMAGE[client](translation_gateway.url, MODEL["gemini"], image_server.url)
    assert text == "A tiny picture."
    assert image_server.hits == ["/pixel.png"]
    body = assert_reached(only_request(upstream), "gemini", stream=False)
    assert _images_received("gemini", body) == [("image/png", PNG)]


def test_gemini_json_array_stream_from_another_protocol(
    translation_gateway: Gateway, upstream: FakeUpstream
) -> None:
    """Without ``alt=sse`` a Gemini stream is one JSON array, and says so in its type."""
    text = "an array, not events"
    upstream.script({"text": text})
    url = f"{translation_gateway.url}/v1beta/models/{MODEL['anthropic']}:streamGenerateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}
    with httpx.Client(timeout=10) as client:
        response = client.post(url, json=body, headers={"x-goog-api-key": CLIENT_KEY})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    chunks = response.json()
    streamed = "".join(
        part.get("text", "")
        for chunk in chunks
        for candidate in chunk.get("candidates", [])
        for part in candidate.get("content", {}).get("parts", [])
    )
    assert streamed == text
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
