"""The golden fixtures of all four protocols, and what a translation between two must keep.

``test_matrix.py`` drives every fixture through ``CODECS`` for each (client,
upstream) pair. This module loads the fixtures, runs the codecs, reads client
bytes with the official SDKs, and reduces requests and replies to semantic
summaries: what a translation must keep whatever the wire shape.
``RequestLoss`` and ``ReplyLoss`` name what one protocol cannot carry; the
tables of them, with their reasons, live in ``test_matrix.py``.
"""

import base64
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import anthropic
import httpx2
import openai
from google.genai._api_client import HttpResponse
from google.genai.types import GenerateContentResponse
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.responses import Response as OpenAIResponse

from app.canonical.content import (
    AudioPart,
    FilePart,
    ImagePart,
    Part,
    Provider,
    ReasoningPart,
    RefusalPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from app.canonical.names import ToolNames
from app.canonical.protocol import WireProtocol
from app.canonical.request import Message, Request, Role
from app.canonical.response import FinishReason, Response, StreamEvent
from app.canonical.usage import Usage
from app.services.codecs import CODECS, ClientView
from tests.unit.protocols.anthropic import anthropic_cases
from tests.unit.protocols.gemini import gemini_cases
from tests.unit.protocols.openai_chat import chat_cases
from tests.unit.protocols.openai_responses import responses_cases

CHAT = WireProtocol.OPENAI_CHAT
RESPONSES = WireProtocol.OPENAI_RESPONSES
ANTHROPIC = WireProtocol.ANTHROPIC
GEMINI = WireProtocol.GEMINI
PROTOCOLS = (CHAT, RESPONSES, ANTHROPIC, GEMINI)
SHORT = {CHAT: "chat", RESPONSES: "responses", ANTHROPIC: "anthropic", GEMINI: "gemini"}

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MODEL = "gemini-2.5-pro"  # the model of every encoded request, and of Gemini clients' URLs
MODEL_LIMIT = 8192  # the upstream model's output limit passed to encode_request

# Each complete upstream stream and the non-stream body of the same reply, as
# each package's own tests pair them; the failing streams end in an error.
REPLY_OF_STREAM: dict[WireProtocol, Mapping[str, str]] = {
    CHAT: chat_cases.STREAM_BODY,
    RESPONSES: responses_cases.STREAM_BODY,
    ANTHROPIC: {case: case for case in anthropic_cases.COMPLETE_STREAMS},
    GEMINI: gemini_cases.STREAM_BODY,
}
FAILING_STREAMS: dict[WireProtocol, tuple[str, ...]] = {
    CHAT: chat_cases.FAILING_STREAMS,
    RESPONSES: responses_cases.FAILING_STREAMS,
    ANTHROPIC: anthropic_cases.FAILING_STREAMS,
    GEMINI: gemini_cases.FAILING_STREAMS,
}

# Documents that every protocol but Gemini carries as text (PROTOCOLS.md 7.4).
TEXT_DOCUMENTS = ("text/plain", "text/csv")


def fixture_names(protocol: WireProtocol, kind: str) -> list[str]:
    suffix = "sse" if kind == "streams" else "json"
    return sorted(path.stem for path in (FIXTURES / protocol.value / kind).glob(f"*.{suffix}"))


def fixture_body(protocol: WireProtocol, kind: str, case: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(
        (FIXTURES / protocol.value / kind / f"{case}.json").read_text()
    )
    return body


def stream_bytes(protocol: WireProtocol, case: str) -> bytes:
    return (FIXTURES / protocol.value / "streams" / f"{case}.sse").read_bytes()


def client_view(client: WireProtocol) -> ClientView:
    """A client that asked for all a stream can carry: Chat's usage chunk, Gemini's thoughts."""
    if client is GEMINI:
        thinking = {"thinkingConfig": {"includeThoughts": True}}
        return ClientView(body={"generationConfig": thinking})
    return ClientView(body={}, include_usage=client is CHAT)


# Running the codecs


def client_request(client: WireProtocol, case: str) -> Request:
    return CODECS[client].decode_request(fixture_body(client, "requests", case), MODEL)


def encode_request(request: Request, upstream: WireProtocol, names: ToolNames) -> dict[str, Any]:
    return CODECS[upstream].encode_request(request, MODEL, names, MODEL_LIMIT, False)


def translate_reply(
    upstream: WireProtocol, client: WireProtocol, case: str
) -> tuple[bytes, Response]:
    """The client body for an upstream reply fixture, and the canonical reply it came from."""
    body = fixture_body(upstream, "responses", case)
    canonical = CODECS[upstream].decode_response(body, CODECS[upstream].names())
    return CODECS[client].encode_response(canonical, client_view(client)), canonical


def read_reply(client: WireProtocol, body: bytes) -> Response:
    return CODECS[client].decode_response(json.loads(body), CODECS[client].names())


def translate_stream(upstream: WireProtocol, client: WireProtocol, pieces: list[bytes]) -> bytes:
    """Upstream stream bytes, fed piece by piece, as the client's stream bytes."""
    decoder = CODECS[upstream].stream_decoder(CODECS[upstream].names(), True)
    encoder = CODECS[client].stream_encoder(client_view(client))
    out = bytearray()
    for piece in pieces:
        for event in decoder.feed(piece):
            out += encoder.encode(event)
    for event in decoder.finish():
        out += encoder.encode(event)
    return bytes(out)


def read_stream(protocol: WireProtocol, data: bytes) -> list[StreamEvent]:
    """``data`` read with ``protocol``'s own stream decoder (fed whole)."""
    decoder = CODECS[protocol].stream_decoder(CODECS[protocol].names(), True)
    return decoder.feed(data) + decoder.finish()


def random_pieces(data: bytes, seed: int, most: int = 24) -> list[bytes]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(data)), rng.randint(1, most)))
    return [data[start:end] for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True)]


