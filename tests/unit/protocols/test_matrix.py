"""Every golden fixture through all 16 (client, upstream) protocol pairs, via ``CODECS``.

1. Requests: a client fixture, decoded and encoded for each upstream, decodes
   back (as that upstream's client request) to the same semantic summary,
   short of what the upstream cannot carry (``REQUEST_LOSS``); what it cannot
   take at all is rejected naming the field (``REJECTIONS``).
2. Replies: an upstream fixture, encoded for each client, validates with the
   client's SDK and decodes back to the same summary, short of ``REPLY_LOSS``.
3. Streams: an upstream stream split at random points (and byte by byte),
   re-encoded for the client and decoded again, folds to the body of step 2
   (the fold invariant, PROTOCOLS.md 8.6), and the client's SDK reads it.
4. Failing streams end with the client protocol's in-band error (E11).
"""

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import anthropic
import openai
import pytest
from anthropic.types import Message as AnthropicMessage
from google.genai.types import GenerateContentResponse
from openai.types.chat import ChatCompletion
from openai.types.responses import Response as OpenAIResponse

from app.canonical.content import AudioPart, FilePart, ImagePart, Part, Provider, TextPart
from app.canonical.protocol import WireProtocol
from app.canonical.request import Message, Request, Role
from app.canonical.response import FinishReason, StreamError, StreamEvent, TextDelta
from app.core.errors import InvalidRequest
from app.core.sse import event_data, event_name, split_events
from app.protocols.openai_chat.encode_messages import MEDIA_FOLLOWS
from app.services.codecs import CODECS
from tests.unit.protocols.folding import fold_events
from tests.unit.protocols.matrix_support import (
    ANTHROPIC,
    CHAT,
    FAILING_STREAMS,
    GEMINI,
    MODEL,
    PROTOCOLS,
    REPLY_OF_STREAM,
    RESPONSES,
    SDK_STREAM,
    SHORT,
    ReplyLoss,
    RequestLoss,
    byte_pieces,
    client_request,
    encode_request,
    fixture_names,
    media_parts,
    random_pieces,
    read_reply,
    read_stream,
    sdk_anthropic,
    sdk_chat,
    sdk_gemini_chunks,
    sdk_responses_events,
    stream_bytes,
    summarize_reply,
    summarize_request,
    translate_reply,
    translate_stream,
    without_parts,
)

F = FinishReason
SEEDS = (0, 1, 2)  # random splits per stream and pair; byte by byte comes on top
GOOGLE_FILES = ("https://generativelanguage.googleapis.com/", "gs://")  # Gemini's own file ids

# 1. Requests
#
# Client fixtures no upstream of the pair can take, and what the 400 names (in
# its param or message). PROTOCOLS.md 7.4: provider file ids are never
# portable, not even to another account of the same provider; a Gemini Files
# API URI is Gemini's file id. Gemini fetches no URL and Chat takes no
# document URL (the relay inlines fetchable ones before encoding, see
# app/services/media.py; the codecs see them only when that did not happen).
# Gemini names the canonical part, Chat only the messages array.
REJECTIONS: dict[tuple[WireProtocol, str, WireProtocol], str] = {
    (CHAT, "document", CHAT): "file_id",
    (CHAT, "document", RESPONSES): "file_id",
    (CHAT, "document", ANTHROPIC): "file_id",
    (CHAT, "document", GEMINI): "file_id",
    (GEMINI, "document", CHAT): "file_id",
    (GEMINI, "document", RESPONSES): "file_id",
    (GEMINI, "document", ANTHROPIC): "file_id",
    (GEMINI, "media", CHAT): "file_id",
    (GEMINI, "media", RESPONSES): "file_id",
    (GEMINI, "media", ANTHROPIC): "file_id",
    (CHAT, "images", GEMINI): "messages[0].parts[2]",  # an https image
    (RESPONSES, "images", GEMINI): "messages[0].parts[2]",  # an https image
    (ANTHROPIC, "media", GEMINI): "messages[0].parts[2]",  # an https image
    (RESPONSES, "pdf_document", GEMINI): "messages[0].parts[2]",  # an https PDF
    (RESPONSES, "pdf_document", CHAT): "Document URLs",
    (ANTHROPIC, "media", CHAT): "Document URLs",
}


