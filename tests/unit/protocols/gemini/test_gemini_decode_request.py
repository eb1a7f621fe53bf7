"""Gemini client bodies into canonical requests: every fixture, field by field."""

import base64
from typing import Any

import pytest
from google.genai import types

from app.canonical.content import (
    AudioPart,
    FilePart,
    ImagePart,
    Provider,
    ReasoningPart,
    Signature,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from app.canonical.request import (
    Effort,
    FormatKind,
    Message,
    Reasoning,
    ResponseFormat,
    Role,
    ToolChoice,
    ToolChoiceMode,
)
from app.protocols.gemini.decode import decode_request
from tests.unit.protocols.gemini.gemini_cases import REQUESTS, request_body

FILES = "https://generativelanguage.googleapis.com/v1beta/files"


def decode(body: dict[str, Any], model: str = "gemini-2.5-pro") -> Any:
    return decode_request(body, model=model)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def gemini(value: str) -> Signature:
    return Signature(Provider.GEMINI, value)


def test_every_request_fixture_has_a_test() -> None:
    tested = {name.removeprefix("test_") for name in globals() if name.startswith("test_")}
    assert set(REQUESTS) <= tested


@pytest.mark.parametrize("case", REQUESTS)
def test_fixture_is_a_valid_gemini_request(case: str) -> None:
    # The SDK's own models (extra fields forbidden) keep the hand-written fixtures honest.
    body = request_body(case)
    for content in body["contents"]:
        types.Content.model_validate(content)
    for tool in body.get("tools", []):
        types.Tool.model_validate(tool)
    config = body.get("generationConfig") or body.get("generation_config")
    if config:
        types.GenerationConfig.model_validate(config)
    tool_config = body.get("toolConfig") or body.get("tool_config")
    if tool_config:
        types.ToolConfig.model_validate(tool_config)


def test_text_system() -> None:
    request = decode(request_body("text_system"), model="models/gemini-2.5-flash")
    assert request.model == "gemini-2.5-flash"
    assert request.system == ["You are a terse assistant.", "Answer in English."]
    assert request.messages == [Message(Role.USER, [TextPart("What is the capital of France?")])]
    assert request.max_output_tokens == 256
    assert request.temperature == 0.2
    assert request.tools == []
    assert request.tool_choice is None
    assert request.reasoning is None
    assert request.response_format is None
    assert request.stream is False


def test_tool_loop() -> None:
    body = request_body("tool_loop")
    request = decode(body)
    first_signature = body["contents"][1]["parts"][1]["thoughtSignature"]
    second_signature = body["contents"][3]["parts"][0]["thoughtSignature"]
    assert request.system == ["You are Gemini CLI, a coding agent."]
    assert request.messages == [
        Message(Role.USER, [TextPart("Read a.txt and b.txt, then list the folder.")]),
        Message(
            Role.ASSISTANT,
            [
                TextPart("I'll read both files."),
                ToolCallPart("call_1_1", "read_file", '{"path":"a.txt"}', gemini(first_signature)),
                ToolCallPart("call_1_2", "read_file", '{"path":"b.txt"}'),
            ],
        ),
        # Gemini CLI's own response ids match no call: paired by name, in order.
        Message(
            Role.TOOL,
            [
                ToolResultPart("call_1_1", [TextPart("alpha")], False, "read_file"),
                ToolResultPart(
                    "call_1_2", [TextPart("ENOENT: no such file b.txt")], True, "read_file"
                ),
            ],
        ),
        Message(
            Role.ASSISTANT,
            [
                ToolCallPart(
                    "call_3_0",
                    "list_directory",
                    '{"path":".","ignore":["*.log"]}',
                    gemini(second_signature),
                )
            ],
        ),
        Message(
            Role.TOOL,
            [
                ToolResultPart(
                    "call_3_0", [TextPart('{"files":["a.txt"],"count":1}')], False, "list_directory"
                )
            ],
        ),
        Message(Role.USER, [TextPart("Summarise what you found.")]),
    ]
    read_file, list_directory = request.tools
    assert read_file.name == "read_file"
    assert read_file.description == "Reads a file from the workspace."
    assert read_file.parameters == {
        "type": "object",
        "properties": {"path": {"type": "string"}},
        "required": ["path"],
    }
    assert list_directory.name == "list_directory"
    assert list_directory.parameters == {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "Folder to list"},
            "ignore": {"type": ["array", "null"], "items": {"type": "string"}},
        },
        "required": ["path"],
    }
    assert request.tool_choice == ToolChoice(ToolChoiceMode.TOOL, name="read_file")
    assert request.temperature == 0.0
    assert request.top_p == 1.0


def test_media() -> None:
    parts = request_body("media")["contents"][0]["parts"]
    request = decode(request_body("media"))
    assert request.messages == [
        Message(
            Role.USER,
            [
                TextPart("Compare the two pictures and transcribe the clip."),
                ImagePart(media_type="image/png", data=parts[1]["inlineData"]["data"]),
                FilePart(media_type="image/jpeg", file_id=f"{FILES}/abc123"),
                AudioPart(parts[3]["inlineData"]["data"], "mp3"),
            ],
        )
    ]


