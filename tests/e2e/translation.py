"""What the translation end-to-end suites share: the protocol pairs, where each upstream
protocol is reached, how it must be signed, the usage each client should report, and a text
exchange through each client's official SDK.

The translation gateway serves one model per upstream protocol, each from an account that
speaks only that protocol (``translation_config``); a client of any other protocol is
translated. Protocol names here: ``chat``, ``responses``, ``anthropic``, ``gemini``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.clients import anthropic_client, genai_client, openai_client
from tests.e2e.harness import CLIENT_KEY, TRANSLATION_KEYS
from tests.fake_upstream import RecordedRequest

PROTOCOLS = ("chat", "responses", "anthropic", "gemini")
MODEL = {
    "chat": "chat-model",
    "responses": "resp-model",
    "anthropic": "claude-model",
    "gemini": "gemini-model",
}
UPSTREAM_MODEL = {
    "chat": "chat-upstream",
    "responses": "resp-upstream",
    "anthropic": "claude-upstream",
    "gemini": "gemini-upstream",
}
# Every (client, upstream) pair of different protocols: 12.
PAIRS = [(client, upstream) for client in PROTOCOLS for upstream in PROTOCOLS if client != upstream]
PAIR_IDS = [f"{client}-to-{upstream}" for client, upstream in PAIRS]
PROMPT = "Describe the switchyard in one line"

_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
_FIXTURE_DIR = {
    "chat": "openai_chat",
    "responses": "openai_responses",
    "anthropic": "anthropic",
    "gemini": "gemini",
}
_SIGNING = {
    "chat": ("authorization", f"Bearer {TRANSLATION_KEYS['FAKE_COMPAT_KEY']}"),
    "responses": ("authorization", f"Bearer {TRANSLATION_KEYS['FAKE_OPENAI_KEY']}"),
    "anthropic": ("x-api-key", TRANSLATION_KEYS["FAKE_ANTHROPIC_KEY"]),
    "gemini": ("x-goog-api-key", TRANSLATION_KEYS["FAKE_GEMINI_KEY"]),
}
_GATEWAY_ANTHROPIC_VERSION = "2023-06-01"


def golden_reply(upstream: str, case: str) -> Any:
    """A recorded provider reply, as JSON."""
    path = _FIXTURES / _FIXTURE_DIR[upstream] / "responses" / f"{case}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def golden_stream(upstream: str, case: str) -> list[str]:
    """A recorded provider stream, one chunk per SSE event, as the provider framed it."""
    path = _FIXTURES / _FIXTURE_DIR[upstream] / "streams" / f"{case}.sse"
    text = path.read_text(encoding="utf-8")
    return [event + "\n\n" for event in text.split("\n\n") if event.strip()]


def upstream_path(upstream: str, *, stream: bool) -> str:
    if upstream == "gemini":
        method = "streamGenerateContent" if stream else "generateContent"
        return f"/v1beta/models/{UPSTREAM_MODEL['gemini']}:{method}"
    return {
        "chat": "/v1/chat/completions",
        "responses": "/v1/responses",
        "anthropic": "/v1/messages",
    }[upstream]


def assert_reached(request: RecordedRequest, upstream: str, *, stream: bool) -> dict[str, Any]:
    """The request went to ``upstream``'s endpoint for the translation model, signed with its
    account's key (never the client's), naming the upstream model, with the protocol's own
    stream switch; returns its JSON body."""
    assert request["path"] == upstream_path(upstream, stream=stream)
    assert_signed(request, upstream)
    body = request["json"]
    assert isinstance(body, dict), request["body"][:200]
    if upstream == "gemini":
        assert "model" not in body  # Gemini names the model in the path
        assert request["query"] == ({"alt": "sse"} if stream else {})
        assert isinstance(body["contents"], list)
        return body
    assert body["model"] == UPSTREAM_MODEL[upstream]
    assert body.get("stream", False) is stream
    if upstream == "anthropic":
        assert isinstance(body["max_tokens"], int) and body["max_tokens"] > 0
        assert isinstance(body["messages"], list)
    elif upstream == "chat":
        # A translated Chat stream always asks for usage, or the ledger would miss it.
        assert body.get("stream_options") == ({"include_usage": True} if stream else None)
        assert isinstance(body["messages"], list)
    else:
        assert isinstance(body["input"], list | str)
    return body


def assert_signed(request: RecordedRequest, upstream: str) -> None:
    """Signed with the account's key in the provider's header; the client's key nowhere."""
    header, value = _SIGNING[upstream]
    headers = request["headers"]
    assert headers[header] == value
    assert not [name for name, got in headers.items() if CLIENT_KEY in got]
    assert CLIENT_KEY not in json.dumps(request["query"])
    if upstream == "anthropic":
        assert headers["anthropic-version"] == _GATEWAY_ANTHROPIC_VERSION