def unportable(part: Part, upstream: WireProtocol) -> bool:
    """The 7.4 rules behind ``REJECTIONS``, part by part: such parts are taken out
    so that the rest of a rejected fixture is still checked. Audio never reaches
    Anthropic (7.4), which only shows once the file ids ahead of it are gone."""
    if isinstance(part, FilePart) and part.file_id:
        return not (upstream is GEMINI and part.file_id.startswith(GOOGLE_FILES))
    remote = isinstance(part, ImagePart | FilePart) and not part.data
    if upstream is GEMINI:
        return remote
    if upstream is CHAT:
        return remote and isinstance(part, FilePart)
    return upstream is ANTHROPIC and isinstance(part, AudioPart)


# What each upstream protocol cannot carry of a request, and why (PROTOCOLS.md 7).
REQUEST_LOSS: dict[WireProtocol, RequestLoss] = {
    CHAT: RequestLoss(
        reasoning="none",  # 7.3 → OC 3: official OpenAI takes no reasoning in Chat history
        error_flag=False,  # 7.8: no error flag; the result text says "Error: "
        tool_media_note=MEDIA_FOLLOWS,  # E27: tool messages take text, media follow as user
        dropped_sampling=frozenset({"top_k"}),  # 7.9, 7.16
    ),
    RESPONSES: RequestLoss(
        reasoning=Provider.OPENAI,  # 7.3 → OR 4: only OpenAI's own encrypted reasoning
        error_flag=False,  # 7.8
        # 7.9: no stop sequences, top_k, seed or penalties in Responses.
        dropped_sampling=frozenset(
            {"stop", "top_k", "seed", "presence_penalty", "frequency_penalty"}
        ),
    ),
    ANTHROPIC: RequestLoss(
        reasoning=Provider.ANTHROPIC,  # 7.11: thinking only with Anthropic's own signature
        system_messages="reminder",  # 7.2: mid-conversation system text as <system-reminder>
        text_document_title=True,  # a text document block keeps its title, read back first
        only_allowed_tools=True,  # 7.6: no allowed_tools, so only the allowed are offered
        history_tools=True,  # tool_use history needs declared tools (request_encode)
        dropped_sampling=frozenset({"seed", "presence_penalty", "frequency_penalty"}),  # 7.16
        top_p_with_temperature=False,  # E41: newer models reject the pair
        max_temperature=1.0,  # 7.9: 0-1 in Messages
        blank_stops=False,  # "each stop sequence must contain non-whitespace" (litellm#3286)
    ),
    GEMINI: RequestLoss(
        reasoning=Provider.GEMINI,  # 7.11: thought text of other providers is dropped
        system_messages="user",  # 7.2 → GM: mid-conversation system text is user text
    ),
}

REQUEST_CASES = [
    (client, case, upstream)
    for client in PROTOCOLS
    for case in fixture_names(client, "requests")
    for upstream in PROTOCOLS
]


def pair_id(source: WireProtocol, case: str, target: WireProtocol) -> str:
    return f"{SHORT[source]}.{case}->{SHORT[target]}"


@pytest.mark.parametrize(
    ("client", "case", "upstream"), REQUEST_CASES, ids=[pair_id(*case) for case in REQUEST_CASES]
)
def test_request_translates(client: WireProtocol, case: str, upstream: WireProtocol) -> None:
    request = client_request(client, case)
    dropped = [part for part in media_parts(request) if unportable(part, upstream)]
    named = REJECTIONS.get((client, case, upstream))
    if named is None:
        assert not dropped, "unportable parts, yet no rejection is expected"
    else:
        with pytest.raises(InvalidRequest) as caught:
            encode_request(request, upstream, CODECS[upstream].names())
        assert named in f"{caught.value.param} {caught.value.message}"
        assert dropped, "rejected, yet no part is unportable"
        for part in dropped:  # each one on its own is rejected too
            alone = Request(MODEL, [Message(Role.USER, [TextPart("Look."), part])])
            with pytest.raises(InvalidRequest):
                encode_request(alone, upstream, CODECS[upstream].names())
        request = without_parts(request, dropped)
    names = CODECS[upstream].names()
    body = encode_request(request, upstream, names)
    back = CODECS[upstream].decode_request(body, MODEL)
    assert summarize_request(back, names) == summarize_request(request, loss=REQUEST_LOSS[upstream])


