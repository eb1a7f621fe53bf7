"""Canonical messages as Responses ``input`` items (PROTOCOLS.md 7.3 "→ OR", 7.4, 7.8).

The emitter checklist for an OpenAI upstream called with ``store: false``:
no item ids (nothing is persisted to look them up, E22); assistant text as
``output_text`` (E21); every ``function_call`` answered by exactly one
``function_call_output`` and no output without its call (OpenAI rejects
both); reasoning replayed only when OpenAI minted it, and only right before
the item it produced.
"""

import logging
from dataclasses import dataclass, field
from typing import Any

from app.canonical.content import (
    AudioPart,
    FilePart,
    ImagePart,
    Part,
    Provider,
    ReasoningPart,
    RefusalPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from app.canonical.names import ToolNames
from app.canonical.request import Message, Role
from app.core.errors import InvalidRequest
from app.protocols.openai_responses.media import TEXT_DOCUMENTS, data_url, decoded_text

log = logging.getLogger("switchyard.translate")

INTERRUPTED = "Error: the tool call was interrupted and returned no result."
_EXTENSIONS = {"application/pdf": "pdf", "text/html": "html", "application/json": "json"}


@dataclass(slots=True)
class EncodedInput:
    items: list[dict[str, Any]] = field(default_factory=list)
    replays_reasoning: bool = False  # an OpenAI reasoning item goes back upstream


def encode_input(messages: list[Message], names: ToolNames) -> EncodedInput:
    results = _answered_results(messages)
    encoded = EncodedInput()
    for message in messages:
        if message.role is Role.ASSISTANT:
            _assistant(message, names, results, encoded)
            continue
        for part in message.parts:
            if isinstance(part, ToolResultPart) and results.get(part.call_id) is part:
                encoded.items.append(_output(part))
        role = "developer" if message.role is Role.SYSTEM else "user"
        content = [c for p in message.parts if (c := input_content(p)) is not None]
        if content:
            encoded.items.append({"type": "message", "role": role, "content": content})
    return encoded


def _answered_results(messages: list[Message]) -> dict[str, ToolResultPart]:
    """The result each call gets: the last one sent after the call (E47); orphans are dropped."""
    called: set[str] = set()
    results: dict[str, ToolResultPart] = {}
    for message in messages:
        for part in message.parts:
            if isinstance(part, ToolCallPart):
                called.add(part.id)
            elif isinstance(part, ToolResultPart):
                if part.call_id in called:
                    results[part.call_id] = part
                else:
                    log.warning("dropped a tool result for unknown call %r", part.call_id)
    return results


def _assistant(
    message: Message,
    names: ToolNames,
    results: dict[str, ToolResultPart],
    encoded: EncodedInput,
) -> None:
    items: list[dict[str, Any]] = []
    content: list[dict[str, Any]] = []
    unanswered: list[str] = []
    for part in message.parts:
        item = _assistant_item(part, names)
        if item is None:
            if (entry := _output_content(part)) is not None:
                content.append(entry)
            continue
        if content:
            items.append(_assistant_message(content))
            content = []
        items.append(item)
        if isinstance(part, ToolCallPart) and part.id not in results:
            unanswered.append(part.id)
    if content:
        items.append(_assistant_message(content))
    while items and items[-1]["type"] == "reasoning":
        items.pop()  # a reasoning item must be followed by the item it produced (E22)
    encoded.replays_reasoning |= any(item["type"] == "reasoning" for item in items)
    encoded.items += items
    # A call the client never answered (an interrupted run) still needs an output (E16).
    encoded.items += [
        {"type": "function_call_output", "call_id": call_id, "output": INTERRUPTED}
        for call_id in unanswered
    ]


def _assistant_item(part: Part, names: ToolNames) -> dict[str, Any] | None:
    if isinstance(part, ToolCallPart):
        # call_id is the canonical id; no item id with store=false (7.3 → OR rule 3).
        return {
            "type": "function_call",
            "call_id": part.id,
            "name": names.outbound(part.name),
            "arguments": part.arguments or "{}",
        }
    if isinstance(part, ReasoningPart) and _is_openai(part):
        assert part.signature is not None
        summary = [{"type": "summary_text", "text": part.text}] if part.text else []
        # summary is required even when empty (newo-ether/Agora#141).
        return {"type": "reasoning", "summary": summary, "encrypted_content": part.signature.value}
    return None


def _is_openai(part: ReasoningPart) -> bool:
    return part.signature is not None and part.signature.provider is Provider.OPENAI


def _output_content(part: Part) -> dict[str, Any] | None:
    if isinstance(part, TextPart) and part.text:
        return {"type": "output_text", "text": part.text, "annotations": []}
    if isinstance(part, RefusalPart) and part.text:
        return {"type": "refusal", "refusal": part.text}
    if not isinstance(part, ReasoningPart | TextPart | RefusalPart):
        log.warning("dropped a %s part from an assistant turn", type(part).__name__)
    return None


def _assistant_message(content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "content": content}


def _output(result: ToolResultPart) -> dict[str, Any]:
    """A function_call_output: a string, or input parts when the result holds media (7.8)."""
    prefix = "Error: " if result.is_error else ""
    texts = [p.text for p in result.content if isinstance(p, TextPart)]
    if len(texts) == len(result.content):
        return {
            "type": "function_call_output",
            "call_id": result.call_id,
            "output": prefix + "\n".join(texts),
        }
    parts = [c for p in result.content if (c := input_content(p)) is not None]
    if prefix:
        parts.insert(0, {"type": "input_text", "text": prefix.strip()})
    return {"type": "function_call_output", "call_id": result.call_id, "output": parts}


def input_content(part: Part) -> dict[str, Any] | None:
    """A user-side content part; parts that have no place in one are skipped."""
    if isinstance(part, TextPart | RefusalPart):
        return {"type": "input_text", "text": part.text} if part.text else None
    if isinstance(part, ImagePart):
        return _image(part)
    if isinstance(part, FilePart):
        return _file(part)
    if isinstance(part, AudioPart):
        return {"type": "input_audio", "input_audio": {"data": part.data, "format": part.format}}
    return None


def _image(part: ImagePart) -> dict[str, Any]:
    if part.data is not None:
        url = data_url(part.media_type, part.data)
    elif part.url is not None:
        url = part.url
    else:
        raise InvalidRequest("An image has neither data nor a URL.", param="image")
    # detail is required by the SDK type; "auto" when the client gave none (3.2).
    return {"type": "input_image", "image_url": url, "detail": part.detail or "auto"}


def _file(part: FilePart) -> dict[str, Any]:
    if part.file_id is not None:
        raise InvalidRequest(
            "file_id references are not supported for this model; send the file's data inline.",
            param="file_id",
        )
    if part.url is not None and part.data is None:
        entry = {"type": "input_file", "file_url": part.url}
        return {**entry, "filename": part.filename} if part.filename else entry
    if part.data is None:
        raise InvalidRequest("A document has neither data nor a URL.", param="file")
    if part.media_type in TEXT_DOCUMENTS:
        return {"type": "input_text", "text": decoded_text(part.data, "file")}
    extension = _EXTENSIONS.get(part.media_type or "", "bin")
    return {
        "type": "input_file",
        "filename": part.filename or f"document.{extension}",
        "file_data": data_url(part.media_type, part.data),
    }
