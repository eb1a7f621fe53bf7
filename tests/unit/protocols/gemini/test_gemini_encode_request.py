"""Canonical requests into Gemini bodies: the "→ GM" emitter checklist (PROTOCOLS.md 7.3)."""

import logging
from typing import Any

import pytest

from app.canonical.content import (
    ImagePart,
    Part,
    Provider,
    ReasoningPart,
    RefusalPart,
    Signature,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from app.canonical.names import gemini_names
from app.canonical.request import Message, Request, Role
from tests.unit.protocols.gemini.gemini_cases import encode_checked as encode
from tests.unit.protocols.gemini.gemini_cases import user_message as user

GEMINI_SIG = Signature(Provider.GEMINI, "Z2VtaW5pLXNpZw==")
ANTHROPIC_SIG = Signature(Provider.ANTHROPIC, "EqQBsig")
SKIP = "skip_thought_signature_validator"


def msg(role: Role, *parts: Part) -> Message:
    return Message(role, list(parts))


def call(call_id: str, name: str = "get_weather", args: str = '{"city":"Paris"}') -> ToolCallPart:
    return ToolCallPart(call_id, name, args)


def result(call_id: str, text: str, *, is_error: bool = False) -> ToolResultPart:
    return ToolResultPart(call_id, [TextPart(text)], is_error)


def roles(body: dict[str, Any]) -> list[str]:
    return [content["role"] for content in body["contents"]]


def test_text_system_and_model_in_url_only() -> None:
    body = encode(
        Request(
            model="ignored",
            system=["x-anthropic-billing-header: cc_version=2", "You are terse.", "Be kind."],
            messages=[user("Hi")],
        ),
        model="models/gemini-2.5-pro",
    )
    assert body == {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "systemInstruction": {"parts": [{"text": "You are terse.\n\nBe kind."}]},
    }


def test_roles_merging_and_mid_conversation_system() -> None:
    body = encode(
        Request(
            model="m",
            messages=[
                user("one"),
                msg(Role.SYSTEM, TextPart("Remember the rules.")),
                user("two"),
                msg(Role.ASSISTANT, TextPart("a")),
                msg(Role.ASSISTANT, TextPart(""), RefusalPart("I can't.")),
                user("three"),
            ],
        )
    )
    assert body["contents"] == [
        {
            "role": "user",
            "parts": [{"text": "one"}, {"text": "Remember the rules."}, {"text": "two"}],
        },
        {"role": "model", "parts": [{"text": "a"}, {"text": "I can't."}]},
        {"role": "user", "parts": [{"text": "three"}]},
    ]


def test_empty_texts_and_messages_are_dropped_and_neighbours_merge() -> None:
    body = encode(
        Request(
            model="m",
            messages=[
                user("one"),
                msg(Role.ASSISTANT, TextPart(""), ReasoningPart("foreign", ANTHROPIC_SIG)),
                msg(Role.USER, TextPart(""), TextPart("two")),
            ],
        )
    )
    assert body["contents"] == [{"role": "user", "parts": [{"text": "one"}, {"text": "two"}]}]


def test_parallel_results_in_call_order_with_names_then_user_text() -> None:
    names = gemini_names()
    body = encode(
        Request(
            model="m",
            messages=[
                user("Weather and time?"),
                msg(
                    Role.ASSISTANT,
                    TextPart("Checking."),
                    call("toolu_1"),
                    call("toolu_2", "clock.now", "{}"),
                ),
                # Sent in the wrong order, one as a JSON object, with user text in between.
                msg(Role.TOOL, result("toolu_2", '{"time": "12:00", "tz": "CET"}')),
                user("Quickly please."),
                msg(Role.TOOL, result("toolu_1", "18C")),
            ],
        ),
        names=names,
    )
    assert roles(body) == ["user", "model", "user"]
    assert body["contents"][1]["parts"] == [
        {"text": "Checking."},
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
            "thoughtSignature": SKIP,
        },
        {"functionCall": {"name": "clock.now", "args": {}}},
    ]
    assert body["contents"][2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": "18C"}}},
        {
            "functionResponse": {
                "name": "clock.now",
                "response": {"result": {"time": "12:00", "tz": "CET"}},
            }
        },
        {"text": "Quickly please."},
    ]


