"""Canonical messages as Messages turns: the 7.3 "→ AN" checklist, content blocks, rejections."""

import base64

import pytest

from app.canonical.content import (
    AudioPart,
    FilePart,
    ImagePart,
    Provider,
    ReasoningPart,
    Signature,
    TextPart,
    ToolResultPart,
)
from app.canonical.request import (
    Message,
    Request,
    Role,
)
from app.core.errors import InvalidRequest
from tests.unit.protocols.anthropic.upstream_cases import (
    PNG,
    SIGNED,
    USER,
    call,
    encode,
    messages_of,
    result,
    text,
    tool_result,
    tool_use,
    user_blocks,
)


def test_consecutive_turns_merge_with_tool_use_last() -> None:
    assert messages_of(
        Message(Role.USER, [TextPart("a")]),
        Message(Role.USER, [TextPart("b")]),
        Message(Role.ASSISTANT, [call("c1")]),
        Message(Role.ASSISTANT, [TextPart("calling")]),
        Message(Role.TOOL, [result("c1")]),
    ) == [
        {"role": "user", "content": [text("a"), text("b")]},
        {"role": "assistant", "content": [text("calling"), tool_use("c1")]},
        {"role": "user", "content": [tool_result("c1")]},
    ]


def test_results_go_first_in_the_next_user_turn_in_call_order() -> None:
    assert messages_of(
        USER,
        Message(Role.ASSISTANT, [call("a"), call("b")]),
        Message(Role.TOOL, [result("b", "B")]),
        Message(Role.USER, [TextPart("and then?")]),
        Message(Role.TOOL, [result("a", "A")]),
    )[2] == {
        "role": "user",
        "content": [tool_result("a", "A"), tool_result("b", "B"), text("and then?")],
    }


def test_empty_text_is_dropped_and_empty_turns_vanish() -> None:
    assert messages_of(
        USER,
        Message(Role.ASSISTANT, [TextPart(""), call("c1")]),
        Message(Role.TOOL, [result("c1")]),
        Message(Role.ASSISTANT, [TextPart("  \n")]),
        Message(Role.USER, [TextPart("next")]),
    ) == [
        {"role": "user", "content": [text("hi")]},
        {"role": "assistant", "content": [tool_use("c1")]},
        {"role": "user", "content": [tool_result("c1"), text("next")]},
    ]


def test_a_history_starting_with_the_assistant_gets_a_placeholder_user_turn() -> None:
    assert messages_of(Message(Role.ASSISTANT, [TextPart("Hello.")]), USER) == [
        {"role": "user", "content": [text("(continued)")]},
        {"role": "assistant", "content": [text("Hello.")]},
        {"role": "user", "content": [text("hi")]},
    ]


def test_calls_without_results_are_answered_as_interrupted() -> None:
    interrupted = tool_result("c1", "interrupted", is_error=True)
    assert messages_of(
        USER, Message(Role.ASSISTANT, [call("c1")]), Message(Role.USER, [TextPart("stop")])
    )[2] == {"role": "user", "content": [interrupted, text("stop")]}
    # A history that ends on calls gets a user turn answering them.
    assert messages_of(USER, Message(Role.ASSISTANT, [call("c1")]))[-1] == {
        "role": "user",
        "content": [interrupted],
    }


def test_results_without_their_call_become_user_text_and_duplicates_keep_the_last() -> None:
    assert messages_of(
        USER,
        Message(Role.ASSISTANT, [call("c1")]),
        Message(Role.TOOL, [result("c1", "first"), result("c1", "second"), result("zz", "lost")]),
    )[2] == {
        "role": "user",
        "content": [tool_result("c1", "second"), text("Tool result for call zz:"), text("lost")],
    }
    assert messages_of(Message(Role.TOOL, [result("zz", "bad", is_error=True)])) == [
        {"role": "user", "content": [text("Tool error for call zz:"), text("bad")]}
    ]


def test_ids_are_sanitized_the_same_for_calls_and_results() -> None:
    messages = messages_of(
        USER,
        Message(Role.ASSISTANT, [call("functions.get:0")]),
        Message(Role.TOOL, [result("functions.get:0")]),
    )
    assert messages[1]["content"][0]["id"] == "functions_get_0"
    assert messages[2]["content"][0]["tool_use_id"] == "functions_get_0"


