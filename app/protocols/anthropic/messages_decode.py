"""Client ``messages`` and ``system`` into canonical messages (PROTOCOLS.md 4.3, 7.2-7.8).

Content blocks map one to one onto parts, with three structural changes:
``tool_result`` blocks leave their user message for a ``TOOL`` message placed
before the rest of that message (E17); ``role: "system"`` messages and
``mid_conv_system`` blocks become ``SYSTEM`` messages in place; empty text
blocks are dropped (they carry nothing, and Anthropic itself rejects them on
replay, E6). ``cache_control`` and ``citations`` on any block are dropped:
prompt-cache breakpoints and citation settings only mean something to
Anthropic (7.16).
"""

from typing import Any

from app.canonical.content import (
    FilePart,
    ImagePart,
    Part,
    Provider,
    ReasoningPart,
    Signature,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    read_signature,
)
from app.canonical.request import Message, Role
from app.core import json
from app.protocols.anthropic.fields import (
    optional_bool,
    optional_dict,
    optional_list,
    optional_str,
    required_dict,
    required_str,
    unsupported,
    wrong,
)
from app.protocols.anthropic.media import PDF, parse_data_url

# Claude Code's first system block: client version and a conversation
# fingerprint, meaningful only to Anthropic (7.2, CPA claude_attribution.go).
ATTRIBUTION_PREFIX = "x-anthropic-billing-header:"

_ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT}


def decode_system(system: Any) -> list[str]:
    if isinstance(system, str):
        return _system_texts([system])
    blocks = optional_list(system, "system")
    return _system_texts([_text_of(block, f"system[{i}]") for i, block in enumerate(blocks)])


def decode_messages(raw: Any) -> list[Message]:
    messages: list[Message] = []
    call_names: dict[str, str] = {}  # tool_use id -> name, for the results that follow
    for i, item in enumerate(optional_list(raw, "messages")):
        param = f"messages[{i}]"
        message = required_dict(item, param)
        blocks = _blocks(message.get("content"), f"{param}.content")
        role = message.get("role")
        if role == "system":
            texts = [_text_of(block, f"{param}.content[{j}]") for j, block in enumerate(blocks)]
            messages.append(Message(Role.SYSTEM, [TextPart(text) for text in texts if text]))
        elif isinstance(role, str) and role in _ROLES:
            messages += _turn(_ROLES[role], blocks, param, call_names)
        else:
            raise wrong(f"{param}.role", '"user", "assistant" or "system"')
    return [message for message in messages if message.parts]


def _system_texts(texts: list[str]) -> list[str]:
    return [text for text in texts if text and not text.startswith(ATTRIBUTION_PREFIX)]