def test_every_rejection_is_a_case() -> None:
    assert set(REJECTIONS) <= set(REQUEST_CASES)


# 2. Replies
#
# What each client protocol cannot carry of a reply, and why. Finish reasons
# collapse by PROTOCOLS.md 7.12 (IR → inbound), read back by the client
# protocol's own decoding rules.
REPLY_LOSS: dict[WireProtocol, ReplyLoss] = {
    CHAT: ReplyLoss(
        # Five literals only; refusal text rides in message.refusal. A body has
        # no error chunk, so an error finish is a stop (E32).
        finish={
            F.STOP_SEQUENCE: F.STOP,
            F.REFUSAL: F.CONTENT_FILTER,
            F.PAUSE: F.STOP,
            F.CONTEXT_OVERFLOW: F.LENGTH,
            F.ERROR: F.STOP,
        },
        stop_sequence=False,
    ),
    RESPONSES: ReplyLoss(
        finish={F.STOP_SEQUENCE: F.STOP, F.PAUSE: F.STOP, F.CONTEXT_OVERFLOW: F.LENGTH},
        refusal_finish_needs_part=True,  # no refusal status: a refusal is a content part
        stop_sequence=False,
    ),
    ANTHROPIC: ReplyLoss(
        finish={F.CONTENT_FILTER: F.REFUSAL, F.ERROR: F.STOP},  # refusal is the closest
        refusal_as_text=True,  # no refusal block
        reasoning_tokens=False,  # 7.13: thinking tokens are not reported apart
    ),
    GEMINI: ReplyLoss(
        finish={
            F.STOP_SEQUENCE: F.STOP,
            F.REFUSAL: F.CONTENT_FILTER,  # SAFETY
            F.PAUSE: F.STOP,
            F.CONTEXT_OVERFLOW: F.LENGTH,  # MAX_TOKENS
        },
        refusal_as_text=True,  # text with finishReason SAFETY
        cache_writes=False,  # 7.13: usageMetadata counts cache reads only
        stop_sequence=False,
    ),
}
SDK_BODY: dict[WireProtocol, Any] = {
    CHAT: ChatCompletion,
    RESPONSES: OpenAIResponse,
    ANTHROPIC: AnthropicMessage,
    GEMINI: GenerateContentResponse,
}

REPLY_CASES = [
    (upstream, case, client)
    for upstream in PROTOCOLS
    for case in fixture_names(upstream, "responses")
    for client in PROTOCOLS
]


@pytest.mark.parametrize(
    ("upstream", "case", "client"), REPLY_CASES, ids=[pair_id(*case) for case in REPLY_CASES]
)
def test_reply_translates(upstream: WireProtocol, case: str, client: WireProtocol) -> None:
    body, canonical = translate_reply(upstream, client, case)
    SDK_BODY[client].model_validate(json.loads(body))
    back = read_reply(client, body)
    assert summarize_reply(back) == summarize_reply(canonical, REPLY_LOSS[client])


# 3. Streams


def splits(data: bytes) -> Iterator[tuple[str, list[bytes]]]:
    for seed in SEEDS:
        yield f"seed {seed}", random_pieces(data, seed)
    yield "byte by byte", byte_pieces(data)


STREAM_CASES = [
    (upstream, case, client)
    for upstream in PROTOCOLS
    for case in REPLY_OF_STREAM[upstream]
    for client in PROTOCOLS
]