def byte_pieces(data: bytes) -> list[bytes]:
    return [data[at : at + 1] for at in range(len(data))]


# Requests


@dataclass(frozen=True, slots=True)
class RequestLoss:
    """What an upstream protocol cannot carry of a request; the defaults lose nothing."""

    reasoning: Literal["all", "none"] | Provider = "all"  # a Provider: only text it signed
    error_flag: bool = True  # else an error result's text starts with "Error: "
    tool_media_note: str | None = None  # said in a result whose media moved out of it
    system_messages: Literal["system", "user", "reminder"] = "system"  # mid-conversation ones
    text_document_title: bool = False  # a text document's filename leads its text
    only_allowed_tools: bool = False  # tools outside tool_choice.allowed are not offered
    history_tools: bool = False  # with no tools offered, the history's calls are declared
    dropped_sampling: frozenset[str] = frozenset()
    top_p_with_temperature: bool = True
    max_temperature: float | None = None
    blank_stops: bool = True  # whitespace-only stop sequences


NO_LOSS = RequestLoss()


@dataclass(slots=True)
class RequestSummary:
    """Texts are compared without whitespace: each protocol joins parts its own way."""

    system: str
    dialogue: list[tuple[str, str]]  # (role, text) per run of one role, tool turns skipped
    reasoning: list[str]
    tools: list[tuple[str, tuple[str, ...]]]  # name, parameter property names
    calls: list[tuple[str, Any]]  # name, parsed arguments
    results: list[tuple[str | None, str, bool]]  # the answered call's name, text, is_error
    media: list[tuple[str, str]]  # kind, media type (inline) or "url" or "file_id"
    sampling: dict[str, Any]


def summarize_request(
    request: Request, names: ToolNames | None = None, loss: RequestLoss = NO_LOSS
) -> RequestSummary:
    """``names``: the map an upstream body was encoded with, to read tool names back."""
    return _RequestReader(request, names, loss).summary()


def squeeze(text: str) -> str:
    return "".join(text.split())


