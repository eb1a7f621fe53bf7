"""Chat ``messages`` into canonical system text and messages (PROTOCOLS.md 2.2, 7.2-7.4, 7.8).

- Leading ``system``/``developer`` messages become ``Request.system``; later
  ones stay in place as SYSTEM messages (7.2).
- Consecutive ``tool`` messages become one TOOL message, one result per call
  id; a repeated id keeps the last result in the first one's place (E47).
  OpenAI takes only text in a ``tool`` message; images and files found there
  anyway are kept, since other upstreams accept them in results (E27).
- Legacy ``function_call``/``function`` turns get ids derived from their
  position, so the same history always yields the same ids (prompt caches
  upstream key on the whole prefix).
"""

from dataclasses import dataclass, field
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
from app.protocols.openai_chat.fields import (
    optional_dict,
    optional_list,
    optional_str,
    required_dict,
    required_str,
    wrong,
)
from app.protocols.openai_chat.ids import split_call_id
from app.protocols.openai_chat.media import is_data_url, parse_data_url, sniff_media_type

_SYSTEM_ROLES = ("system", "developer")


@dataclass(slots=True)
class _Conversation:
    system: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    call_names: dict[str, str] = field(default_factory=dict)
    legacy_call: str | None = None


def decode_messages(raw: Any) -> tuple[list[str], list[Message]]:
    items = optional_list(raw, "messages")
    if not items:
        raise InvalidRequest("'messages' must contain at least one message.", param="messages")
    conversation = _Conversation()
    for position, item in enumerate(items):
        param = f"messages[{position}]"
        message = required_dict(item, param)
        role = required_str(message.get("role"), f"{param}.role")
        if role in _SYSTEM_ROLES:
            _system(conversation, message, param)
        elif role == "user":
            parts = _user_parts(message.get("content"), f"{param}.content")
            if parts:
                conversation.messages.append(Message(Role.USER, parts))
        elif role == "assistant":
            _assistant(conversation, message, param, position)
        elif role == "tool":
            _tool(conversation, message, param)
        elif role == "function":
            _function(conversation, message, param, position)
        else:
            raise InvalidRequest(
                f"Invalid value for '{param}.role': '{role}'.", param=f"{param}.role"
            )
    return conversation.system, conversation.messages


def _system(conversation: _Conversation, message: dict[str, Any], param: str) -> None:
    texts = [text for text in _texts(message.get("content"), f"{param}.content") if text]
    if not conversation.messages:
        conversation.system += texts
    elif texts:
        conversation.messages.append(Message(Role.SYSTEM, [TextPart(text) for text in texts]))


def _texts(content: Any, param: str) -> list[str]:
    """A content that only text may fill: a string or an array of ``text`` parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [content]
    texts = []
    for position, item in enumerate(optional_list(content, param)):
        part = required_dict(item, f"{param}[{position}]")
        kind = part.get("type")
        if kind != "text":
            raise _unsupported_part(kind, f"{param}[{position}].type")
        texts.append(required_str(part.get("text"), f"{param}[{position}].text"))
    return texts


def _user_parts(content: Any, param: str) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(content)] if content else []
    parts: list[Part] = []
    for position, item in enumerate(optional_list(content, param)):
        part = _user_part(required_dict(item, f"{param}[{position}]"), f"{param}[{position}]")
        if not (isinstance(part, TextPart) and not part.text):
            parts.append(part)
    return parts


def _user_part(part: dict[str, Any], param: str) -> Part:
    kind = part.get("type")
    if kind == "text":
        return TextPart(required_str(part.get("text"), f"{param}.text"))
    if kind == "image_url":
        return _image(part.get("image_url"), f"{param}.image_url")
    if kind == "input_audio":
        audio = required_dict(part.get("input_audio"), f"{param}.input_audio")
        return AudioPart(
            data=required_str(audio.get("data"), f"{param}.input_audio.data"),
            format=required_str(audio.get("format"), f"{param}.input_audio.format"),
        )
    if kind == "file":
        return _file(required_dict(part.get("file"), f"{param}.file"), f"{param}.file")
    raise _unsupported_part(kind, f"{param}.type")


def _image(value: Any, param: str) -> ImagePart:
    # Some clients send the URL string itself instead of {"url": ...}.
    image = {"url": value} if isinstance(value, str) else required_dict(value, param)
    url = required_str(image.get("url"), f"{param}.url")
    detail = optional_str(image.get("detail"), f"{param}.detail")
    if is_data_url(url):
        media_type, data = parse_data_url(url, f"{param}.url")
        return ImagePart(media_type=media_type, data=data, detail=detail)
    return ImagePart(url=url, detail=detail)


def _file(file: dict[str, Any], param: str) -> FilePart:
    filename = optional_str(file.get("filename"), f"{param}.filename")
    file_id = optional_str(file.get("file_id"), f"{param}.file_id")
    file_data = optional_str(file.get("file_data"), f"{param}.file_data")
    if file_data:
        if is_data_url(file_data):
            media_type, data = parse_data_url(file_data, f"{param}.file_data")
        else:  # bare base64, as some SDKs send it
            data = "".join(file_data.split())
            media_type = sniff_media_type(data, filename)
        return FilePart(media_type=media_type, data=data, filename=filename)
    if file_id:
        return FilePart(file_id=file_id, filename=filename)
    raise InvalidRequest(f"'{param}' needs 'file_data' or 'file_id'.", param=param)


def _assistant(
    conversation: _Conversation, message: dict[str, Any], param: str, position: int
) -> None:
    if message.get("audio") is not None:
        raise InvalidRequest(
            "Assistant audio references cannot be translated for this model.",
            param=f"{param}.audio",
        )
    parts: list[Part] = []
    reasoning = _reasoning_text(message)
    if reasoning:
        parts.append(ReasoningPart(text=reasoning))
    parts += _assistant_content(message.get("content"), f"{param}.content")
    refusal = optional_str(message.get("refusal"), f"{param}.refusal")
    if refusal:
        parts.append(RefusalPart(refusal))
    for index, item in enumerate(optional_list(message.get("tool_calls"), f"{param}.tool_calls")):
        call = _tool_call(required_dict(item, f"{param}.tool_calls[{index}]"), param, index)
        conversation.call_names[call.id] = call.name
        parts.append(call)
    legacy = optional_dict(message.get("function_call"), f"{param}.function_call")
    if legacy is not None:
        call_id = f"call_legacy_{position}"
        call = _function_call(legacy, call_id, f"{param}.function_call")
        conversation.call_names[call_id] = call.name
        conversation.legacy_call = call_id
        parts.append(call)
    if parts:
        conversation.messages.append(Message(Role.ASSISTANT, parts))


def _reasoning_text(message: dict[str, Any]) -> str:
    """DeepSeek/vLLM-style ``reasoning_content`` (newer vLLM: ``reasoning``), PROTOCOLS.md 2.2."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _assistant_content(content: Any, param: str) -> list[Part]:
    if content is None or isinstance(content, str):
        return [TextPart(content)] if content else []
    parts: list[Part] = []
    for position, item in enumerate(optional_list(content, param)):
        part = required_dict(item, f"{param}[{position}]")
        kind = part.get("type")
        if kind == "text":
            text = required_str(part.get("text"), f"{param}[{position}].text")
            parts += [TextPart(text)] if text else []
        elif kind == "refusal":
            refusal = required_str(part.get("refusal"), f"{param}[{position}].refusal")
            parts += [RefusalPart(refusal)] if refusal else []
        else:
            raise _unsupported_part(kind, f"{param}[{position}].type")
    return parts