@pytest.mark.parametrize(
    ("upstream", "case", "client"), STREAM_CASES, ids=[pair_id(*case) for case in STREAM_CASES]
)
def test_stream_folds_to_the_translated_body(
    upstream: WireProtocol, case: str, client: WireProtocol
) -> None:
    body, _ = translate_reply(upstream, client, REPLY_OF_STREAM[upstream][case])
    expected = read_reply(client, body)
    summary = summarize_reply(expected)
    # 7.12: an error finish ends a Responses stream with response.failed, not a finish.
    fails = client is RESPONSES and expected.finish is F.ERROR
    for how, pieces in splits(stream_bytes(upstream, case)):
        data = translate_stream(upstream, client, pieces)
        events = read_stream(client, data)
        if fails:
            assert isinstance(events[-1], StreamError), how
        else:  # the whole reply, ids and signatures too; `created` may be the clock's
            assert replace(fold_events(events), created=expected.created) == expected, how
    sdk_text, sdk_calls = SDK_STREAM[client](data, not fails)
    assert (sdk_text, sdk_calls) == (summary.text, summary.calls)


def test_every_stream_fixture_is_a_case() -> None:
    for upstream in PROTOCOLS:
        named = set(REPLY_OF_STREAM[upstream]) | set(FAILING_STREAMS[upstream])
        assert named == set(fixture_names(upstream, "streams"))
        assert set(REPLY_OF_STREAM[upstream].values()) <= set(fixture_names(upstream, "responses"))


# 4. In-band errors

ERROR_CASES = [
    (upstream, case, client)
    for upstream in PROTOCOLS
    for case in FAILING_STREAMS[upstream]
    for client in PROTOCOLS
]


@pytest.mark.parametrize(
    ("upstream", "case", "client"), ERROR_CASES, ids=[pair_id(*case) for case in ERROR_CASES]
)
def test_a_failing_stream_ends_with_the_clients_in_band_error(
    upstream: WireProtocol, case: str, client: WireProtocol
) -> None:
    upstream_events = read_stream(upstream, stream_bytes(upstream, case))
    failure = upstream_events[-1]
    assert isinstance(failure, StreamError)
    for how, pieces in splits(stream_bytes(upstream, case)):
        data = translate_stream(upstream, client, pieces)
        events = read_stream(client, data)
        assert isinstance(events[-1], StreamError), how
        assert events[-1].message == failure.message, how
        assert texts(events) == texts(upstream_events), how
    IN_BAND_ERROR[client](data, failure.message)


def texts(events: list[StreamEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


def payloads(data: bytes) -> list[tuple[bytes, Any]]:
    return [(event_name(e), json.loads(event_data(e))) for e in split_events(data)]


def chat_error(data: bytes, message: str) -> None:
    assert b"[DONE]" not in data
    assert payloads(data)[-1][1]["error"]["message"] == message
    with pytest.raises(openai.APIError, match=re.escape(message)):
        sdk_chat(data, True)


def anthropic_error(data: bytes, message: str) -> None:
    names = [name for name, _ in payloads(data)]
    assert names[-1] == b"error" and b"message_stop" not in names
    assert payloads(data)[-1][1]["error"]["message"] == message
    with pytest.raises(anthropic.APIStatusError, match=re.escape(message)):
        sdk_anthropic(data, True)


def responses_error(data: bytes, message: str) -> None:
    names = [name for name, _ in payloads(data)]
    assert names[-2:] == [b"error", b"response.failed"]
    assert not {b"response.completed", b"response.incomplete"} & set(names)
    failed = payloads(data)[-1][1]["response"]
    assert failed["error"]["message"] == message
    assert [event.type for event in sdk_responses_events(data)][-2:] == ["error", "response.failed"]


def gemini_error(data: bytes, message: str) -> None:
    *chunks, last = sdk_gemini_chunks(data)
    assert last["error"]["message"] == message and last["error"]["status"]
    for chunk in chunks:
        GenerateContentResponse.model_validate(chunk)


IN_BAND_ERROR: dict[WireProtocol, Callable[[bytes, str], None]] = {
    CHAT: chat_error,
    RESPONSES: responses_error,
    ANTHROPIC: anthropic_error,
    GEMINI: gemini_error,
}