def user_texts(upstream: str, body: dict[str, Any]) -> list[str]:
    """Every text the upstream request gives as the user's, in ``upstream``'s own form."""
    if upstream == "gemini":
        turns = [turn for turn in body["contents"] if turn.get("role", "user") == "user"]
        return [part["text"] for turn in turns for part in turn["parts"] if "text" in part]
    if upstream == "responses":
        items = body["input"]
        if isinstance(items, str):
            return [items]
        messages = [item for item in items if item.get("role") == "user"]
        return [text for message in messages for text in _texts(message["content"])]
    messages = [message for message in body["messages"] if message["role"] == "user"]
    return [text for message in messages for text in _texts(message["content"])]


def _texts(content: str | list[dict[str, Any]]) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [part["text"] for part in content if part.get("type") in ("text", "input_text")]


# --- Usage ------------------------------------------------------------------------------------

# What the fake is told to report (its own form: ``input`` excludes cache tokens, ``output``
# includes reasoning); each fake protocol renders it in its own fields.
SCRIPTED_USAGE = {"input": 17, "output": 9, "cache_read": 5, "cache_write": 3, "reasoning": 4}


def canonical_usage(upstream: str) -> dict[str, int]:
    """The gateway's canonical usage for what ``upstream`` reported of SCRIPTED_USAGE.

    Input always includes cache tokens. Cache writes survive only where the upstream reports
    them (the fake's Responses and Gemini replies have no such field), reasoning only where it
    does (the fake's Anthropic replies do not).
    """
    scripted = SCRIPTED_USAGE
    return {
        "input": scripted["input"] + scripted["cache_read"] + scripted["cache_write"],
        "output": scripted["output"],
        "cache_read": scripted["cache_read"],
        "cache_write": scripted["cache_write"] if upstream in ("chat", "anthropic") else 0,
        "reasoning": 0 if upstream == "anthropic" else scripted["reasoning"],
    }


def client_usage(client: str, upstream: str) -> dict[str, int | None]:
    """The usage fields ``client``'s SDK object should hold, in that SDK's names."""
    usage = canonical_usage(upstream)
    total = usage["input"] + usage["output"]
    if client == "chat":
        return {
            "prompt_tokens": usage["input"],
            "completion_tokens": usage["output"],
            "total_tokens": total,
            "cached_tokens": usage["cache_read"],
            "reasoning_tokens": usage["reasoning"],
        }
    if client == "responses":
        return {
            "input_tokens": usage["input"],
            "output_tokens": usage["output"],
            "total_tokens": total,
            "cached_tokens": usage["cache_read"],
            "reasoning_tokens": usage["reasoning"],
        }
    if client == "anthropic":
        # Anthropic counts cache tokens beside input_tokens, not inside it.
        return {
            "input_tokens": usage["input"] - usage["cache_read"] - usage["cache_write"],
            "cache_read_input_tokens": usage["cache_read"],
            "cache_creation_input_tokens": usage["cache_write"],
            "output_tokens": usage["output"],
        }
    # Gemini counts thoughts beside the candidates.
    return {
        "prompt_token_count": usage["input"],
        "candidates_token_count": usage["output"] - usage["reasoning"],
        "total_token_count": total,
        "cached_content_token_count": usage["cache_read"],
        "thoughts_token_count": usage["reasoning"] or None,
    }