class _RequestReader:
    def __init__(self, request: Request, names: ToolNames | None, loss: RequestLoss) -> None:
        self.request = request
        self.loss = loss
        self.inbound = names.inbound if names else str
        self.call_names = {
            part.id: self.inbound(part.name)
            for message in request.messages
            for part in message.parts
            if isinstance(part, ToolCallPart)
        }
        self.out = RequestSummary(squeeze("".join(request.system)), [], [], [], [], [], [], {})

    def summary(self) -> RequestSummary:
        for message in self.request.messages:
            role = "system" if message.role is Role.SYSTEM else message.role.value
            if message.role is Role.SYSTEM and self.loss.system_messages != "system":
                role = "user"
            for part in self._wrapped(message):
                self._part(role, part)
        self.out.tools = self._tools()
        self.out.sampling = self._sampling()
        return self.out

    def _wrapped(self, message: Message) -> list[Part]:
        if message.role is not Role.SYSTEM or self.loss.system_messages != "reminder":
            return message.parts
        texts = [part.text for part in message.parts if isinstance(part, TextPart)]
        return [TextPart(f"<system-reminder>{''.join(texts)}</system-reminder>")]

    def _part(self, role: str, part: Part) -> None:
        if isinstance(part, TextPart | RefusalPart):
            self._say(role, part.text)
        elif isinstance(part, FilePart) and part.data and part.media_type in TEXT_DOCUMENTS:
            text = base64.b64decode(part.data).decode()
            title = part.filename if self.loss.text_document_title else None
            self._say(role, f"{title}{text}" if title else text)
        elif isinstance(part, ImagePart | FilePart | AudioPart):
            self.out.media.append(_media(part))
        elif isinstance(part, ReasoningPart) and self._keeps(part):
            self.out.reasoning.append(part.text)
        elif isinstance(part, ToolCallPart):
            self.out.calls.append((self.inbound(part.name), json.loads(part.arguments or "{}")))
        elif isinstance(part, ToolResultPart):
            self._result(part)

    def _say(self, role: str, text: str) -> None:
        dialogue = self.out.dialogue
        if not squeeze(text):
            return
        if dialogue and dialogue[-1][0] == role:
            dialogue[-1] = (role, dialogue[-1][1] + squeeze(text))
        else:
            dialogue.append((role, squeeze(text)))

    def _keeps(self, part: ReasoningPart) -> bool:
        rule = self.loss.reasoning
        if not part.text or rule == "none":
            return False
        return rule == "all" or (part.signature is not None and part.signature.provider is rule)

    def _result(self, result: ToolResultPart) -> None:
        text = "\n".join(part.text for part in result.content if isinstance(part, TextPart))
        media = [part for part in result.content if not isinstance(part, TextPart)]
        self.out.media += [_media(part) for part in media]
        is_error = result.is_error and self.loss.error_flag
        if result.is_error and not self.loss.error_flag:
            text = f"Error: {text}"
        if media and self.loss.tool_media_note:
            text = f"{text}\n{self.loss.tool_media_note}"
        self.out.results.append((self.call_names.get(result.call_id), squeeze(text), is_error))

    def _tools(self) -> list[tuple[str, tuple[str, ...]]]:
        choice = self.request.tool_choice
        allowed = choice.allowed if choice and self.loss.only_allowed_tools else None
        tools = [
            (
                self.inbound(tool.name),
                tuple(sorted((tool.parameters or {}).get("properties") or {})),
            )
            for tool in self.request.tools
            if allowed is None or tool.name in allowed
        ]
        if tools or not self.loss.history_tools:
            return tools
        return [(name, ()) for name in dict.fromkeys(name for name, _ in self.out.calls)]

    def _sampling(self) -> dict[str, Any]:
        request, loss = self.request, self.loss
        values: dict[str, Any] = {
            "temperature": request.temperature,
            "top_p": request.top_p,
            "top_k": request.top_k,
            "stop": request.stop if loss.blank_stops else [s for s in request.stop if s.strip()],
            "seed": request.seed,
            "presence_penalty": request.presence_penalty,
            "frequency_penalty": request.frequency_penalty,
        }
        if not loss.top_p_with_temperature and request.temperature is not None:
            values["top_p"] = None
        if loss.max_temperature is not None and request.temperature is not None:
            values["temperature"] = min(request.temperature, loss.max_temperature)
        return values | {name: [] if name == "stop" else None for name in loss.dropped_sampling}


def _media(part: Part) -> tuple[str, str]:
    if isinstance(part, AudioPart):
        return "audio", part.format
    assert isinstance(part, ImagePart | FilePart), f"{part!r} in a tool result"
    kind = "image" if isinstance(part, ImagePart) else "file"
    if part.data:
        return kind, part.media_type or "?"
    return kind, "file_id" if isinstance(part, FilePart) and part.file_id else "url"


def without_parts(request: Request, drop: list[Part]) -> Request:
    """``request`` without the given parts (by identity), wherever they sit."""

    def keep(parts: list[Part]) -> list[Part]:
        kept = []
        for part in parts:
            if any(part is dropped for dropped in drop):
                continue
            if isinstance(part, ToolResultPart):
                part = replace(part, content=keep(part.content))
            kept.append(part)
        return kept

    messages = [Message(message.role, keep(message.parts)) for message in request.messages]
    return replace(request, messages=messages)


def media_parts(request: Request) -> list[Part]:
    found: list[Part] = []
    for message in request.messages:
        for part in message.parts:
            inner = part.content if isinstance(part, ToolResultPart) else [part]
            found += [p for p in inner if isinstance(p, ImagePart | FilePart | AudioPart)]
    return found


# Replies


@dataclass(frozen=True, slots=True)
class ReplyLoss:
    """What a client protocol cannot carry of a reply; the defaults lose nothing."""

    finish: Mapping[FinishReason, FinishReason] = field(default_factory=dict)  # collapses
    refusal_finish_needs_part: bool = False  # else a refusal finish reads back as stop
    refusal_as_text: bool = False
    reasoning_tokens: bool = True
    cache_writes: bool = True
    stop_sequence: bool = True