def test_document() -> None:
    parts = request_body("document")["contents"][0]["parts"]
    request = decode(request_body("document"))
    (message,) = request.messages
    assert message.role is Role.USER
    assert message.parts == [
        FilePart(media_type="application/pdf", data=parts[0]["inlineData"]["data"]),
        FilePart(media_type="text/csv", data=parts[1]["inlineData"]["data"]),
        FilePart(media_type="application/pdf", file_id=f"{FILES}/report-2024"),
        TextPart("Summarise the report and the table."),
    ]
    assert base64.b64decode(message.parts[1].data or "").startswith(b"city,temp")


def test_url_safe_inline_data_becomes_standard_base64() -> None:
    """python-genai sends bytes URL-safe and unpadded; other providers take only the
    standard alphabet, so the canonical data is standard and padded."""
    raw = b"\xfb\xff\xbe\x89PNG"
    url_safe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert "-" in url_safe and "_" in url_safe
    blob = {"mimeType": "image/png", "data": url_safe}
    request = decode({"contents": [{"role": "user", "parts": [{"inlineData": blob}]}]})
    (part,) = request.messages[0].parts
    assert part == ImagePart(media_type="image/png", data=base64.b64encode(raw).decode())


@pytest.mark.parametrize(
    ("uri", "stored_with_google"),
    [
        (f"{FILES}/abc123", True),
        ("gs://bucket/report.pdf", True),
        ("https://www.youtube.com/watch?v=9hE5-98ZeCg", False),
    ],
)
def test_a_file_stored_with_google_is_a_provider_file_id(
    uri: str, stored_with_google: bool
) -> None:
    """Files API and gs:// URIs need Google's credentials: as a file id, every
    other upstream rejects them (PROTOCOLS.md 7.4) instead of fetching a URL."""
    file_data = {"fileData": {"mimeType": "video/mp4", "fileUri": uri}}
    (part,) = decode({"contents": [{"role": "user", "parts": [file_data]}]}).messages[0].parts
    if stored_with_google:
        assert part == FilePart(media_type="video/mp4", file_id=uri)
    else:
        assert part == FilePart(media_type="video/mp4", url=uri)


def test_thinking() -> None:
    body = request_body("thinking")
    request = decode(body)
    model_parts = body["contents"][1]["parts"]
    assert request.reasoning == Reasoning(enabled=True, budget_tokens=4096, summary=True)
    assert request.messages[1] == Message(
        Role.ASSISTANT,
        [
            # Two thought parts read as one, up to the signature closing them.
            ReasoningPart(
                "**Multiplying**\nSix sevens make forty-two.",
                gemini(model_parts[1]["thoughtSignature"]),
            ),
            TextPart("42."),
            # A signature on answer text: an empty signed reasoning part after it.
            ReasoningPart(signature=gemini(model_parts[2]["thoughtSignature"])),
        ],
    )
    # Carried foreign state comes back as its provider's own, in front of the call.
    assert request.messages[3] == Message(
        Role.ASSISTANT,
        [
            ReasoningPart(
                "I should call the clock tool.",
                Signature(Provider.OPENAI, "gAAAAABoEncryptedReasoning=="),
            ),
            ToolCallPart("call_3_1", "get_time", "{}"),
        ],
    )
    assert request.messages[4] == Message(
        Role.TOOL, [ToolResultPart("call_3_1", [TextPart("12:00")], False, "get_time")]
    )
    assert request.messages[5] == Message(
        Role.ASSISTANT,
        [
            TextPart("It is noon."),
            ReasoningPart(signature=Signature(Provider.ANTHROPIC, "EqQBCkYIBxgCKkAsig")),
        ],
    )
    assert request.messages[6] == Message(Role.USER, [TextPart("Thanks!")])
    assert len(request.messages) == 7
    assert [tool.name for tool in request.tools] == ["get_time"]
    assert request.tools[0].parameters is None


def test_structured() -> None:
    request = decode(request_body("structured"))
    assert request.response_format == ResponseFormat(
        FormatKind.JSON_SCHEMA,
        schema={
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "minutes": {"type": "integer", "minimum": 1},
                "steps": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "vegan": {"type": ["boolean", "null"]},
            },
            "required": ["name", "steps"],
        },
    )
    assert request.reasoning == Reasoning(enabled=True, effort=Effort.LOW)


def test_sampling() -> None:
    request = decode(request_body("sampling"))  # snake_case throughout
    assert request.system == ["Be creative."]
    assert request.messages == [Message(Role.USER, [TextPart("Name three colours.")])]
    assert request.max_output_tokens == 512
    assert request.temperature == 1.3
    assert request.top_p == 0.9
    assert request.top_k == 40
    assert request.stop == ["END", "STOP"]
    assert request.n == 1
    assert request.seed == 7
    assert request.presence_penalty == 0.5
    assert request.frequency_penalty == -0.25
    assert request.response_format == ResponseFormat(
        FormatKind.JSON_SCHEMA, schema={"type": "array", "items": {"type": "string"}}
    )
    assert request.reasoning == Reasoning(enabled=False)
    assert request.tool_choice == ToolChoice(ToolChoiceMode.NONE)
    assert [(t.name, t.parameters) for t in request.tools] == [
        ("paint", {"type": "object", "properties": {}})
    ]
    assert request.metadata == {}  # labels are dropped, not mapped
    assert request.user is None
