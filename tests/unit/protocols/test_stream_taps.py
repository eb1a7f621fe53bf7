"""Relay taps: every byte forwarded (in whole events), usage read exactly, at any split."""

from itertools import pairwise
from pathlib import Path

import pytest

from app.canonical.protocol import WireProtocol
from app.canonical.usage import Usage
from app.services.wires import stream_tap

STREAMS = Path(__file__).parents[2] / "fixtures" / "streams"

# Expected usage follows the canonical rule (PROTOCOLS.md 7.13): input counts
# every prompt token, cache reads and writes included; output counts reasoning.
CASES = {
    "anthropic_text.sse": (
        WireProtocol.ANTHROPIC,
        Usage(
            input_tokens=21 + 100 + 1800,
            output_tokens=95,
            cache_read_tokens=1800,
            cache_write_tokens=100,
        ),
    ),
    "openai_chat_text.sse": (
        WireProtocol.OPENAI_CHAT,
        Usage(input_tokens=90, output_tokens=12, cache_read_tokens=64, reasoning_tokens=5),
    ),
    "openai_responses_text.sse": (
        WireProtocol.OPENAI_RESPONSES,
        Usage(input_tokens=120, output_tokens=48, cache_read_tokens=100, reasoning_tokens=30),
    ),
    "gemini_text.sse": (
        WireProtocol.GEMINI,
        Usage(input_tokens=120, output_tokens=9 + 51, cache_read_tokens=20, reasoning_tokens=51),
    ),
}


def relay(
    protocol: WireProtocol, data: bytes, cuts: list[int], *, hide: bool = False
) -> tuple[bytes, Usage | None]:
    tap = stream_tap(protocol, hide_usage_chunk=hide, gemini_sse=True)
    bounds = [0, *cuts, len(data)]
    out = b"".join(tap.feed(data[a:b]) for a, b in pairwise(bounds))
    return out + tap.finish(), tap.usage()


@pytest.mark.parametrize("name", sorted(CASES))
def test_tap_forwards_every_byte_and_reads_usage_at_every_split(name: str) -> None:
    protocol, expected = CASES[name]
    data = (STREAMS / name).read_bytes()
    for cut in range(len(data) + 1):
        forwarded, usage = relay(protocol, data, [cut])
        assert forwarded == data, f"bytes changed when split at {cut}"
        assert usage == expected, f"usage wrong when split at {cut}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_tap_byte_by_byte(name: str) -> None:
    protocol, expected = CASES[name]
    data = (STREAMS / name).read_bytes()
    forwarded, usage = relay(protocol, data, list(range(1, len(data))))
    assert forwarded == data
    assert usage == expected


def test_chat_tap_withholds_only_the_usage_chunk_when_the_client_did_not_ask() -> None:
    data = (STREAMS / "openai_chat_text.sse").read_bytes()
    events = data.split(b"\n\n")
    without_usage = b"\n\n".join(e for e in events if b'"choices":[]' not in e)
    for cut in range(0, len(data) + 1, 7):
        forwarded, usage = relay(WireProtocol.OPENAI_CHAT, data, [cut], hide=True)
        assert forwarded == without_usage
        assert usage is not None and usage.input_tokens == 90


def test_tap_of_a_stream_without_usage_reports_none() -> None:
    data = b'data: {"choices":[{"delta":{"content":"x"}}],"usage":null}\n\ndata: [DONE]\n\n'
    assert relay(WireProtocol.OPENAI_CHAT, data, [5]) == (data, None)


def test_gemini_array_tap_finds_the_last_usage_in_a_json_array_stream() -> None:
    data = (
        b'[{"candidates":[],"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5}}'
        b',\r\n{"candidates":[],"usageMetadata":{"promptTokenCount":5,'
        b'"candidatesTokenCount":3,"totalTokenCount":8}}]'
    )
    tap = stream_tap(WireProtocol.GEMINI, hide_usage_chunk=False, gemini_sse=False)
    forwarded = b"".join(tap.feed(data[i : i + 10]) for i in range(0, len(data), 10))
    assert forwarded == data
    assert tap.usage() == Usage(input_tokens=5, output_tokens=3)
