"""Canonical requests built for the upstream encoder, and the Messages blocks they become."""

from typing import Any

from app.canonical.content import (
    Part,
    Provider,
    Signature,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from app.canonical.names import ToolNames, anthropic_names
from app.canonical.request import Message, Request, Role
from app.protocols.anthropic.encode import encode_request

USER = Message(Role.USER, [TextPart("hi")])
SIGNED = Signature(Provider.ANTHROPIC, "EqQBCkgIARABGAIiQL8Zp2m0r1Vh")
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ"


def encode(request: Request, names: ToolNames | None = None, **limits: Any) -> dict[str, Any]:
    return encode_request(request, model="claude-up", names=names or anthropic_names(), **limits)


def messages_of(*messages: Message, **fields: Any) -> list[dict[str, Any]]:
    messages_: list[dict[str, Any]] = encode(Request("m", list(messages), **fields))["messages"]
    return messages_


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def call(call_id: str, name: str = "f", arguments: str = "{}") -> ToolCallPart:
    return ToolCallPart(call_id, name, arguments)


def result(call_id: str, value: str = "ok", **fields: Any) -> ToolResultPart:
    return ToolResultPart(call_id, [TextPart(value)], **fields)


def tool_use(call_id: str, name: str = "f", **arguments: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def tool_result(call_id: str, value: str = "ok", **fields: Any) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": call_id, "content": [text(value)]} | fields


def user_blocks(*parts: Part) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = messages_of(Message(Role.USER, list(parts)))[0]["content"]
    return content


def tool_loop(*first: Part) -> list[Message]:
    return [
        USER,
        Message(Role.ASSISTANT, [*first, call("c1")]),
        Message(Role.TOOL, [result("c1")]),
    ]
