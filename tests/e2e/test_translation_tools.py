"""Two-turn tool calling through translation, with the official SDKs, for all 12 pairs.

Turn 1: the client offers a tool and the fake answers with its protocol's recorded parallel
tool calls (the golden ``tool_calls`` / ``tool_use`` replies and streams). The SDK must show
each call with its name and arguments. Turn 2: the client sends back the assistant turn as
its SDK gave it, plus one result per call; the fake's second request must pair every result
with its call in the fake's own protocol, and the final answer must reach the client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from google.genai import types

from tests.e2e.clients import anthropic_client, genai_client, openai_client
from tests.e2e.harness import Gateway
from tests.e2e.translation import (
    MODEL,
    PAIR_IDS,
    PAIRS,
    assert_reached,
    golden_reply,
    golden_stream,
)
from tests.fake_upstream import FakeUpstream

pytestmark = pytest.mark.e2e

ASK = "What should I know before my trip?"
FINAL = "Pack an umbrella for one city and sunglasses for the other."

Call = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class ToolCase:
    """A provider's recorded tool-call reply, and what it asks for."""

    case: str  # the golden reply and stream
    tool: str
    properties: tuple[str, ...]
    calls: list[Call]
    # The provider's own call ids: the client must echo them so that turn 2 can use them.
    ids: list[str] | None

    def schema(self) -> dict[str, Any]:
        properties = {name: {"type": "string"} for name in self.properties}
        return {"type": "object", "properties": properties, "required": list(self.properties)}


_PARIS_ROME = [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})]
CASES = {
    "chat": ToolCase("tool_calls", "get_weather", ("city",), _PARIS_ROME, ["call_Pa1", "call_Ro2"]),
    "responses": ToolCase(
        "tool_calls", "get_weather", ("city",), _PARIS_ROME, ["call_Vx1Paris", "call_Vx2Rome"]
    ),
    "anthropic": ToolCase(
        "tool_use",
        "get_weather",
        ("city", "unit"),
        [
            ("get_weather", {"city": "Paris", "unit": "celsius"}),
            ("get_weather", {"city": "Rome", "unit": "celsius"}),
        ],
        ["toolu_01A09q90qw90lq917835lq9", "toolu_01B7hZ2mYpLk3Qw8Rt5Vx1Nc"],
    ),
    # Gemini calls have no ids; the first carries Gemini's thought signature.
    "gemini": ToolCase(
        "tool_calls",
        "read_file",
        ("path",),
        [("read_file", {"path": "a.txt"}), ("read_file", {"path": "b.txt"})],
        None,
    ),
}
GEMINI_SIGNATURE = "Ego3D9NEkNN+OHVmAgf5Vw+rGMrlTjbS2HfK3W8orFF09sd+y29B7V+lN8Z8vhgJ9tU="


def result_for(arguments: dict[str, Any]) -> str:
    """The tool result the client sends for a call: names the call's own arguments, so a
    result paired with the wrong call is visible."""
    return f"report for {'/'.join(str(value) for value in arguments.values())}: 21 C"


@dataclass(frozen=True)
class Trip:
    """What the client saw: the calls of turn 1 and the answer of turn 2."""

    calls: list[Call]
    answer: str


# --- The four clients -------------------------------------------------------------------------


def _chat_trip(url: str, model: str, case: ToolCase, stream: bool) -> Trip:
    tools: Any = [
        {"type": "function", "function": {"name": case.tool, "parameters": case.schema()}}
    ]
    messages: list[Any] = [{"role": "user", "content": ASK}]
    with openai_client(url) as client:

        def turn() -> Any:
            if not stream:
                return client.chat.completions.create(model=model, messages=messages, tools=tools)
            with client.chat.completions.stream(
                model=model, messages=messages, tools=tools
            ) as events:
                events.until_done()
                return events.get_final_completion()

        first = turn()
        assert first.choices[0].finish_reason == "tool_calls"
        message = first.choices[0].message
        called = message.tool_calls or []
        calls = [(call.function.name, json.loads(call.function.arguments)) for call in called]
        messages.append(message.to_dict())
        messages += [
            {"role": "tool", "tool_call_id": call.id, "content": result_for(arguments)}
            for call, (_, arguments) in zip(called, calls, strict=True)
        ]
        answer = turn().choices[0].message.content or ""
    return Trip(calls, answer)