def test_only_anthropic_thinking_is_replayed() -> None:
    gemini = Signature(Provider.GEMINI, "CiQB")
    assistant = Message(
        Role.ASSISTANT,
        [
            ReasoningPart("mine", signature=SIGNED),
            ReasoningPart(signature=Signature(Provider.ANTHROPIC, "redacted:EmwK")),
            ReasoningPart(redacted="Eq9Z", signature=Signature(Provider.ANTHROPIC, "Eq9Z")),
            ReasoningPart("openai summary", signature=Signature(Provider.OPENAI, "gAAAA")),
            ReasoningPart("unsigned"),
            ReasoningPart("", signature=gemini),
            TextPart("answer"),
        ],
    )
    assert messages_of(USER, assistant)[1]["content"] == [
        {"type": "thinking", "thinking": "mine", "signature": SIGNED.value},
        {"type": "redacted_thinking", "data": "EmwK"},
        {"type": "redacted_thinking", "data": "Eq9Z"},
        text("answer"),
    ]


def test_images_inline_and_by_url() -> None:
    assert user_blocks(
        ImagePart(media_type="image/png", data=PNG, detail="high"),
        ImagePart(data=PNG),
        ImagePart(media_type="image/jpg", data="/9j/4AAQ"),
        ImagePart(url=f"data:image/png;base64,{PNG}"),
        ImagePart(url="https://example.com/a.webp"),
    ) == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"},
        },
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.webp"}},
    ]


def test_documents() -> None:
    csv = base64.b64encode(b"a,b\n1,2\n").decode()
    assert user_blocks(
        FilePart(media_type="application/pdf", data="JVBERi0x", filename="spec.pdf"),
        FilePart(url="https://example.com/paper.pdf"),
        FilePart(media_type="text/csv", data=csv, filename="t.csv"),
        FilePart(url=f"data:text/plain;base64,{base64.b64encode(b'hello').decode()}"),
    ) == [
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"},
            "title": "spec.pdf",
        },
        {"type": "document", "source": {"type": "url", "url": "https://example.com/paper.pdf"}},
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "a,b\n1,2\n"},
            "title": "t.csv",
        },
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "hello"},
        },
    ]


def test_tool_results_keep_images_and_the_error_flag() -> None:
    image = ImagePart(media_type="image/png", data=PNG)
    messages = messages_of(
        USER,
        Message(Role.ASSISTANT, [call("c1")]),
        Message(Role.TOOL, [ToolResultPart("c1", [TextPart("shot"), image], is_error=True)]),
    )
    assert messages[2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "c1",
        "content": [
            text("shot"),
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        ],
        "is_error": True,
    }


def test_mid_conversation_system_text_becomes_a_reminder_in_the_user_turn() -> None:
    messages = messages_of(USER, Message(Role.SYSTEM, [TextPart("be brief")]))
    assert messages == [
        {
            "role": "user",
            "content": [text("hi"), text("<system-reminder>\nbe brief\n</system-reminder>")],
        }
    ]


def test_a_final_assistant_prefill_loses_trailing_whitespace() -> None:
    messages = messages_of(USER, Message(Role.ASSISTANT, [TextPart("The answer is ")]))
    assert messages[-1] == {"role": "assistant", "content": [text("The answer is")]}


@pytest.mark.parametrize(
    ("request_", "param"),
    [
        (Request("m", [USER], n=2), "n"),
        (Request("m", [Message(Role.USER, [AudioPart("UklGR", "wav")])]), "audio"),
        (Request("m", [Message(Role.USER, [FilePart(file_id="file-abc")])]), "file_id"),
        (
            Request("m", [Message(Role.USER, [ImagePart(media_type="image/bmp", data="Qk0")])]),
            "image.media_type",
        ),
        (Request("m", [Message(Role.USER, [ImagePart()])]), "image"),
        (
            Request(
                "m", [Message(Role.USER, [FilePart(media_type="application/msword", data="0M8R")])]
            ),
            "file.media_type",
        ),
        (
            Request(
                "m",
                [Message(Role.USER, [FilePart(media_type="text/plain", url="https://x/a.txt")])],
            ),
            "file.url",
        ),
        (
            Request("m", [Message(Role.USER, [FilePart(media_type="text/plain", data="//79")])]),
            "file.data",
        ),
    ],
)
def test_what_messages_cannot_carry_is_rejected_naming_the_field(
    request_: Request, param: str
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        encode(request_)
    assert raised.value.param == param


def test_invalid_tool_arguments_become_an_empty_object() -> None:
    messages = messages_of(USER, Message(Role.ASSISTANT, [call("c1", arguments='{"a": ')]))
    assert messages[1]["content"] == [tool_use("c1")]
