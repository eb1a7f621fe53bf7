"""Canonical messages as Messages ``messages`` for an Anthropic upstream (PROTOCOLS.md 7.3 "→ AN").

The emitter checklist, in order: parts become blocks (empty text dropped,
thinking kept only with Anthropic's own signature, 7.11); messages become
user/assistant turns, empty ones dropped, consecutive same-role turns merged
with ``tool_use`` blocks last; each assistant turn's calls are answered by
``tool_result`` blocks first in the next user turn (missing ones synthesized as
interrupted errors, unmatched ones turned into user text, E16/E17/E47); and the
first turn is a user turn.
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
from app.protocols.anthropic.media import (
    IMAGE_MEDIA_TYPES,
    PDF,
    TEXT_MEDIA_TYPES,
    base64_text,
    parse_data_url,
    sniff_image,
)
from app.protocols.anthropic.response_encode import tool_input
from app.protocols.anthropic.signatures import redacted_data, tool_use_id

log = logging.getLogger("switchyard.translate")

PLACEHOLDER = "(continued)"  # never "": empty text is rejected (7.3 → AN point 3)
INTERRUPTED = "interrupted"
_MEDIA_ALIASES = {"image/jpg": "image/jpeg"}


@dataclass(slots=True)
class _Turn:
    role: str  # "user" | "assistant"
    results: list[dict[str, Any]] = field(default_factory=list)  # tool_result blocks
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        calls = [block for block in self.blocks if block["type"] == "tool_use"]
        others = [block for block in self.blocks if block["type"] != "tool_use"]
        return {"role": self.role, "content": self.results + others + calls}


def encode_messages(messages: list[Message], names: ToolNames) -> list[dict[str, Any]]:
    turns: list[_Turn] = []
    for message in messages:
        turn = _turn(message, names)
        if not (turn.results or turn.blocks):
            continue
        if turns and turns[-1].role == turn.role:
            turns[-1].results += turn.results
            turns[-1].blocks += turn.blocks
        else:
            turns.append(turn)
    turns = _answer_tool_calls(turns)
    if not turns or turns[0].role != "user":
        turns.insert(0, _Turn("user", blocks=[{"type": "text", "text": PLACEHOLDER}]))
    wire = [turn.wire() for turn in turns]
    _trim_prefill(wire[-1])
    return wire


def thinking_conflict(messages: list[dict[str, Any]]) -> str | None:
    """Why thinking cannot be on for this history, if it cannot (4.3, E36)."""
    if messages[-1]["role"] == "assistant":
        return "the conversation ends with an assistant prefill"
    for message in reversed(messages):
        content = message["content"]
        if message["role"] == "user":
            if any(block["type"] != "tool_result" for block in content):
                return None  # the current tool loop starts after this user turn
        elif content[0]["type"] not in ("thinking", "redacted_thinking"):
            return "an assistant turn of the current tool loop has no Anthropic thinking block"
    return None


def _turn(message: Message, names: ToolNames) -> _Turn:
    if message.role is Role.ASSISTANT:
        return _Turn(
            "assistant",
            blocks=[b for part in message.parts if (b := _assistant_block(part, names))],
        )
    if message.role is Role.SYSTEM:
        # Mid-conversation system text: a reminder in the user turn (7.2, CPA's <system-reminder>).
        texts = [
            part.text for part in message.parts if isinstance(part, TextPart) and part.text.strip()
        ]
        text = "\n".join(texts)
        return _Turn(
            "user",
            blocks=[_text(f"<system-reminder>\n{text}\n</system-reminder>")] if texts else [],
        )
    turn = _Turn("user")
    for part in message.parts:
        if isinstance(part, ToolResultPart):
            turn.results.append(_tool_result(part))
        elif (block := _user_block(part)) is not None:
            turn.blocks.append(block)
    return turn


def _assistant_block(part: Part, names: ToolNames) -> dict[str, Any] | None:
    if isinstance(part, TextPart | RefusalPart):
        return _text(part.text) if part.text.strip() else None
    if isinstance(part, ToolCallPart):
        return {
            "type": "tool_use",
            "id": tool_use_id(part.id),
            "name": names.outbound(part.name),
            "input": tool_input(part.arguments),
        }
    if isinstance(part, ReasoningPart):
        return _thinking(part)
    log.warning(
        "dropped a %s from an assistant turn: Messages has no such block", type(part).__name__
    )
    return None


def _thinking(part: ReasoningPart) -> dict[str, Any] | None:
    """Only Anthropic's own thinking goes back, unmodified (7.11, E35); the rest is dropped."""
    if part.signature is None or part.signature.provider is not Provider.ANTHROPIC:
        return None
    data = redacted_data(part)
    if data is not None:
        return {"type": "redacted_thinking", "data": data}
    return {"type": "thinking", "thinking": part.text, "signature": part.signature.value}