def _responses_trip(url: str, model: str, case: ToolCase, stream: bool) -> Trip:
    tools: Any = [
        {"type": "function", "name": case.tool, "parameters": case.schema(), "strict": False}
    ]
    items: list[Any] = [{"role": "user", "content": ASK}]
    with openai_client(url) as client:

        def turn() -> Any:
            if not stream:
                return client.responses.create(model=model, input=items, tools=tools)
            with client.responses.stream(model=model, input=items, tools=tools) as events:
                events.until_done()
                return events.get_final_response()

        first = turn()
        called = [item for item in first.output if item.type == "function_call"]
        calls = [(call.name, json.loads(call.arguments)) for call in called]
        items += [item.to_dict() for item in first.output]
        items += [
            {"type": "function_call_output", "call_id": call.call_id, "output": result_for(args)}
            for call, (_, args) in zip(called, calls, strict=True)
        ]
        answer = turn().output_text
    return Trip(calls, answer)


def _anthropic_trip(url: str, model: str, case: ToolCase, stream: bool) -> Trip:
    tools: Any = [{"name": case.tool, "input_schema": case.schema()}]
    messages: list[Any] = [{"role": "user", "content": ASK}]
    with anthropic_client(url) as client:

        def turn() -> Any:
            if not stream:
                return client.messages.create(
                    model=model, max_tokens=1024, messages=messages, tools=tools
                )
            with client.messages.stream(
                model=model, max_tokens=1024, messages=messages, tools=tools
            ) as events:
                return events.get_final_message()

        first = turn()
        assert first.stop_reason == "tool_use"
        uses = [block for block in first.content if block.type == "tool_use"]
        calls = [(use.name, use.input) for use in uses]
        messages.append({"role": "assistant", "content": first.content})
        results = [
            {"type": "tool_result", "tool_use_id": use.id, "content": result_for(use.input)}
            for use in uses
        ]
        messages.append({"role": "user", "content": results})
        final = turn()
    answer = "".join(block.text for block in final.content if block.type == "text")
    return Trip(calls, answer)


def _gemini_trip(url: str, model: str, case: ToolCase, stream: bool) -> Trip:
    declaration = types.FunctionDeclaration(name=case.tool, parameters_json_schema=case.schema())
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[declaration])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    contents: list[types.Content] = [
        types.Content(role="user", parts=[types.Part.from_text(text=ASK)])
    ]
    with genai_client(url) as client:

        def turn() -> list[types.GenerateContentResponse]:
            if stream:
                return list(
                    client.models.generate_content_stream(
                        model=model, contents=contents, config=config
                    )
                )
            return [client.models.generate_content(model=model, contents=contents, config=config)]

        # A streamed model turn is the concatenation of its chunks' parts.
        parts = [
            part
            for chunk in turn()
            for candidate in chunk.candidates or []
            if candidate.content
            for part in candidate.content.parts or []
        ]
        called = [part.function_call for part in parts if part.function_call]
        calls = [(call.name or "", dict(call.args or {})) for call in called]
        responses = [
            types.Part(
                function_response=types.FunctionResponse(
                    id=call.id, name=call.name, response={"result": result_for(args)}
                )
            )
            for call, (_, args) in zip(called, calls, strict=True)
        ]
        contents += [
            types.Content(role="model", parts=parts),
            types.Content(role="user", parts=responses),
        ]
        answer = "".join(chunk.text or "" for chunk in turn())
    return Trip(calls, answer)


_TRIP = {
    "chat": _chat_trip,
    "responses": _responses_trip,
    "anthropic": _anthropic_trip,
    "gemini": _gemini_trip,
}


# --- Pairing, as each upstream protocol states it ----------------------------------------------


def _chat_pairs(body: dict[str, Any]) -> tuple[list[Call], list[str], dict[str, Any]]:
    """Chat: the assistant message's ``tool_calls``, then one ``tool`` message per call."""
    messages = body["messages"]
    at = next(i for i, message in enumerate(messages) if message.get("tool_calls"))
    called = messages[at]["tool_calls"]
    calls = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in called]
    answers = messages[at + 1 : at + 1 + len(called)]
    assert [message["role"] for message in answers] == ["tool"] * len(called)
    assert messages[at + 1 + len(called) :] == []
    results = {message["tool_call_id"]: message["content"] for message in answers}
    return calls, [call["id"] for call in called], results