def _blocks(content: Any, param: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [
        required_dict(block, f"{param}[{j}]")
        for j, block in enumerate(optional_list(content, param))
    ]


def _text_of(block: Any, param: str) -> str:
    block = required_dict(block, param)
    if block.get("type") != "text":
        raise wrong(f"{param}.type", '"text"')
    return required_str(block.get("text"), f"{param}.text")


def _turn(
    role: Role, blocks: list[dict[str, Any]], param: str, call_names: dict[str, str]
) -> list[Message]:
    """One client message as canonical messages: its tool results first, then the rest in order."""
    results: list[Part] = []
    segments: list[Message] = []
    for j, block in enumerate(blocks):
        where = f"{param}.content[{j}]"
        kind = block.get("type")
        if kind == "tool_result":
            results.append(_tool_result(block, where, call_names))
        elif kind == "mid_conv_system":
            texts = [
                _text_of(b, f"{where}.content[{k}]")
                for k, b in enumerate(_blocks(block.get("content"), f"{where}.content"))
            ]
            _append(segments, Role.SYSTEM, [TextPart(text) for text in texts if text])
        else:
            parts = _parts(block, where)
            for part in parts:
                if isinstance(part, ToolCallPart):
                    call_names[part.id] = part.name
            _append(segments, role, parts)
    return ([Message(Role.TOOL, results)] if results else []) + segments


def _append(segments: list[Message], role: Role, parts: list[Part]) -> None:
    if segments and segments[-1].role is role:
        segments[-1].parts += parts
    elif parts:
        segments.append(Message(role, parts))


def _parts(block: dict[str, Any], param: str) -> list[Part]:
    kind = block.get("type")
    if kind == "text":
        text = required_str(block.get("text"), f"{param}.text")
        return [TextPart(text)] if text else []
    if kind == "image":
        return [_image(required_dict(block.get("source"), f"{param}.source"), f"{param}.source")]
    if kind == "document":
        return _document(block, param)
    if kind == "search_result":
        return [_search_result(block, param)]
    if kind == "thinking":
        return [_thinking(block, param)]
    if kind == "redacted_thinking":
        data = required_str(block.get("data"), f"{param}.data")
        return [ReasoningPart(redacted=data, signature=Signature(Provider.ANTHROPIC, data))]
    if kind == "tool_use":
        return [_tool_use(block, param)]
    # server_tool_use, web_search_tool_result, container_upload, ...: results of
    # tools only Anthropic runs; dropping them would silently rewrite history.
    raise unsupported(f"{param}.type", f"a `{kind}` block")


def _thinking(block: dict[str, Any], param: str) -> ReasoningPart:
    text = optional_str(block.get("thinking"), f"{param}.thinking") or ""
    value = optional_str(block.get("signature"), f"{param}.signature")
    # read_signature unwraps a foreign provider's state the gateway carried here.
    signature = read_signature(value, Provider.ANTHROPIC) if value else None
    return ReasoningPart(text=text, signature=signature)


def _tool_use(block: dict[str, Any], param: str) -> ToolCallPart:
    arguments = optional_dict(block.get("input"), f"{param}.input")
    return ToolCallPart(
        id=required_str(block.get("id"), f"{param}.id"),
        name=required_str(block.get("name"), f"{param}.name"),
        arguments=json.dumps(arguments).decode(),
    )


def _image(source: dict[str, Any], param: str) -> ImagePart:
    kind = source.get("type")
    if kind == "base64":
        return ImagePart(
            media_type=optional_str(source.get("media_type"), f"{param}.media_type"),
            data=required_str(source.get("data"), f"{param}.data"),
        )
    if kind == "url":
        url = required_str(source.get("url"), f"{param}.url")
        inline = parse_data_url(url)
        if inline is not None:
            return ImagePart(media_type=inline[0], data=inline[1])
        return ImagePart(url=url)
    # `file` sources name an upload in Anthropic's Files API; no other provider can resolve it.
    raise unsupported(f"{param}.type", f"a `{kind}` image source")


def _document(block: dict[str, Any], param: str) -> list[Part]:
    source = required_dict(block.get("source"), f"{param}.source")
    title = optional_str(block.get("title"), f"{param}.title")
    kind = source.get("type")
    where = f"{param}.source"
    if kind == "base64":
        media_type = optional_str(source.get("media_type"), f"{where}.media_type") or PDF
        data = required_str(source.get("data"), f"{where}.data")
        return [FilePart(media_type=media_type, data=data, filename=title)]
    if kind == "url":
        return [
            FilePart(
                media_type=PDF, url=required_str(source.get("url"), f"{where}.url"), filename=title
            )
        ]
    if kind == "text":
        # Plain text has no document type outside Messages; the title leads the text.
        text = required_str(source.get("data"), f"{where}.data")
        return [TextPart(f"{title}\n\n{text}" if title else text)]
    if kind == "content":
        content = _blocks(source.get("content"), f"{where}.content")
        return [part for j, b in enumerate(content) for part in _parts(b, f"{where}.content[{j}]")]
    raise unsupported(f"{where}.type", f"a `{kind}` document source")


def _search_result(block: dict[str, Any], param: str) -> TextPart:
    title = optional_str(block.get("title"), f"{param}.title")
    source = optional_str(block.get("source"), f"{param}.source")
    texts = [
        _text_of(b, f"{param}.content[{j}]")
        for j, b in enumerate(optional_list(block.get("content"), f"{param}.content"))
    ]
    header = f"{title} ({source})" if title and source else title or source
    return TextPart("\n".join([header, *texts] if header else texts))


def _tool_result(block: dict[str, Any], param: str, call_names: dict[str, str]) -> ToolResultPart:
    call_id = required_str(block.get("tool_use_id"), f"{param}.tool_use_id")
    content: list[Part] = []
    for j, item in enumerate(_blocks(block.get("content"), f"{param}.content")):
        where = f"{param}.content[{j}]"
        if item.get("type") not in ("text", "image", "document", "search_result"):
            raise unsupported(f"{where}.type", f"a `{item.get('type')}` tool result block")
        content += _parts(item, where)
    return ToolResultPart(
        call_id=call_id,
        content=content,
        is_error=optional_bool(block.get("is_error"), f"{param}.is_error") is True,
        name=call_names.get(call_id),
    )
