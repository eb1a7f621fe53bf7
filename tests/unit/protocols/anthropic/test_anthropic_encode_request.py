"""Canonical requests as Messages bodies: limits, tools, thinking, sampling, structured output."""

import itertools
from typing import Any

import pytest

from app.canonical.content import (
    Provider,
    ReasoningPart,
    Signature,
    TextPart,
)
from app.canonical.names import anthropic_names
from app.canonical.request import (
    Effort,
    FormatKind,
    Message,
    Reasoning,
    Request,
    ResponseFormat,
    Role,
    Tool,
    ToolChoice,
    ToolChoiceMode,
)
from app.protocols.anthropic.decode import decode_request
from tests.unit.protocols.anthropic.anthropic_cases import REQUESTS, request_body
from tests.unit.protocols.anthropic.upstream_cases import (
    SIGNED,
    USER,
    call,
    encode,
    result,
    text,
    tool_loop,
    tool_use,
)


@pytest.mark.parametrize("case", REQUESTS)
def test_fixture_round_trip_keeps_a_valid_shape(case: str) -> None:
    body = encode(decode_request(request_body(case)))
    roles = [message["role"] for message in body["messages"]]
    assert roles[0] == "user"
    assert all(a != b for a, b in itertools.pairwise(roles)), roles
    for message in body["messages"]:
        assert message["content"], message
        for block in message["content"]:
            assert block["type"] != "text" or block["text"].strip(), message
    assert body["model"] == "claude-up"
    assert body["max_tokens"] == request_body(case)["max_tokens"]


def test_plain_request_fields() -> None:
    request = Request(
        "client-model",
        [USER],
        system=["You are terse.", "", "Answer in French."],
        stop=["###", ""],
        user="u-1",
        metadata={"tenant": "t"},
        seed=7,
        presence_penalty=0.5,
        frequency_penalty=0.5,
        stream=True,
    )
    assert encode(request) == {
        "model": "claude-up",
        "messages": [{"role": "user", "content": [text("hi")]}],
        "system": [text("You are terse."), text("Answer in French.")],
        "max_tokens": 8192,
        "stop_sequences": ["###"],
        "metadata": {"user_id": "u-1"},
        "stream": True,
    }


@pytest.mark.parametrize(
    ("requested", "limit", "expected"),
    [(None, None, 8192), (None, 64000, 64000), (1000, 64000, 1000), (100000, 64000, 64000)],
)
def test_max_tokens_is_always_sent(requested: int | None, limit: int | None, expected: int) -> None:
    request = Request("m", [USER], max_output_tokens=requested)
    assert encode(request, max_output_tokens=limit)["max_tokens"] == expected


def test_tool_names_go_through_the_name_map() -> None:
    names = anthropic_names()
    request = Request(
        "m",
        [USER, Message(Role.ASSISTANT, [call("c1", "web.lookup", '{"q": "x"}')])],
        tools=[Tool("web.lookup", "Look up", {"type": "object", "properties": {}})],
        tool_choice=ToolChoice(ToolChoiceMode.TOOL, name="web.lookup"),
    )
    body = encode(request, names)
    assert body["tools"] == [
        {
            "name": "web_lookup",
            "description": "Look up",
            "input_schema": {"type": "object", "properties": {}},
        }
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "web_lookup"}
    assert body["messages"][1]["content"] == [tool_use("c1", "web_lookup", q="x")]
    assert names.inbound("web_lookup") == "web.lookup"


def test_input_schemas_become_object_schemas() -> None:
    tools = [
        Tool("none"),
        Tool("untyped", parameters={"properties": {"a": {"type": "string"}}}),
        Tool("bare", parameters={"type": "object"}, strict=True),
    ]
    assert [
        tool["input_schema"] for tool in encode(Request("m", [USER], tools=tools))["tools"]
    ] == [
        {"type": "object", "properties": {}},
        {"type": "object", "properties": {"a": {"type": "string"}}},
        {"type": "object", "properties": {}},
    ]
    assert encode(Request("m", [USER], tools=tools))["tools"][2]["strict"] is True


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (None, None, None),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        (ToolChoice(ToolChoiceMode.REQUIRED), None, {"type": "any"}),
        (ToolChoice(ToolChoiceMode.NONE), False, {"type": "none"}),
        (ToolChoice(ToolChoiceMode.AUTO), True, {"type": "auto"}),
    ],
)
def test_tool_choice(
    choice: ToolChoice | None, parallel: bool | None, expected: dict[str, Any] | None
) -> None:
    request = Request("m", [USER], tools=[Tool("f")], tool_choice=choice)
    request.parallel_tool_calls = parallel
    assert encode(request).get("tool_choice") == expected


def test_allowed_tools_filter_the_tool_list() -> None:
    choice = ToolChoice(ToolChoiceMode.REQUIRED, allowed=["b"])
    body = encode(Request("m", [USER], tools=[Tool("a"), Tool("b")], tool_choice=choice))
    assert [tool["name"] for tool in body["tools"]] == ["b"]
    assert body["tool_choice"] == {"type": "any"}


def test_history_tools_are_declared_when_the_request_has_none() -> None:
    body = encode(
        Request(
            "m",
            [USER, Message(Role.ASSISTANT, [call("c1", "f")]), Message(Role.TOOL, [result("c1")])],
        )
    )
    assert body["tools"] == [{"name": "f", "input_schema": {"type": "object", "properties": {}}}]
    assert body["tool_choice"] == {"type": "none"}


