"""A Gemini ``generateContent`` reply as a canonical response (PROTOCOLS.md 5.5-5.7).

Parts keep their order. Adjacent text parts join, and so do adjacent thought
parts until one carries a signature, as the stream decoder does with chunks.
A ``thoughtSignature`` on a thought part signs it; on a text or data part it
becomes a signed empty reasoning part after that part (an unsigned thought
just before takes it instead); on a call it is the call's own. Calls get a
stable minted id, since Gemini sends none.
"""

from typing import Any

from app.canonical.content import (
    Part,
    Provider,
    ReasoningPart,
    Signature,
    TextPart,
    ToolCallPart,
)
from app.canonical.names import ToolNames
from app.canonical.response import FinishReason, Response
from app.canonical.usage import Usage
from app.core import json
from app.protocols.gemini.reply import (
    call_id,
    candidate,
    candidate_parts,
    created_at,
    finish_reason,
    mint_response_id,
    prompt_blocked,
)
from app.protocols.gemini.tool_names import client_name
from app.protocols.gemini.usage import usage_from_dict


def decode_response(
    body: dict[str, Any], *, names: ToolNames, created: int | None = None
) -> Response:
    response_id = body.get("responseId") or mint_response_id()
    first = candidate(body)
    parts = _parts(first, response_id, names)
    usage = body.get("usageMetadata")
    return Response(
        id=response_id,
        model=body.get("modelVersion") or "",
        created=created_at(body, created),
        parts=parts,
        finish=_finish(body, first, parts),
        usage=usage_from_dict(usage) if isinstance(usage, dict) else Usage(),
    )


def _finish(body: dict[str, Any], first: dict[str, Any], parts: list[Part]) -> FinishReason:
    saw_call = any(isinstance(part, ToolCallPart) for part in parts)
    raw = first.get("finishReason")
    if raw is None and prompt_blocked(body):
        return FinishReason.CONTENT_FILTER
    return finish_reason(str(raw or "STOP"), saw_call=saw_call)


def _parts(first: dict[str, Any], response_id: str, names: ToolNames) -> list[Part]:
    parts: list[Part] = []
    calls = 0
    for raw in candidate_parts(first):
        signature = _signature(raw.get("thoughtSignature"))
        call = raw.get("functionCall")
        if isinstance(call, dict):
            arguments = json.dumps(call.get("args") or {}).decode()
            name = client_name(names, str(call.get("name") or ""))
            tool_id = call.get("id") or call_id(response_id, calls)
            parts.append(ToolCallPart(tool_id, name, arguments, signature))
            calls += 1
        elif raw.get("thought") is True:
            _thought(parts, raw.get("text") or "", signature)
        else:
            text = raw.get("text") or ""
            if text and parts and isinstance(parts[-1], TextPart):
                parts[-1].text += text
            elif text:
                parts.append(TextPart(text))
            if signature is not None:
                _sign(parts, signature, text_part=bool(text))
    return parts


def _thought(parts: list[Part], text: str, signature: Signature | None) -> None:
    last = parts[-1] if parts else None
    if isinstance(last, ReasoningPart) and last.signature is None:
        last.text += text
        last.signature = signature
    elif text or signature is not None:
        parts.append(ReasoningPart(text, signature))


def _sign(parts: list[Part], signature: Signature, *, text_part: bool) -> None:
    last = parts[-1] if parts else None
    if not text_part and isinstance(last, ReasoningPart) and last.signature is None:
        last.signature = signature
    else:
        parts.append(ReasoningPart(signature=signature))


def _signature(value: Any) -> Signature | None:
    return Signature(Provider.GEMINI, value) if isinstance(value, str) and value else None