def _user_block(part: Part) -> dict[str, Any] | None:
    if isinstance(part, TextPart | RefusalPart):
        return _text(part.text) if part.text.strip() else None
    if isinstance(part, ImagePart):
        return _image(part)
    if isinstance(part, FilePart):
        return _document(part)
    if isinstance(part, AudioPart):
        raise InvalidRequest("audio input is not supported by this model", param="audio")
    log.warning("dropped a %s from a user turn: Messages has no such block", type(part).__name__)
    return None


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _image(part: ImagePart) -> dict[str, Any]:
    if part.data is None and part.url:
        inline = parse_data_url(part.url)
        if inline is None:
            return {"type": "image", "source": {"type": "url", "url": part.url}}
        part = ImagePart(media_type=inline[0], data=inline[1])
    if not part.data:
        raise InvalidRequest("an image needs base64 data or a URL", param="image")
    media_type = (part.media_type or sniff_image(part.data) or "").lower()
    media_type = _MEDIA_ALIASES.get(media_type, media_type)
    if media_type not in IMAGE_MEDIA_TYPES:
        shown = media_type or "unknown"
        message = f"image media type {shown!r} is not supported: use jpeg, png, gif or webp"
        raise InvalidRequest(message, param="image.media_type")
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": media_type, "data": part.data},
    }


def _document(part: FilePart) -> dict[str, Any]:
    if part.file_id:
        raise InvalidRequest("file_id references are not supported for this model", param="file_id")
    title = {"title": part.filename} if part.filename else {}
    media_type = (part.media_type or "").lower()
    if part.data is None and part.url:
        inline = parse_data_url(part.url)
        if inline is not None:
            return _document(FilePart(inline[0] or media_type, inline[1], filename=part.filename))
        if media_type in ("", PDF):  # Messages fetches URL documents itself, PDFs only
            return {"type": "document", "source": {"type": "url", "url": part.url}} | title
        raise InvalidRequest(f"a {media_type} document must be sent inline", param="file.url")
    if not part.data:
        raise InvalidRequest("a document needs base64 data or a URL", param="file")
    if media_type == PDF or (not media_type and part.data.startswith("JVBER")):
        source = {"type": "base64", "media_type": PDF, "data": part.data}
        return {"type": "document", "source": source} | title
    if media_type in TEXT_MEDIA_TYPES:
        text = base64_text(part.data, "file.data")
        source = {"type": "text", "media_type": "text/plain", "data": text}
        return {"type": "document", "source": source} | title
    if media_type.startswith("image/"):
        return _image(ImagePart(media_type=media_type, data=part.data))
    message = f"{media_type or 'untyped'} documents are not supported by this model"
    raise InvalidRequest(message, param="file.media_type")


def _tool_result(part: ToolResultPart) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id(part.call_id)}
    content = [b for item in part.content if (b := _user_block(item)) is not None]
    if content:
        block["content"] = content
    if part.is_error:
        block["is_error"] = True
    return block


def _answer_tool_calls(turns: list[_Turn]) -> list[_Turn]:
    """Every tool_use answered first thing in the very next user turn, nothing else there."""
    paired: list[_Turn] = []
    calls: list[str] = []  # tool_use ids of the assistant turn just passed
    for turn in turns:
        if turn.role == "user":
            _answer(turn, calls)
            calls = []
        else:
            calls = [block["id"] for block in turn.blocks if block["type"] == "tool_use"]
        paired.append(turn)
    if calls:  # the history ends on unanswered calls
        answer = _Turn("user")
        _answer(answer, calls)
        paired.append(answer)
    return paired


def _answer(turn: _Turn, calls: list[str]) -> None:
    latest = {block["tool_use_id"]: block for block in turn.results}  # E47: the last one wins
    orphans = [block for block in turn.results if block["tool_use_id"] not in calls]
    turn.results = [latest.get(call) or _interrupted(call) for call in calls]
    if orphans:
        log.warning("%d tool results without their call were sent as user text", len(orphans))
    turn.blocks[:0] = [block for orphan in orphans for block in _as_text(orphan)]


def _interrupted(call_id: str) -> dict[str, Any]:
    log.warning("tool call %s had no result; answered as interrupted", call_id)
    content = [_text(INTERRUPTED)]
    return {"type": "tool_result", "tool_use_id": call_id, "content": content, "is_error": True}


def _as_text(result: dict[str, Any]) -> list[dict[str, Any]]:
    label = "error" if result.get("is_error") else "result"
    header = _text(f"Tool {label} for call {result['tool_use_id']}:")
    return [header, *result.get("content", [])]


def _trim_prefill(turn: dict[str, Any]) -> None:
    """A final assistant turn may not end in whitespace (Messages rejects it)."""
    last = turn["content"][-1]
    if turn["role"] == "assistant" and last["type"] == "text":
        last["text"] = last["text"].rstrip()