# --- A text exchange through each SDK ---------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a client's SDK made of a text reply."""

    text: str
    usage: dict[str, int | None]
    finish: str
    model: str


def _chat_text(url: str, model: str, stream: bool) -> Answer:
    messages: Any = [{"role": "user", "content": PROMPT}]
    with openai_client(url) as client:
        if stream:
            with client.chat.completions.stream(
                model=model, messages=messages, stream_options={"include_usage": True}
            ) as events:
                deltas = [event.delta for event in events if event.type == "content.delta"]
                completion: Any = events.get_final_completion()
            assert "".join(deltas) == completion.choices[0].message.content
        else:
            completion = client.chat.completions.create(model=model, messages=messages)
    usage = completion.usage
    return Answer(
        completion.choices[0].message.content or "",
        {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "cached_tokens": usage.prompt_tokens_details.cached_tokens,
            "reasoning_tokens": usage.completion_tokens_details.reasoning_tokens,
        },
        completion.choices[0].finish_reason,
        completion.model,
    )


def _responses_text(url: str, model: str, stream: bool) -> Answer:
    with openai_client(url) as client:
        if stream:
            with client.responses.stream(model=model, input=PROMPT) as events:
                deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
                response: Any = events.get_final_response()
            assert "".join(deltas) == response.output_text
        else:
            response = client.responses.create(model=model, input=PROMPT)
    usage = response.usage
    return Answer(
        response.output_text,
        {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
            "cached_tokens": usage.input_tokens_details.cached_tokens,
            "reasoning_tokens": usage.output_tokens_details.reasoning_tokens,
        },
        response.status,
        response.model,
    )


def _anthropic_text(url: str, model: str, stream: bool) -> Answer:
    messages: Any = [{"role": "user", "content": PROMPT}]
    with anthropic_client(url) as client:
        if stream:
            with client.messages.stream(model=model, max_tokens=256, messages=messages) as events:
                streamed = "".join(events.text_stream)
                message: Any = events.get_final_message()
            assert streamed == message.content[0].text
        else:
            message = client.messages.create(model=model, max_tokens=256, messages=messages)
    usage = message.usage
    return Answer(
        "".join(block.text for block in message.content if block.type == "text"),
        {
            "input_tokens": usage.input_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens,
            "cache_creation_input_tokens": usage.cache_creation_input_tokens,
            "output_tokens": usage.output_tokens,
        },
        message.stop_reason,
        message.model,
    )


def _gemini_text(url: str, model: str, stream: bool) -> Answer:
    with genai_client(url) as client:
        if stream:
            chunks = list(client.models.generate_content_stream(model=model, contents=PROMPT))
        else:
            chunks = [client.models.generate_content(model=model, contents=PROMPT)]
    last = chunks[-1]
    usage = last.usage_metadata
    assert usage is not None and last.candidates
    finish = last.candidates[0].finish_reason
    return Answer(
        "".join(chunk.text or "" for chunk in chunks),
        {
            "prompt_token_count": usage.prompt_token_count,
            "candidates_token_count": usage.candidates_token_count,
            "total_token_count": usage.total_token_count,
            "cached_content_token_count": usage.cached_content_token_count,
            "thoughts_token_count": usage.thoughts_token_count,
        },
        finish.value if finish else "",
        last.model_version or "",
    )


_ASK = {
    "chat": _chat_text,
    "responses": _responses_text,
    "anthropic": _anthropic_text,
    "gemini": _gemini_text,
}
# Each client's finish reason for a reply that ended normally.
FINISHED = {"chat": "stop", "responses": "completed", "anthropic": "end_turn", "gemini": "STOP"}


def ask(client: str, url: str, model: str, *, stream: bool) -> Answer:
    """Send PROMPT with ``client``'s SDK (its stream helper when streaming)."""
    return _ASK[client](url, model, stream)