def test_orphans_duplicates_errors_and_non_object_json(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="switchyard.translate"):
        body = encode(
            Request(
                model="m",
                messages=[
                    user("go"),
                    msg(Role.ASSISTANT, call("c1"), call("c2"), call("c3")),
                    msg(
                        Role.TOOL,
                        result("c1", "first try"),
                        result("c1", "[1, 2]"),  # the last of duplicates wins (E47)
                        result("c3", "boom", is_error=True),
                        result("c9", "answers nothing"),
                    ),
                    user("next"),
                ],
            )
        )
    responses = [part["functionResponse"]["response"] for part in body["contents"][2]["parts"][:3]]
    assert responses == [
        {"result": "[1, 2]"},
        {"error": "The tool call was interrupted before it returned a result."},
        {"error": "boom"},
    ]
    assert body["contents"][2]["parts"][3:] == [{"text": "next"}]
    assert "answer no call" in caplog.text


def test_a_trailing_call_turn_gets_no_invented_results() -> None:
    body = encode(Request(model="m", messages=[user("go"), msg(Role.ASSISTANT, call("c1"))]))
    assert roles(body) == ["user", "model"]


def test_history_starting_with_a_model_turn_gets_a_user_placeholder() -> None:
    body = encode(
        Request(
            model="m",
            messages=[msg(Role.ASSISTANT, call("c1")), msg(Role.TOOL, result("c1", "ok"))],
        )
    )
    assert body["contents"][0] == {"role": "user", "parts": [{"text": "(continued)"}]}
    assert roles(body) == ["user", "model", "user"]


def test_images_in_tool_results_follow_the_responses() -> None:
    shot = ToolResultPart(
        "c1",
        [
            TextPart("Screenshot taken."),
            TextPart("1024x768"),
            ImagePart("image/png", "iVBORw0KGgo="),
        ],
    )
    body = encode(
        Request(
            model="m", messages=[user("go"), msg(Role.ASSISTANT, call("c1")), msg(Role.TOOL, shot)]
        )
    )
    assert body["contents"][2]["parts"] == [
        {
            "functionResponse": {
                "name": "get_weather",
                "response": {"result": "Screenshot taken.\n1024x768"},
            }
        },
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
    ]


def test_signatures_native_carried_across_and_placeholder_per_step() -> None:
    body = encode(
        Request(
            model="m",
            messages=[
                user("go"),
                msg(
                    Role.ASSISTANT,
                    ReasoningPart("Visible plan.", GEMINI_SIG),
                    ReasoningPart("Claude's thoughts", ANTHROPIC_SIG),
                    ReasoningPart(signature=Signature(Provider.GEMINI, "Y2FsbA==")),
                    call("c1"),
                    call("c2"),
                ),
                msg(Role.TOOL, result("c1", "a"), result("c2", "b")),
                msg(Role.ASSISTANT, ReasoningPart(signature=ANTHROPIC_SIG), call("c3")),
                msg(Role.TOOL, result("c3", "c")),
                msg(
                    Role.ASSISTANT,
                    TextPart("Done."),
                    ReasoningPart(signature=Signature(Provider.GEMINI, "ZW5k")),
                ),
            ],
        )
    )
    first, second, last = (c["parts"] for c in body["contents"] if c["role"] == "model")
    assert first == [
        {"text": "Visible plan.", "thought": True, "thoughtSignature": GEMINI_SIG.value},
        # The signed empty reasoning part is the call's own signature, not a part.
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
            "thoughtSignature": "Y2FsbA==",
        },
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
    ]
    assert second == [
        {
            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
            "thoughtSignature": SKIP,
        }
    ]
    assert last == [{"text": "Done.", "thoughtSignature": "ZW5k"}]


def test_a_calls_own_gemini_signature_wins() -> None:
    signed = ToolCallPart("c1", "f", "{}", GEMINI_SIG)
    foreign = ToolCallPart("c2", "f", "{}", ANTHROPIC_SIG)
    body = encode(Request(model="m", messages=[user("go"), msg(Role.ASSISTANT, foreign, signed)]))
    assert [p.get("thoughtSignature") for p in body["contents"][1]["parts"]] == [
        SKIP,
        GEMINI_SIG.value,
    ]


def test_invalid_arguments_become_an_empty_object(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="switchyard.translate"):
        body = encode(
            Request(model="m", messages=[user("go"), msg(Role.ASSISTANT, call("c1", args='{"a":'))])
        )
    assert body["contents"][1]["parts"][0]["functionCall"]["args"] == {}
    assert "not a JSON object" in caplog.text
