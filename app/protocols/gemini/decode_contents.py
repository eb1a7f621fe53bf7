"""A Gemini client's ``contents`` as canonical messages (PROTOCOLS.md 5.3, 7.3, 7.7, 7.8).

- ``model`` contents become assistant messages; ``user`` (and the older
  ``function``) contents become a TOOL message holding their
  ``functionResponse`` parts, then a USER message with the rest, so results
  stay right after the calls they answer whatever order the client used.
- Gemini calls usually carry no id. A call gets its own ``id`` when it has
  one, else ``call_<content index>_<part index>``; a response is paired with
  a call of the previous model turn by id, else by name in order. Gemini CLI
  answers with ids it minted itself (``<name>-<time>-<random>``) for calls
  that had none, so an id matching no call falls back to the name.
- A ``thoughtSignature`` on a function call is the call's own (Gemini's) or,
  carried for another provider, a signed empty reasoning part just before
  the call (the cross-protocol convention); on a text part it becomes a
  signed empty reasoning part after that text, where a Gemini stream leaves
  it too (PROTOCOLS.md 5.8).
"""

from dataclasses import dataclass
from typing import Any

from app.canonical.content import (
    AudioPart,
    FilePart,
    ImagePart,
    Part,
    Provider,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from app.canonical.request import Message, Role
from app.core import json
from app.protocols.gemini.fields import (
    field,
    has,
    optional_dict,
    optional_list,
    optional_str,
    required_str,
    unsupported,
    wrong,
)
from app.protocols.gemini.media import google_file, standard_base64
from app.protocols.gemini.signatures import from_client

_ROLES = {"user": Role.USER, "function": Role.USER, "model": Role.ASSISTANT}
# Parts only Google's server tools produce (code execution, server-side tool calls).
_SERVER_PARTS = ("executableCode", "codeExecutionResult", "toolCall", "toolResponse")
_AUDIO_FORMATS = {"mpeg": "mp3", "x-wav": "wav", "wave": "wav"}


@dataclass(slots=True)
class _Call:
    id: str
    name: str
    answered: bool = False


@dataclass(slots=True)
class _Result:
    part: ToolResultPart
    given_id: str | None
    call: _Call | None = None


def decode_contents(contents: list[Any]) -> list[Message]:
    return _ContentsReader().read(contents)


class _ContentsReader:
    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: list[_Call] = []  # the latest model turn's calls

    def read(self, contents: list[Any]) -> list[Message]:
        messages: list[Message] = []
        for index, content in enumerate(contents):
            param = f"contents[{index}]"
            if not isinstance(content, dict):
                raise wrong(param, "an object")
            role = optional_str(field(content, "role"), f"{param}.role") or "user"
            if role not in _ROLES:
                raise wrong(f"{param}.role", "'user' or 'model'")
            parts = optional_list(field(content, "parts"), f"{param}.parts")
            if _ROLES[role] is Role.ASSISTANT:
                messages += self._model(parts, index)
            else:
                messages += self._user(parts, index)
        return messages

    def _model(self, parts: list[Any], index: int) -> list[Message]:
        self._calls = []
        decoded: list[Part] = []
        for at, part in enumerate(parts):
            param = f"contents[{index}].parts[{at}]"
            item = _dict(part, param)
            if has(item, "functionCall"):
                decoded += self._call(item, param, f"call_{index}_{at}")
            elif has(item, "functionResponse"):
                raise unsupported(
                    f"{param}.functionResponse", "a function response in a model turn"
                )
            else:
                decoded += _content_part(item, param)
        return [Message(Role.ASSISTANT, _merge_thoughts(decoded))] if decoded else []

    def _user(self, parts: list[Any], index: int) -> list[Message]:
        results: list[_Result] = []
        others: list[Part] = []
        for at, part in enumerate(parts):
            param = f"contents[{index}].parts[{at}]"
            item = _dict(part, param)
            if has(item, "functionResponse"):
                results.append(_result(item, param, f"call_{index}_{at}"))
            elif has(item, "functionCall"):
                raise unsupported(f"{param}.functionCall", "a function call in a user turn")
            else:
                others += _content_part(item, param)
        self._pair(results)
        messages = [Message(Role.TOOL, [result.part for result in results])] if results else []
        return messages + ([Message(Role.USER, others)] if others else [])

    def _call(self, part: dict[str, Any], param: str, fallback_id: str) -> list[Part]:
        call = _dict(field(part, "functionCall"), f"{param}.functionCall")
        name = required_str(field(call, "name"), f"{param}.functionCall.name")
        args = optional_dict(field(call, "args"), f"{param}.functionCall.args")
        call_id = optional_str(field(call, "id"), f"{param}.functionCall.id") or fallback_id
        self._calls.append(_Call(call_id, name))
        signature = from_client(field(part, "thoughtSignature"))
        tool_call = ToolCallPart(call_id, name, json.dumps(args).decode())
        if signature is None or signature.provider is Provider.GEMINI:
            tool_call.signature = signature
            return [tool_call]
        return [ReasoningPart(signature=signature), tool_call]

    def _pair(self, results: list[_Result]) -> None:
        """Each response's call: the unanswered one with its id, else the first unanswered
        one with its name; a response answering no call keeps its own id."""
        for by_id in (True, False):
            for result in results:
                if result.call is None:
                    result.call = self._answer(result, by_id=by_id)
        for result in results:
            if result.call is not None:
                result.part.call_id = result.call.id

    def _answer(self, result: _Result, *, by_id: bool) -> _Call | None:
        for call in self._calls:
            match = call.id == result.given_id if by_id else call.name == result.part.name
            if match and not call.answered:
                call.answered = True
                return call
        return None


def _result(part: dict[str, Any], param: str, fallback_id: str) -> _Result:
    reply = _dict(field(part, "functionResponse"), f"{param}.functionResponse")
    name = required_str(field(reply, "name"), f"{param}.functionResponse.name")
    given_id = optional_str(field(reply, "id"), f"{param}.functionResponse.id")
    content, is_error = _result_content(field(reply, "response"))
    for at, extra in enumerate(optional_list(field(reply, "parts"), f"{param}.parts")):
        content += _content_part(_dict(extra, f"{param}.parts[{at}]"), f"{param}.parts[{at}]")
    return _Result(ToolResultPart(given_id or fallback_id, content, is_error, name), given_id)


def _merge_thoughts(parts: list[Part]) -> list[Part]:
    """Adjacent thought parts as one, up to the signature that closes them, the way
    ``decode_response`` reads a reply: a client replays a streamed reply chunk by chunk."""
    merged: list[Part] = []
    for part in parts:
        last = merged[-1] if merged else None
        if (
            isinstance(part, ReasoningPart)
            and isinstance(last, ReasoningPart)
            and last.signature is None
        ):
            last.text += part.text
            last.signature = part.signature
        else:
            merged.append(part)
    return merged


def _content_part(part: dict[str, Any], param: str) -> list[Part]:
    """A text, thought, media or signature-only part."""
    signature = from_client(field(part, "thoughtSignature"))
    for name in _SERVER_PARTS:
        if has(part, name):
            raise unsupported(f"{param}.{name}", "a server-side tool part")
    if has(part, "text"):
        text = optional_str(field(part, "text"), f"{param}.text") or ""
        if field(part, "thought") is True:
            return [ReasoningPart(text, signature)] if text or signature else []
        trailer: list[Part] = [ReasoningPart(signature=signature)] if signature else []
        return ([TextPart(text)] if text else []) + trailer
    if has(part, "inlineData"):
        return [_inline(_dict(field(part, "inlineData"), f"{param}.inlineData"), param)]
    if has(part, "fileData"):
        data = _dict(field(part, "fileData"), f"{param}.fileData")
        uri = required_str(field(data, "fileUri"), f"{param}.fileData.fileUri")
        mime = optional_str(field(data, "mimeType"), f"{param}.fileData.mimeType")
        if google_file(uri):  # stored with Google: no other provider can read it (7.4)
            return [FilePart(media_type=mime, file_id=uri)]
        return [FilePart(media_type=mime, url=uri)]
    # A part holding only a signature (or only hints such as videoMetadata).
    return [ReasoningPart(signature=signature)] if signature else []


def _inline(blob: dict[str, Any], param: str) -> Part:
    mime = required_str(field(blob, "mimeType"), f"{param}.inlineData.mimeType").lower()
    data = standard_base64(required_str(field(blob, "data"), f"{param}.inlineData.data"))
    kind, _, subtype = mime.partition("/")
    if kind == "image":
        return ImagePart(media_type=mime, data=data)
    if kind == "audio":
        return AudioPart(data, _AUDIO_FORMATS.get(subtype, subtype.removeprefix("x-")))
    return FilePart(media_type=mime, data=data)


def _result_content(response: Any) -> tuple[list[Part], bool]:
    """``{"result"|"output": x}`` unwrapped, ``{"error": x}`` flagged, anything else as JSON."""
    if isinstance(response, dict) and len(response) == 1:
        key, value = next(iter(response.items()))
        if key in ("result", "output", "error"):
            return [TextPart(_text(value))], key == "error"
    if response is None:
        return [], False
    return [TextPart(_text(response))], False


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value).decode()


def _dict(value: Any, param: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    raise wrong(param, "an object")
