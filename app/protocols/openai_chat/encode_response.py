"""A canonical ``Response`` as a Chat Completions body for a client (PROTOCOLS.md 2.4, 7.11, 7.12).

Reasoning text goes in the non-standard ``reasoning_content`` (DeepSeek
style, read by Cline, Continue and the like; the OpenAI SDK keeps unknown
fields). Chat has no field a client echoes for reasoning signatures, so they
are dropped; a tool call's signature rides in its id (``ids.join_call_id``).
"""

from typing import Any

from app.canonical.content import ReasoningPart, RefusalPart, TextPart, ToolCallPart
from app.canonical.response import FinishReason, Response
from app.core import json
from app.protocols.openai_chat.ids import join_call_id
from app.protocols.openai_chat.usage import usage_to_dict

# PROTOCOLS.md 7.12, IR -> OC; only the five literals typed clients accept (9.4).
FINISH_REASON: dict[FinishReason, str] = {
    FinishReason.STOP: "stop",
    FinishReason.STOP_SEQUENCE: "stop",
    FinishReason.LENGTH: "length",
    FinishReason.TOOL_CALLS: "tool_calls",
    FinishReason.CONTENT_FILTER: "content_filter",
    FinishReason.REFUSAL: "content_filter",
    FinishReason.PAUSE: "stop",
    FinishReason.CONTEXT_OVERFLOW: "length",
    FinishReason.ERROR: "stop",
}


def client_finish_reason(reason: FinishReason, *, called: bool) -> str:
    """``tool_calls`` whenever a call was emitted, whatever the upstream said (7.12)."""
    return "tool_calls" if called else FINISH_REASON[reason]


def encode_response(response: Response) -> bytes:
    calls = [part for part in response.parts if isinstance(part, ToolCallPart)]
    return json.dumps(
        {
            "id": response.id,
            "object": "chat.completion",
            "created": response.created,
            "model": response.model,
            "choices": [
                {
                    "index": 0,
                    "message": _message(response, calls),
                    "logprobs": None,
                    "finish_reason": client_finish_reason(response.finish, called=bool(calls)),
                }
            ],
            "usage": usage_to_dict(response.usage),
        }
    )


def _message(response: Response, calls: list[ToolCallPart]) -> dict[str, Any]:
    texts = [part.text for part in response.parts if isinstance(part, TextPart)]
    refusal = "".join(part.text for part in response.parts if isinstance(part, RefusalPart))
    reasoning = "".join(part.text for part in response.parts if isinstance(part, ReasoningPart))
    content: str | None = "".join(texts)
    if not content and (calls or refusal):
        content = None  # E6: null, not "", beside tool calls or a refusal
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content,
        "refusal": refusal or None,
        "annotations": [],
    }
    if reasoning:
        message["reasoning_content"] = reasoning
    if calls:
        message["tool_calls"] = [
            {
                "id": join_call_id(call.id, call.signature),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in calls
        ]
    return message
