"""Canonical messages as Gemini ``contents`` (the "→ GM" checklist of PROTOCOLS.md 7.3).

1. Assistant messages become ``model`` contents; user, tool and mid-conversation
   system messages become ``user`` contents; consecutive same-role contents merge.
2. The user content after a model turn with calls opens with exactly one
   ``functionResponse`` per call, in call order, named like the call
   (google-gemini/gemini-cli#16415). A call left without a result gets an
   error response, a result answering no call of that turn is dropped, and
   of two results for one call the last wins (E16, E47). Images returned by
   tools follow the responses as ``inlineData`` parts (E27).
3. No part without data, no empty text, no content without parts (E6).
4. A leading ``model`` content gets a user placeholder before it (E18).
5. Signatures (5.11): a call's own Gemini signature stays on it; a
   Gemini-signed empty reasoning part right before a call becomes that
   call's signature; the first call of a turn without one gets
   ``skip_thought_signature_validator``. Thought text and signatures from
   other providers are dropped.
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
from app.core import json
from app.protocols.gemini.media import media_part
from app.protocols.gemini.signatures import SKIP_VALIDATOR
from app.protocols.gemini.tool_names import upstream_name

log = logging.getLogger("switchyard.translate")

PLACEHOLDER = "(continued)"
MISSING_RESULT = "The tool call was interrupted before it returned a result."
_SIGNATURE = "thoughtSignature"


@dataclass(slots=True)
class _Turn:
    """Messages of one role run: a model turn, or everything between two model turns."""

    model: bool
    messages: list[tuple[int, Message]] = field(default_factory=list)


def encode_contents(messages: list[Message], names: ToolNames) -> list[dict[str, Any]]:
    contents: list[dict[str, Any]] = []
    calls: list[tuple[str, str]] = []  # (call id, upstream name) of the latest model turn
    for turn in _turns(messages):
        if turn.model:
            parts, calls = _model_parts(turn.messages, names)
            _append(contents, "model", parts)
        else:
            _append(contents, "user", _user_parts(turn.messages, calls))
            calls = []
    if contents and contents[0]["role"] == "model":
        contents.insert(0, {"role": "user", "parts": [{"text": PLACEHOLDER}]})
    return contents


def tool_arguments(arguments: str) -> dict[str, Any]:
    """A call's JSON text as the object Gemini wants; invalid JSON becomes ``{}`` (E31)."""
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        return value
    log.warning("tool call arguments are not a JSON object; sending {}")
    return {}


def _turns(messages: list[Message]) -> list[_Turn]:
    turns: list[_Turn] = []
    for index, message in enumerate(messages):
        model = message.role is Role.ASSISTANT
        if not turns or turns[-1].model is not model:
            turns.append(_Turn(model))
        turns[-1].messages.append((index, message))
    return turns


def _append(contents: list[dict[str, Any]], role: str, parts: list[dict[str, Any]]) -> None:
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"] += parts
    else:
        contents.append({"role": role, "parts": parts})


def _model_parts(
    messages: list[tuple[int, Message]], names: ToolNames
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    turn = _ModelTurn(names)
    for index, message in messages:
        for at, part in enumerate(message.parts):
            following = message.parts[at + 1] if at + 1 < len(message.parts) else None
            turn.add(part, following, f"messages[{index}].parts[{at}]")
    _sign_first_call(turn.parts)
    return turn.parts, turn.calls


class _ModelTurn:
    __slots__ = ("_names", "_pending", "calls", "parts")

    def __init__(self, names: ToolNames) -> None:
        self._names = names
        self._pending: str | None = None  # a Gemini signature waiting for its part
        self.parts: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str]] = []  # (call id, upstream name)

    def add(self, part: Part, following: Part | None, param: str) -> None:
        if isinstance(part, ToolCallPart):
            name = upstream_name(self._names, part.name)
            self.calls.append((part.id, name))
            call = {"functionCall": {"name": name, "args": tool_arguments(part.arguments)}}
            self._emit(call, _gemini_signature(part))
        elif isinstance(part, ReasoningPart):
            self._reasoning(part, following)
        else:
            for item in _content(part, param):
                self._emit(item, None)

    def _reasoning(self, part: ReasoningPart, following: Part | None) -> None:
        signature = _gemini_signature(part)
        if signature is None:
            return  # another provider's thinking means nothing to Gemini (7.11)
        if part.text:
            self._emit({"text": part.text, "thought": True}, signature)
        elif isinstance(following, ToolCallPart) and _gemini_signature(following) is None:
            self._pending = signature  # the cross-protocol form of a call's signature
        elif self.parts and _SIGNATURE not in self.parts[-1]:
            self.parts[-1][_SIGNATURE] = signature  # back on the part it came with (5.8)
        else:
            self._pending = signature

    def _emit(self, item: dict[str, Any], signature: str | None) -> None:
        if signature is None and self._pending is not None:
            signature, self._pending = self._pending, None
        if signature is not None:
            item[_SIGNATURE] = signature
        self.parts.append(item)


def _sign_first_call(parts: list[dict[str, Any]]) -> None:
    first = next((part for part in parts if "functionCall" in part), None)
    if first is not None and _SIGNATURE not in first:
        first[_SIGNATURE] = SKIP_VALIDATOR


def _user_parts(
    messages: list[tuple[int, Message]], calls: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    results: dict[str, tuple[str, ToolResultPart]] = {}
    others: list[dict[str, Any]] = []
    for index, message in messages:
        for at, part in enumerate(message.parts):
            param = f"messages[{index}].parts[{at}]"
            if isinstance(part, ToolResultPart):
                results[part.call_id] = (param, part)  # the last of duplicates wins (E47)
            else:
                others += _content(part, param)
    if results.keys() - {call_id for call_id, _ in calls}:
        log.warning("dropping tool results that answer no call of the previous turn")
    responses: list[dict[str, Any]] = []
    media: list[dict[str, Any]] = []
    for call_id, name in calls:
        param, result = results.get(call_id, ("", None))
        responses.append(_response(name, result))
        for at, item in enumerate(result.content if result else []):
            if isinstance(item, ImagePart | FilePart | AudioPart):
                media.append(media_part(item, f"{param}.content[{at}]"))
    return responses + media + others


def _response(name: str, result: ToolResultPart | None) -> dict[str, Any]:
    if result is None:
        response: dict[str, Any] = {"error": MISSING_RESULT}
    else:
        text = "\n".join(item.text for item in result.content if isinstance(item, TextPart))
        response = {"error": text} if result.is_error else {"result": _result_value(text)}
    return {"functionResponse": {"name": name, "response": response}}


def _result_value(text: str) -> Any:
    """A JSON object result goes as that object, anything else as the text (7.8)."""
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return text
        if isinstance(value, dict):
            return value
    return text


def _content(part: Part, param: str) -> list[dict[str, Any]]:
    if isinstance(part, TextPart | RefusalPart):
        return [{"text": part.text}] if part.text else []
    if isinstance(part, ImagePart | FilePart | AudioPart):
        return [media_part(part, param)]
    return []  # reasoning in a user turn, a stray call or result: nothing Gemini reads here


def _gemini_signature(part: ToolCallPart | ReasoningPart) -> str | None:
    """The part's signature when Gemini minted it: only Gemini can read it back."""
    signature = part.signature
    return signature.value if signature and signature.provider is Provider.GEMINI else None
