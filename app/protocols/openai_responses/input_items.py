"""Responses ``input`` items as canonical messages (PROTOCOLS.md 3.2, 7.2, 7.3).

The items of one assistant turn (reasoning, message, function calls) become
one ASSISTANT message and consecutive call outputs one TOOL message, so an
emitter sees a turn the way the model produced it: a reasoning item stays
right before the item it produced (E22), as the Gemini signature carrier
needs. ``system``/``developer`` messages before the conversation starts join
``Request.system``; later ones stay in place as SYSTEM messages.
"""

from typing import Any

from app.canonical.content import (
    AudioPart,
    FilePart,
    ImagePart,
    Part,
    ReasoningPart,
    RefusalPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from app.canonical.request import Message, Role
from app.core import json
from app.core.errors import InvalidRequest
from app.protocols.openai_responses.carrier import read_secret
from app.protocols.openai_responses.fields import (
    optional_list,
    optional_str,
    required_dict,
    required_str,
)
from app.protocols.openai_responses.media import is_data_url, media_type_of, parse_data_url

_ROLES = {
    "user": Role.USER,
    "assistant": Role.ASSISTANT,
    "system": Role.SYSTEM,
    "developer": Role.SYSTEM,
}
_GROUPED = frozenset({Role.ASSISTANT, Role.TOOL})


def decode_input(value: Any, system: list[str]) -> list[Message]:
    """The conversation of ``input``; leading system text is appended to ``system``."""
    if value is None:
        return []
    if isinstance(value, str):
        return [Message(Role.USER, [TextPart(value)])]
    builder = _Conversation(system)
    for position, raw in enumerate(optional_list(value, "input")):
        param = f"input[{position}]"
        builder.add_item(required_dict(raw, param), param)
    return builder.messages


class _Conversation:
    __slots__ = ("_call_names", "_leading", "_system", "messages")

    def __init__(self, system: list[str]) -> None:
        self._system = system
        self._leading = True
        self._call_names: dict[str, str] = {}
        self.messages: list[Message] = []

    def add_item(self, item: dict[str, Any], param: str) -> None:
        kind = item.get("type", "message")
        if kind == "message":
            self._message(item, param)
        elif kind == "reasoning":
            self._add(Role.ASSISTANT, _reasoning(item, param))
        elif kind in ("function_call", "custom_tool_call"):
            call = _call(item, param)
            self._call_names[call.id] = call.name
            self._add(Role.ASSISTANT, call)
        elif kind in ("function_call_output", "custom_tool_call_output"):
            call_id = required_str(item.get("call_id"), f"{param}.call_id")
            content = _output(item.get("output"), f"{param}.output")
            self._add(
                Role.TOOL, ToolResultPart(call_id, content, name=self._call_names.get(call_id))
            )
        elif kind == "item_reference":
            raise InvalidRequest(
                "item_reference items are not supported when the model is served by a "
                "non-OpenAI provider; send the full items (Codex does with store=false).",
                param=param,
            )
        else:
            raise InvalidRequest(
                f"Input items of type '{kind}' are not supported when the model is served "
                "by a non-OpenAI provider.",
                param=f"{param}.type",
            )

    def _message(self, item: dict[str, Any], param: str) -> None:
        role = _ROLES.get(str(item.get("role")))
        if role is None:
            raise InvalidRequest(
                f"Invalid value for '{param}.role': '{item.get('role')}'.", param=f"{param}.role"
            )
        parts = _content(item.get("content"), f"{param}.content")
        if role is Role.SYSTEM and self._leading and all(isinstance(p, TextPart) for p in parts):
            self._system.extend(p.text for p in parts if isinstance(p, TextPart))
            return
        self._add(role, *parts)

    def _add(self, role: Role, *parts: Part) -> None:
        self._leading = False
        last = self.messages[-1] if self.messages else None
        if last is not None and last.role is role and role in _GROUPED:
            last.parts.extend(parts)
        else:
            self.messages.append(Message(role, list(parts)))


def _reasoning(item: dict[str, Any], param: str) -> ReasoningPart:
    summary = [
        required_str(
            required_dict(s, f"{param}.summary[{i}]").get("text"), f"{param}.summary[{i}].text"
        )
        for i, s in enumerate(optional_list(item.get("summary"), f"{param}.summary"))
    ]
    content = [
        required_str(
            required_dict(c, f"{param}.content[{i}]").get("text"), f"{param}.content[{i}].text"
        )
        for i, c in enumerate(optional_list(item.get("content"), f"{param}.content"))
    ]
    secret = optional_str(item.get("encrypted_content"), f"{param}.encrypted_content")
    signature, redacted = read_secret(secret)
    return ReasoningPart(
        text="\n\n".join(summary or content),
        signature=signature,
        redacted=redacted,
        item_id=optional_str(item.get("id"), f"{param}.id"),
    )


def _call(item: dict[str, Any], param: str) -> ToolCallPart:
    call_id = required_str(item.get("call_id"), f"{param}.call_id")
    name = required_str(item.get("name"), f"{param}.name")
    if item.get("type") == "custom_tool_call":
        text = required_str(item.get("input"), f"{param}.input")
        return ToolCallPart(call_id, name, json.dumps({"input": text}).decode())
    arguments = optional_str(item.get("arguments"), f"{param}.arguments")
    return ToolCallPart(call_id, name, arguments or "{}")


def _output(value: Any, param: str) -> list[Part]:
    if isinstance(value, str):
        return [TextPart(value)]
    return _content(value, param)


def _content(value: Any, param: str) -> list[Part]:
    if isinstance(value, str):
        return [TextPart(value)]
    return [
        content_part(required_dict(raw, f"{param}[{i}]"), f"{param}[{i}]")
        for i, raw in enumerate(optional_list(value, param))
    ]


def content_part(part: dict[str, Any], param: str) -> Part:
    kind = part.get("type")
    if kind in ("input_text", "output_text"):
        return TextPart(required_str(part.get("text"), f"{param}.text"))
    if kind == "refusal":
        return RefusalPart(required_str(part.get("refusal"), f"{param}.refusal"))
    if kind == "input_image":
        return _image(part, param)
    if kind == "input_file":
        return _file(part, param)
    if kind == "input_audio":
        audio = required_dict(part.get("input_audio"), f"{param}.input_audio")
        return AudioPart(
            data=required_str(audio.get("data"), f"{param}.input_audio.data"),
            format=required_str(audio.get("format"), f"{param}.input_audio.format"),
        )
    raise InvalidRequest(
        f"Content parts of type '{kind}' are not supported.", param=f"{param}.type"
    )


def _file_id_rejected(param: str) -> InvalidRequest:
    return InvalidRequest(
        "file_id references are not supported for this model; send the file's data inline.",
        param=f"{param}.file_id",
    )


def _image(part: dict[str, Any], param: str) -> ImagePart:
    if part.get("file_id") is not None:
        raise _file_id_rejected(param)
    url = required_str(part.get("image_url"), f"{param}.image_url")
    detail = optional_str(part.get("detail"), f"{param}.detail")
    if is_data_url(url):
        media_type, data = parse_data_url(url, f"{param}.image_url")
        return ImagePart(media_type=media_type, data=data, detail=detail)
    return ImagePart(url=url, detail=detail)


def _file(part: dict[str, Any], param: str) -> FilePart:
    if part.get("file_id") is not None:
        raise _file_id_rejected(param)
    filename = optional_str(part.get("filename"), f"{param}.filename")
    url = optional_str(part.get("file_url"), f"{param}.file_url")
    if url is not None:
        return FilePart(url=url, filename=filename)
    data = required_str(part.get("file_data"), f"{param}.file_data")
    if is_data_url(data):
        media_type, data = parse_data_url(data, f"{param}.file_data")
    else:
        media_type = None  # bare base64: the file name is all there is to go on
    return FilePart(media_type=media_type or media_type_of(filename), data=data, filename=filename)