def _responses_pairs(body: dict[str, Any]) -> tuple[list[Call], list[str], dict[str, Any]]:
    """Responses: ``function_call`` items, answered by ``function_call_output.call_id``."""
    items = body["input"]
    called = [item for item in items if item.get("type") == "function_call"]
    outputs = [item for item in items if item.get("type") == "function_call_output"]
    assert items.index(outputs[0]) > items.index(called[-1])
    calls = [(item["name"], json.loads(item["arguments"])) for item in called]
    results = {item["call_id"]: item["output"] for item in outputs}
    assert len(results) == len(outputs)
    return calls, [item["call_id"] for item in called], results


def _anthropic_pairs(body: dict[str, Any]) -> tuple[list[Call], list[str], dict[str, Any]]:
    """Anthropic: ``tool_use`` blocks, answered in the next user message by
    ``tool_result.tool_use_id``."""
    messages = body["messages"]
    at = next(
        i
        for i, message in enumerate(messages)
        if message["role"] == "assistant"
        and any(block["type"] == "tool_use" for block in message["content"])
    )
    uses = [block for block in messages[at]["content"] if block["type"] == "tool_use"]
    answer = messages[at + 1]
    assert answer["role"] == "user" and at + 2 == len(messages)
    results = {
        block["tool_use_id"]: block["content"]
        for block in answer["content"]
        if block["type"] == "tool_result"
    }
    return [(use["name"], use["input"]) for use in uses], [use["id"] for use in uses], results


def _gemini_pairs(body: dict[str, Any]) -> tuple[list[Call], list[str], dict[str, Any]]:
    """Gemini: the model turn's ``functionCall`` parts, answered in order and by name by the
    next user turn's ``functionResponse`` parts; pairs are keyed here by position."""
    contents = body["contents"]
    at = next(
        i
        for i, turn in enumerate(contents)
        if turn["role"] == "model" and any("functionCall" in part for part in turn["parts"])
    )
    called = [part for part in contents[at]["parts"] if "functionCall" in part]
    answer = contents[at + 1]
    assert answer["role"] == "user" and at + 2 == len(contents)
    responses = [part["functionResponse"] for part in answer["parts"]]
    assert [r["name"] for r in responses] == [p["functionCall"]["name"] for p in called]
    calls = [(part["functionCall"]["name"], part["functionCall"]["args"]) for part in called]
    keys = [str(index) for index in range(len(called))]
    # The thought signature Gemini gave the first call must come back on it (5.11).
    assert called[0].get("thoughtSignature") == GEMINI_SIGNATURE
    return calls, keys, {key: r["response"] for key, r in zip(keys, responses, strict=True)}


_PAIRS = {
    "chat": _chat_pairs,
    "responses": _responses_pairs,
    "anthropic": _anthropic_pairs,
    "gemini": _gemini_pairs,
}


def _script_tool_calls(upstream: FakeUpstream, provider: str, stream: bool) -> None:
    case = CASES[provider].case
    first = (
        {"chunks": golden_stream(provider, case)}
        if stream
        else {"body": golden_reply(provider, case)}
    )
    upstream.script(first, {"text": FINAL})


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(("client", "provider"), PAIRS, ids=PAIR_IDS)
def test_tool_round_trip(
    translation_gateway: Gateway, upstream: FakeUpstream, client: str, provider: str, stream: bool
) -> None:
    case = CASES[provider]
    _script_tool_calls(upstream, provider, stream)
    trip = _TRIP[client](translation_gateway.url, MODEL[provider], case, stream)
    assert trip.calls == case.calls
    assert trip.answer == FINAL
    first, second = upstream.requests()
    offered = assert_reached(first, provider, stream=stream)
    assert case.tool in json.dumps(offered)
    calls, keys, results = _PAIRS[provider](assert_reached(second, provider, stream=stream))
    assert calls == case.calls
    if case.ids is not None and client != "gemini":
        # The provider's ids made the round trip. (A Gemini client gets calls without ids,
        # as Gemini sends them, so its turn 2 gets positional ids instead; the pairing below
        # is what the upstream checks.)
        assert keys == case.ids
    assert sorted(results) == sorted(keys)
    for key, (_, arguments) in zip(keys, calls, strict=True):
        assert result_for(arguments) in json.dumps(results[key])