@pytest.mark.parametrize(
    ("reasoning", "requested", "limit", "thinking", "max_tokens"),
    [
        (
            Reasoning(effort=Effort.HIGH),
            4096,
            None,
            {"type": "enabled", "budget_tokens": 24576},
            28672,
        ),
        (
            Reasoning(effort=Effort.LOW),
            4096,
            None,
            {"type": "enabled", "budget_tokens": 1024},
            4096,
        ),
        (
            Reasoning(budget_tokens=500),
            4096,
            None,
            {"type": "enabled", "budget_tokens": 1024},
            4096,
        ),
        (
            Reasoning(budget_tokens=2000),
            None,
            None,
            {"type": "enabled", "budget_tokens": 2000},
            8192,
        ),
        (Reasoning(), None, None, {"type": "enabled", "budget_tokens": 8192}, 16384),
        (
            Reasoning(effort=Effort.XHIGH),
            8000,
            16000,
            {"type": "enabled", "budget_tokens": 8000},
            16000,
        ),
        (Reasoning(effort=Effort.HIGH), 1000, 1500, {"type": "disabled"}, 1500),
        (Reasoning(enabled=False), 100, None, {"type": "disabled"}, 100),
        (Reasoning(effort=Effort.NONE), 100, None, {"type": "disabled"}, 100),
        (Reasoning(enabled=None), 100, None, {"type": "adaptive"}, 100),
    ],
)
def test_thinking_follows_the_ladder_and_fits_max_tokens(
    reasoning: Reasoning,
    requested: int | None,
    limit: int | None,
    thinking: dict[str, Any],
    max_tokens: int,
) -> None:
    request = Request("m", [USER], reasoning=reasoning, max_output_tokens=requested)
    body = encode(request, max_output_tokens=limit)
    assert body["thinking"] == thinking
    assert body["max_tokens"] == max_tokens
    if thinking["type"] == "enabled":
        assert 1024 <= thinking["budget_tokens"] < body["max_tokens"]


def test_adaptive_thinking_carries_the_effort() -> None:
    body = encode(Request("m", [USER], reasoning=Reasoning(enabled=None, effort=Effort.MINIMAL)))
    assert body["thinking"] == {"type": "adaptive"}
    assert body["output_config"] == {"effort": "low"}


def test_thinking_drops_sampling_and_forced_tool_choice() -> None:
    request = Request(
        "m",
        [USER],
        reasoning=Reasoning(effort=Effort.MEDIUM),
        temperature=0.5,
        top_p=0.9,
        top_k=20,
        tools=[Tool("f")],
        tool_choice=ToolChoice(ToolChoiceMode.TOOL, name="f"),
    )
    body = encode(request)
    assert body["thinking"]["type"] == "enabled"
    assert not {"temperature", "top_p", "top_k"} & body.keys()
    assert body["tool_choice"] == {"type": "auto"}


@pytest.mark.parametrize(
    ("temperature", "top_p", "expected"),
    [
        (1.7, 0.9, {"temperature": 1.0}),
        (-0.2, None, {"temperature": 0.0}),
        (None, 0.9, {"top_p": 0.9}),
        (0.4, None, {"temperature": 0.4}),
    ],
)
def test_sampling_without_thinking(
    temperature: float | None, top_p: float | None, expected: dict[str, float]
) -> None:
    body = encode(Request("m", [USER], temperature=temperature, top_p=top_p, top_k=5))
    assert {key: body[key] for key in ("temperature", "top_p") if key in body} == expected
    assert body["top_k"] == 5


def test_thinking_stays_on_when_the_tool_loop_starts_with_signed_thinking() -> None:
    request = Request(
        "m", tool_loop(ReasoningPart("plan", signature=SIGNED)), reasoning=Reasoning()
    )
    assert encode(request)["thinking"]["type"] == "enabled"


@pytest.mark.parametrize(
    "messages",
    [
        tool_loop(ReasoningPart("foreign", signature=Signature(Provider.GEMINI, "x"))),
        tool_loop(TextPart("no thinking")),
        [USER, Message(Role.ASSISTANT, [TextPart("prefill")])],
    ],
)
def test_thinking_is_disabled_when_the_history_forbids_it(messages: list[Message]) -> None:
    request = Request("m", messages, reasoning=Reasoning(), temperature=0.2)
    body = encode(request)
    assert body["thinking"] == {"type": "disabled"}
    assert body["temperature"] == 0.2


@pytest.mark.parametrize(
    ("response_format", "expected"),
    [
        (ResponseFormat(FormatKind.TEXT), None),
        (ResponseFormat(FormatKind.JSON_OBJECT), {"type": "object"}),
        (
            ResponseFormat(
                FormatKind.JSON_SCHEMA, name="x", schema={"type": "object", "required": []}
            ),
            {"type": "object", "required": []},
        ),
    ],
)
def test_structured_output(
    response_format: ResponseFormat, expected: dict[str, Any] | None
) -> None:
    body = encode(Request("m", [USER], response_format=response_format))
    if expected is None:
        assert "output_config" not in body
    else:
        assert body["output_config"] == {"format": {"type": "json_schema", "schema": expected}}
