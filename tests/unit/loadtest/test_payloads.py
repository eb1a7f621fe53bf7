"""The load-test payloads are what real clients send, and the gateway takes them.

Each payload is checked against the official SDK's request type (strictly: unknown keys
refused, lazily validated lists drained), then run through what the gateway does with it:
the envelope validator of its endpoint, the client-side decoder, and, for translated
traffic, the encoder of every other upstream protocol, whose output must fit that
protocol's SDK type in turn. A payload the gateway would reject fails here, not in a
load run.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

import pydantic
import pytest
from anthropic.types import MessageCreateParams
from google.genai import types as genai
from openai.types.chat import CompletionCreateParams
from openai.types.responses import ResponseCreateParams
from pydantic_core import SchemaValidator

from app.canonical.protocol import WireProtocol
from app.canonical.request import Request
from app.protocols.anthropic.schema import MESSAGES_REQUEST
from app.protocols.gemini.schema import GENERATE_REQUEST
from app.protocols.openai_chat.schema import CHAT_REQUEST
from app.protocols.openai_responses.schema import RESPONSES_REQUEST
from app.protocols.validation import parse_body
from app.services.codecs import CODECS
from loadtest.payloads import NAMES, body, load

PROTOCOL = {
    "claude_code": WireProtocol.ANTHROPIC,
    "short_chat": WireProtocol.OPENAI_CHAT,
    "codex": WireProtocol.OPENAI_RESPONSES,
    "gemini": WireProtocol.GEMINI,
}
ENVELOPE: dict[WireProtocol, SchemaValidator] = {
    WireProtocol.ANTHROPIC: MESSAGES_REQUEST,
    WireProtocol.OPENAI_CHAT: CHAT_REQUEST,
    WireProtocol.OPENAI_RESPONSES: RESPONSES_REQUEST,
    WireProtocol.GEMINI: GENERATE_REQUEST,
}
GEMINI_MODEL = "gemini-2.5-pro"  # Gemini names the model in the URL
# (payload, stream) as the locust users send them; None: the switch is in the URL.
VARIANTS = [
    ("claude_code", True),
    ("claude_code", False),
    ("short_chat", True),
    ("short_chat", False),
    ("codex", True),
    ("gemini", None),
]
TRANSLATIONS = [
    (name, stream, upstream)
    for name, stream in VARIANTS
    for upstream in WireProtocol
    if upstream is not PROTOCOL[name]
]


# --- strict checks against the official SDK types ---------------------------------------


def _drained(value: Any) -> Any:
    """``value`` with every lazily validated iterable consumed, which validates its items.

    The SDKs type lists as ``Iterable[...]``, which pydantic checks only when iterated. A
    union member that is a response *model* (they accept unknown keys) matching where no
    request TypedDict did means the input was not a valid request part.
    """
    if isinstance(value, pydantic.BaseModel):
        raise ValueError(f"matched only the response model {type(value).__name__}")
    if isinstance(value, dict):
        return {key: _drained(item) for key, item in value.items()}
    if isinstance(value, list | tuple) or type(value).__name__ == "ValidatorIterator":
        return [_drained(item) for item in value]
    return value


def _typed_dict_check(kind: Any) -> Callable[[dict[str, Any]], None]:
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(
        kind, config=pydantic.ConfigDict(extra="forbid")
    )

    def check(document: dict[str, Any]) -> None:
        _drained(adapter.validate_python(document))

    return check


_anthropic_check = _typed_dict_check(MessageCreateParams)
_responses_check = _typed_dict_check(ResponseCreateParams)


def check_anthropic(document: dict[str, Any]) -> None:
    # This SDK snapshot no longer lists the sampling fields the newest models refuse;
    # the API still takes them for the others (PROTOCOLS.md 4.2).
    _anthropic_check({k: v for k, v in document.items() if k not in ("temperature", "top_p")})


def check_responses(document: dict[str, Any]) -> None:
    # The SDK's output-message and reasoning item types require an ``id`` (and a message a
    # ``status``); the API takes history without them, and Codex never sends them with
    # store=false (codex-rs ``ResponseItem``: ``skip_serializing`` ids; PROTOCOLS.md 3.2).
    document = copy.deepcopy(document)
    for item in document.get("input") or []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "reasoning":
            item.setdefault("id", "rs_placeholder")
        elif item.get("role") == "assistant" and isinstance(item.get("content"), list):
            item.setdefault("id", "msg_placeholder")
            item.setdefault("status", "completed")
    _responses_check(document)


_GEMINI_BODY = {
    "contents": None,
    "systemInstruction": genai.Content,
    "tools": genai.Tool,
    "toolConfig": genai.ToolConfig,
    "generationConfig": genai.GenerationConfig,
    "safetySettings": genai.SafetySetting,
}


def check_gemini(document: dict[str, Any]) -> None:
    """The REST body's members through the SDK's models (which refuse unknown keys); JSON
    mode, so base64 fields such as ``thoughtSignature`` are decoded too."""
    unknown = set(document) - set(_GEMINI_BODY)
    if unknown:
        raise ValueError(f"not a generateContent member: {sorted(unknown)}")
    for content in document["contents"]:
        genai.Content.model_validate_json(json.dumps(content))
    for key, model in _GEMINI_BODY.items():
        if model is None or key not in document:
            continue
        values = document[key] if isinstance(document[key], list) else [document[key]]
        for value in values:
            model.model_validate_json(json.dumps(value))


SDK_CHECK: dict[WireProtocol, Callable[[dict[str, Any]], None]] = {
    WireProtocol.ANTHROPIC: check_anthropic,
    WireProtocol.OPENAI_CHAT: _typed_dict_check(CompletionCreateParams),
    WireProtocol.OPENAI_RESPONSES: check_responses,
    WireProtocol.GEMINI: check_gemini,
}


def _variant(name: str, stream: bool | None) -> bytes:
    return body(name) if stream is None else body(name, stream=stream)


@pytest.mark.parametrize(("name", "stream"), VARIANTS)
def test_the_official_sdk_types_accept_the_payload(name: str, stream: bool | None) -> None:
    SDK_CHECK[PROTOCOL[name]](json.loads(_variant(name, stream)))


def _misspelt_block(document: dict[str, Any]) -> None:
    document["messages"][0]["content"][0]["cache_controll"] = {"type": "ephemeral"}


def _unknown_role(document: dict[str, Any]) -> None:
    document["messages"][1]["role"] = "human"


def _call_without_id(document: dict[str, Any]) -> None:
    call = next(item for item in document["input"] if item.get("type") == "function_call")
    del call["call_id"]


def _misspelt_part(document: dict[str, Any]) -> None:
    turn = next(c for c in document["contents"] if c["role"] == "model" and len(c["parts"]) > 1)
    turn["parts"][1]["functionCal"] = turn["parts"][1].pop("functionCall")


BREAKAGES = {
    "claude_code": _misspelt_block,
    "short_chat": _unknown_role,
    "codex": _call_without_id,
    "gemini": _misspelt_part,
}


@pytest.mark.parametrize("name", NAMES)
def test_the_sdk_check_refuses_a_broken_payload(name: str) -> None:
    """The strict check has teeth: one wrong key or value in a deep part is caught."""
    document = load(name)
    BREAKAGES[name](document)
    with pytest.raises((pydantic.ValidationError, ValueError)):
        SDK_CHECK[PROTOCOL[name]](document)


# --- the gateway's own reading --------------------------------------------------------------


def _declared_tools(name: str, document: dict[str, Any]) -> int:
    if name == "gemini":
        return sum(len(tool["functionDeclarations"]) for tool in document["tools"])
    return len(document.get("tools", []))


def decoded(name: str, stream: bool | None) -> Request:
    """What the gateway reads from the client's bytes: the handler parses the body and
    checks its envelope, then the translating relay decodes the parsed document."""
    raw = _variant(name, stream)
    protocol = PROTOCOL[name]
    document, envelope = parse_body(ENVELOPE[protocol], raw)
    assert envelope.get("stream", None) == stream
    request = CODECS[protocol].decode_request(document, GEMINI_MODEL)
    request.stream = stream is not False
    return request


@pytest.mark.parametrize(("name", "stream"), VARIANTS)
def test_the_gateway_decodes_the_payload(name: str, stream: bool | None) -> None:
    document = json.loads(_variant(name, stream))
    request = decoded(name, stream)
    assert len(request.tools) == _declared_tools(name, document)
    assert request.system, "every payload carries system instructions"
    assert request.messages
    if name != "gemini":
        assert request.model == document["model"]


def _upstream_tools(upstream: WireProtocol, document: dict[str, Any]) -> int:
    tools = document.get("tools", [])
    if upstream is WireProtocol.GEMINI:
        return sum(len(tool["functionDeclarations"]) for tool in tools)
    return len(tools)


@pytest.mark.parametrize(("name", "stream", "upstream"), TRANSLATIONS)
def test_the_translated_payload_fits_the_upstream_sdk(
    name: str, stream: bool | None, upstream: WireProtocol
) -> None:
    """Translated traffic: what the gateway would send an account of another protocol."""
    original = load(name)
    codec = CODECS[upstream]
    request = decoded(name, stream)
    sent = codec.encode_request(request, "upstream-model", codec.names(), None, False)
    SDK_CHECK[upstream](sent)
    assert _upstream_tools(upstream, sent) == _declared_tools(name, original)
    _check_wire_limits(upstream, sent)


# Limits the providers enforce that the SDK types do not spell out.
_NAME_PATTERN = {
    # "Invalid 'tools[11].function.name': string too long. Expected ... maximum length 64"
    WireProtocol.OPENAI_CHAT: re.compile(r"[a-zA-Z0-9_-]{1,64}"),
    WireProtocol.OPENAI_RESPONSES: re.compile(r"[a-zA-Z0-9_-]{1,64}"),
    WireProtocol.ANTHROPIC: re.compile(r"[a-zA-Z0-9_-]{1,128}"),  # PROTOCOLS.md 4.4
    WireProtocol.GEMINI: re.compile(r"[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}"),  # PROTOCOLS.md 5.4
}
_ANTHROPIC_ID = re.compile(r"[a-zA-Z0-9_-]+")  # tool_use ids (PROTOCOLS.md 4.3)
_OPENAI_MAX_ID = 64  # "Invalid 'input[95].call_id': string too long ... maximum length 64"


def _check_wire_limits(upstream: WireProtocol, sent: dict[str, Any]) -> None:
    for tool_name in _tool_names(upstream, sent):
        assert _NAME_PATTERN[upstream].fullmatch(tool_name), tool_name
    if upstream is WireProtocol.ANTHROPIC:
        blocks = [
            block
            for message in sent["messages"]
            if isinstance(message["content"], list)
            for block in message["content"]
        ]
        ids = [b.get("id") or b.get("tool_use_id") for b in blocks if b["type"].startswith("tool_")]
        assert all(_ANTHROPIC_ID.fullmatch(call_id) for call_id in ids), ids
    elif upstream is WireProtocol.OPENAI_CHAT:
        ids = [call["id"] for m in sent["messages"] for call in m.get("tool_calls", [])]
        assert all(len(call_id) <= _OPENAI_MAX_ID for call_id in ids), ids
    elif upstream is WireProtocol.OPENAI_RESPONSES:
        ids = [item["call_id"] for item in sent["input"] if "call_id" in item]
        assert all(len(call_id) <= _OPENAI_MAX_ID for call_id in ids), ids
    if upstream in (WireProtocol.OPENAI_CHAT, WireProtocol.OPENAI_RESPONSES) and "user" in sent:
        # "Invalid 'user': string too long. Expected a string with maximum length 64"
        assert len(sent["user"]) <= _OPENAI_MAX_ID, sent["user"]


def _tool_names(upstream: WireProtocol, sent: dict[str, Any]) -> list[str]:
    tools = sent.get("tools", [])
    if upstream is WireProtocol.OPENAI_CHAT:
        return [tool["function"]["name"] for tool in tools]
    if upstream is WireProtocol.GEMINI:
        return [d["name"] for tool in tools for d in tool["functionDeclarations"]]
    return [tool["name"] for tool in tools]


@pytest.mark.parametrize("name", ["claude_code", "short_chat", "codex"])
def test_body_sets_the_model_and_the_stream_switch(name: str) -> None:
    streamed = json.loads(body(name, model="another-model", stream=True))
    plain = json.loads(body(name, model="another-model", stream=False))
    assert streamed["model"] == plain["model"] == "another-model"
    assert streamed["stream"] is True and plain["stream"] is False
    # A streamed Chat request asks for usage; a plain one must not carry stream_options.
    assert ("stream_options" in streamed) is (name == "short_chat")
    assert "stream_options" not in plain


def test_gemini_takes_the_model_and_stream_from_the_url() -> None:
    assert "model" not in json.loads(body("gemini"))
    with pytest.raises(ValueError, match="URL"):
        body("gemini", model=GEMINI_MODEL)