NO_REPLY_LOSS = ReplyLoss()


@dataclass(slots=True)
class ReplySummary:
    text: str
    refusal: str
    reasoning: str
    calls: list[tuple[str, Any]]
    finish: FinishReason
    stop_sequence: str | None
    usage: Usage


def summarize_reply(response: Response, loss: ReplyLoss = NO_REPLY_LOSS) -> ReplySummary:
    parts = response.parts
    refusals = [part for part in parts if isinstance(part, RefusalPart)]
    shown = TextPart | RefusalPart if loss.refusal_as_text else TextPart
    finish = loss.finish.get(response.finish, response.finish)
    if finish is FinishReason.REFUSAL and loss.refusal_finish_needs_part and not refusals:
        finish = FinishReason.STOP
    usage = replace(response.usage)
    if not loss.reasoning_tokens:
        usage.reasoning_tokens = 0
    if not loss.cache_writes:
        usage.cache_write_tokens = 0
    keeps_stop = loss.stop_sequence and finish is FinishReason.STOP_SEQUENCE
    return ReplySummary(
        text="".join(part.text for part in parts if isinstance(part, shown)),
        refusal="" if loss.refusal_as_text else "".join(part.text for part in refusals),
        reasoning="".join(part.text for part in parts if isinstance(part, ReasoningPart)),
        calls=[(call.name, json.loads(call.arguments or "{}")) for call in response.tool_calls],
        finish=finish,
        stop_sequence=response.stop_sequence if keeps_stop else None,
        usage=usage,
    )


# Client bytes read by the official SDKs: (text, [(tool name, parsed arguments)]);
# ``complete``: the stream ends with a reply, not a failure.

SdkReading = tuple[str, list[tuple[str, Any]]]
URL = "http://gateway.test/v1"


def _serving(data: bytes) -> httpx2.MockTransport:
    headers = {"content-type": "text/event-stream"}
    return httpx2.MockTransport(
        lambda _request: httpx2.Response(200, headers=headers, content=data)
    )


def sdk_chat(data: bytes, complete: bool) -> SdkReading:
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    with (
        httpx2.Client(transport=_serving(data)) as http,
        openai.OpenAI(api_key="test", base_url=URL, http_client=http) as client,
    ):
        chunks = client.chat.completions.create(model="m", messages=[], stream=True)
        for chunk in chunks:
            state.handle_chunk(chunk)
    message = state.current_completion_snapshot.choices[0].message
    calls = [(c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or []]
    return message.content or "", calls


def sdk_responses_events(data: bytes) -> list[Any]:
    with (
        httpx2.Client(transport=_serving(data)) as http,
        openai.OpenAI(api_key="test", base_url=URL, http_client=http) as client,
        client.responses.stream(model="m", input="hi") as stream,
    ):
        return list(stream)


def sdk_responses(data: bytes, complete: bool) -> SdkReading:
    events = sdk_responses_events(data)
    final = OpenAIResponse.model_validate(events[-1].response.to_dict())
    items = [item for item in final.output if item.type == "function_call"]
    text = final.output_text if complete else ""
    return text, [(item.name, json.loads(item.arguments)) for item in items]


def sdk_anthropic(data: bytes, complete: bool) -> SdkReading:
    http = anthropic.DefaultHttpxClient(transport=_serving(data))
    with (
        anthropic.Anthropic(api_key="test", base_url=URL, http_client=http, max_retries=0) as sdk,
        sdk.messages.stream(
            model="m", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        ) as stream,
    ):
        message = stream.get_final_message()
    text = "".join(block.text for block in message.content if block.type == "text")
    calls = [(block.name, block.input) for block in message.content if block.type == "tool_use"]
    return text, calls


def sdk_gemini_chunks(data: bytes) -> list[Any]:
    response = HttpResponse(headers={}, response_stream=httpx2.Response(200, content=data))
    return list(response.segments())


def sdk_gemini(data: bytes, complete: bool) -> SdkReading:
    text, calls = "", []
    for chunk in sdk_gemini_chunks(data):
        for candidate in GenerateContentResponse.model_validate(chunk).candidates or []:
            for part in (candidate.content.parts if candidate.content else None) or []:
                if part.text and not part.thought:
                    text += part.text
                if call := part.function_call:
                    calls.append((call.name or "", call.args or {}))
    return text, calls


SDK_STREAM: dict[WireProtocol, Callable[[bytes, bool], SdkReading]] = {
    CHAT: sdk_chat,
    RESPONSES: sdk_responses,
    ANTHROPIC: sdk_anthropic,
    GEMINI: sdk_gemini,
}
