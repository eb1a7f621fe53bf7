"""Canonical messages as Chat ``messages`` for an upstream (PROTOCOLS.md 7.3 "→ OC" checklist).

1. One ``system`` message with the joined system text first; later system
   text stays in place as ``system`` messages.
2. Consecutive assistant messages become one: text joined, ``content: null``
   when there are only tool calls (E6), all ``tool_calls``; reasoning dropped
   (official OpenAI rejects unknown message fields; its own reasoning state
   lives in the Responses API, never in Chat history).
3. OpenAI requires every call to be answered by ``tool`` messages right after
   its assistant message (BerriAI/litellm#10083): results go there in call
   order, before the user text of the same turn (E17); a duplicate keeps the
   last (E47); a call without a result gets a synthetic error result (E16);
   a result without its call becomes user text.
4. Tool messages take text only: images and documents of a result move to one
   ``user`` message after all the turn's tool messages, with a placeholder (E27).
"""

import base64
import binascii
from typing import Any

from app.canonical.content import (
    AudioPart,
    FilePart,
    ImagePart,
    Part,
    RefusalPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from app.canonical.names import ToolNames
from app.canonical.request import Message, Request, Role
from app.core.errors import InvalidRequest
from app.protocols.openai_chat.ids import upstream_call_id
from app.protocols.openai_chat.media import data_url

INTERRUPTED = "Error: the tool call was interrupted before it returned a result."
MEDIA_FOLLOWS = "(The tool returned media; it follows in the next message.)"
_TEXT_DOCUMENTS = ("text/plain", "text/csv", "text/markdown")
_EXTENSIONS = {"application/pdf": "pdf", "text/plain": "txt", "text/csv": "csv"}

Json = dict[str, Any]


def encode_messages(request: Request, names: ToolNames) -> list[Json]:
    encoded: list[Json] = []
    if any(request.system):
        encoded.append({"role": "system", "content": "\n\n".join(t for t in request.system if t)})
    turns = _merge_assistants(request.messages)
    position = 0
    while position < len(turns):
        message = turns[position]
        position += 1
        if message.role is not Role.ASSISTANT:
            encoded += _other(message)
            continue
        encoded += _assistant(message, names)
        calls = [part for part in message.parts if isinstance(part, ToolCallPart)]
        if calls:
            end = position
            while end < len(turns) and turns[end].role is not Role.ASSISTANT:
                end += 1
            encoded += _answers(calls, turns[position:end])
            position = end
    return encoded


def _merge_assistants(messages: list[Message]) -> list[Message]:
    merged: list[Message] = []
    for message in messages:
        previous = merged[-1] if merged else None
        if (
            previous is None
            or previous.role is not Role.ASSISTANT
            or message.role is not previous.role
        ):
            merged.append(Message(message.role, list(message.parts)))
            continue
        if _has_text(previous.parts) and _has_text(message.parts):
            previous.parts.append(TextPart("\n\n"))
        previous.parts += message.parts
    return merged


def _has_text(parts: list[Part]) -> bool:
    return any(isinstance(part, TextPart | RefusalPart) and part.text for part in parts)


def _assistant(message: Message, names: ToolNames) -> list[Json]:
    # A refusal in history is the assistant's own words; as text it suits every
    # OpenAI-compatible server, not only the ones that know ``refusal``.
    text = "".join(p.text for p in message.parts if isinstance(p, TextPart | RefusalPart))
    calls = [
        {
            "id": upstream_call_id(part.id),
            "type": "function",
            "function": {"name": names.outbound(part.name), "arguments": part.arguments or "{}"},
        }
        for part in message.parts
        if isinstance(part, ToolCallPart)  # a call's signature is never sent upstream
    ]
    if not text.strip() and not calls:
        return []
    turn: Json = {"role": "assistant", "content": text if text.strip() else None}
    if calls:
        turn["tool_calls"] = calls
    return [turn]


def _answers(calls: list[ToolCallPart], span: list[Message]) -> list[Json]:
    wanted = {call.id for call in calls}
    results: dict[str, ToolResultPart] = {}
    rest: list[Message] = []
    for message in span:
        if message.role is not Role.TOOL:
            rest.append(message)
            continue
        for part in message.parts:
            if isinstance(part, ToolResultPart) and part.call_id in wanted:
                results[part.call_id] = part
            else:
                rest.append(Message(Role.TOOL, [part]))
    encoded: list[Json] = []
    media: list[Json] = []
    for call in calls:
        text, moved = _result(results.get(call.id))
        media += moved
        encoded.append({"role": "tool", "tool_call_id": upstream_call_id(call.id), "content": text})
    if media:
        encoded.append({"role": "user", "content": media})
    for message in rest:
        encoded += _other(message)
    return encoded


def _result(result: ToolResultPart | None) -> tuple[str, list[Json]]:
    """A result's text for its tool message, and the media that must move out."""
    if result is None:
        return INTERRUPTED, []
    texts = [part.text for part in result.content if isinstance(part, TextPart) and part.text]
    media = [
        encoded
        for part in result.content
        if not isinstance(part, TextPart)
        for encoded in _content_part(part)
    ]
    # E49: every text block, in order; a multi-block result is one string here.
    text = "\n".join(texts)
    if result.is_error:
        text = f"Error: {text}" if text else "Error"
    if media:
        text = f"{text}\n{MEDIA_FOLLOWS}" if text else MEDIA_FOLLOWS
    return text, media


def _other(message: Message) -> list[Json]:
    if message.role is Role.SYSTEM:
        text = "\n\n".join(p.text for p in message.parts if isinstance(p, TextPart) and p.text)
        return [{"role": "system", "content": text}] if text else []
    content: list[Json] = []
    for part in message.parts:
        if isinstance(part, ToolResultPart):
            content += _orphan_result(part)
        else:
            content += _content_part(part)
    if not content:
        return []
    if len(content) == 1 and content[0]["type"] == "text":
        return [{"role": "user", "content": content[0]["text"]}]
    return [{"role": "user", "content": content}]


def _orphan_result(part: ToolResultPart) -> list[Json]:
    """A result whose call is not in the preceding assistant turn: OpenAI rejects
    such a ``tool`` message, so the model reads it as user text instead."""
    text, media = _result(part)
    return [{"type": "text", "text": f"Result of tool call {part.call_id}:\n{text}"}, *media]


def _content_part(part: Part) -> list[Json]:
    if isinstance(part, TextPart | RefusalPart):
        return [{"type": "text", "text": part.text}] if part.text else []
    if isinstance(part, ImagePart):
        return _image(part)
    if isinstance(part, FilePart):
        return [_file(part)]
    if isinstance(part, AudioPart):
        return [{"type": "input_audio", "input_audio": {"data": part.data, "format": part.format}}]
    return []  # reasoning, calls and nested results have no place in user content


def _image(part: ImagePart) -> list[Json]:
    if part.data is not None:
        url = data_url(part.media_type, part.data)
    elif part.url is not None:
        url = part.url
    else:
        return []
    image: Json = {"url": url}
    if part.detail:
        image["detail"] = part.detail
    return [{"type": "image_url", "image_url": image}]


def _file(part: FilePart) -> Json:
    if part.file_id is not None:
        raise InvalidRequest(
            "file_id references are not supported for this model.", param="messages"
        )
    if part.data is None:
        # Chat has no URL form for documents (PROTOCOLS.md 7.4); the gateway
        # inlines fetchable URLs before encoding, so one left here cannot be sent.
        raise InvalidRequest("Document URLs are not supported for this model.", param="messages")
    media_type = part.media_type or "application/pdf"
    if media_type in _TEXT_DOCUMENTS:
        return {"type": "text", "text": _decoded_text(part.data)}
    filename = part.filename or f"document.{_EXTENSIONS.get(media_type, 'bin')}"
    return {
        "type": "file",
        "file": {"filename": filename, "file_data": data_url(media_type, part.data)},
    }


def _decoded_text(data: str) -> str:
    try:
        return base64.b64decode(data).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("A text document is not valid base64.", param="messages") from exc