def _tool_call(item: dict[str, Any], param: str, index: int) -> ToolCallPart:
    where = f"{param}.tool_calls[{index}]"
    if item.get("type", "function") != "function":
        raise InvalidRequest(
            f"Tool calls of type '{item.get('type')}' cannot be translated for this model.",
            param=f"{where}.type",
        )
    call_id, signature = split_call_id(required_str(item.get("id"), f"{where}.id"))
    call = _function_call(required_dict(item.get("function"), f"{where}.function"), call_id, where)
    call.signature = signature
    return call


def _function_call(function: dict[str, Any], call_id: str, param: str) -> ToolCallPart:
    name = required_str(function.get("name"), f"{param}.name")
    arguments = function.get("arguments")
    if isinstance(arguments, dict):  # lenient: some clients echo parsed arguments
        arguments = json.dumps(arguments).decode()
    text = optional_str(arguments, f"{param}.arguments")
    return ToolCallPart(id=call_id, name=name, arguments=text or "{}")


def _tool(conversation: _Conversation, message: dict[str, Any], param: str) -> None:
    call_id, _ = split_call_id(required_str(message.get("tool_call_id"), f"{param}.tool_call_id"))
    result = ToolResultPart(
        call_id=call_id,
        content=_user_parts(message.get("content"), f"{param}.content"),
        name=conversation.call_names.get(call_id),
    )
    _add_result(conversation, result)


def _function(
    conversation: _Conversation, message: dict[str, Any], param: str, position: int
) -> None:
    name = optional_str(message.get("name"), f"{param}.name")
    call_id = conversation.legacy_call or f"call_legacy_{position}"
    conversation.legacy_call = None
    texts = [text for text in _texts(message.get("content"), f"{param}.content") if text]
    result = ToolResultPart(
        call_id=call_id,
        content=[TextPart(text) for text in texts],
        name=name or conversation.call_names.get(call_id),
    )
    _add_result(conversation, result)


def _add_result(conversation: _Conversation, result: ToolResultPart) -> None:
    last = conversation.messages[-1] if conversation.messages else None
    if last is None or last.role is not Role.TOOL:
        conversation.messages.append(Message(Role.TOOL, [result]))
        return
    for position, part in enumerate(last.parts):
        if isinstance(part, ToolResultPart) and part.call_id == result.call_id:
            last.parts[position] = result
            return
    last.parts.append(result)


def _unsupported_part(kind: Any, param: str) -> InvalidRequest:
    if not isinstance(kind, str):
        return wrong(param, "a content part type")
    return InvalidRequest(f"Content parts of type '{kind}' are not supported here.", param=param)
