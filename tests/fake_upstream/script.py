"""Scripted behaviours: what a test asks the next matching provider request to get.

A test posts actions to `/__control/script`; they queue up in order, and each provider request
takes the first queued action whose `match` fits its path or model. Every field is optional;
an empty action (or no action) means the protocol's default success.

Fields: `match`, `status`, `body` (any JSON) or `body_text`, `headers`, `content_type`,
`delay_ms`, `chunks`, `chunk_delay_ms`, `text` or `words`, `usage` (`input`, `output`,
`cache_read`, `cache_write`, `reasoning`), `drop` (`before_headers` | `after_chunks`),
`drop_after`, `hang_ms`, `hang_after`, `require_key`. Unknown fields are rejected so that a
typo in a test fails loudly instead of silently meaning "default".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .protocols.common import split_words

Drop = Literal["before_headers", "after_chunks"]

USAGE_FIELDS = ("input", "output", "cache_read", "cache_write", "reasoning")
_DROPS = ("before_headers", "after_chunks")


@dataclass(frozen=True, slots=True, eq=False)
class Action:
    """One parsed action; `source` keeps the JSON it came from for `GET /__control/script`."""

    source: Mapping[str, Any] = field(default_factory=dict)
    match: str | None = None
    status: int | None = None
    # The custom body, already encoded, and whether it was JSON (`body`) or raw (`body_text`).
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay_ms: int = 0
    chunks: tuple[str, ...] | None = None
    chunk_delay_ms: int = 0
    pieces: tuple[str, ...] | None = None
    usage: Mapping[str, int] = field(default_factory=dict)
    drop: Drop | None = None
    drop_after: int = 0
    hang_ms: int = 0
    hang_after: int = 0
    require_key: str | None = None

    def fits(self, path: str, model: str | None) -> bool:
        if self.match is None:
            return True
        return self.match in path or (model is not None and self.match in model)


DEFAULT_ACTION = Action()


class ActionQueue:
    """FIFO of actions; a request takes the first one that fits it."""

    def __init__(self) -> None:
        self._actions: list[Action] = []

    def extend(self, actions: list[Action]) -> None:
        self._actions.extend(actions)

    def take(self, path: str, model: str | None) -> Action:
        for index, action in enumerate(self._actions):
            if action.fits(path, model):
                return self._actions.pop(index)
        return DEFAULT_ACTION

    def pending(self) -> list[Mapping[str, Any]]:
        return [action.source for action in self._actions]

    def clear(self) -> None:
        self._actions.clear()


def parse_actions(payload: object) -> list[Action]:
    """Parse `{"actions": [...]}`; raises ValueError with a message meant for the test author."""
    if not isinstance(payload, dict) or not isinstance(payload.get("actions"), list):
        raise ValueError('expected {"actions": [action, ...]}')
    return [parse_action(raw) for raw in payload["actions"]]


def parse_action(raw: object) -> Action:
    if not isinstance(raw, dict):
        raise ValueError(f"an action must be an object, got {raw!r}")
    unknown = set(raw) - set(_PARSERS)
    if unknown:
        raise ValueError(f"unknown action fields: {sorted(unknown)}")
    if "body" in raw and "body_text" in raw:
        raise ValueError("give either body or body_text, not both")
    if "text" in raw and "words" in raw:
        raise ValueError("give either text or words, not both")
    fields: dict[str, Any] = {}
    for name, value in raw.items():
        fields.update(_PARSERS[name](name, value))
    return Action(source=raw, **fields)


def _int_value(name: str, value: object) -> int:
    # bool is an int subclass, but `"delay_ms": true` is a mistake, not 1 ms.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return value


def _str_value(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {value!r}")
    return value


def _count(name: str, value: object) -> dict[str, Any]:
    if _int_value(name, value) < 0:
        raise ValueError(f"{name} must not be negative")
    return {name: value}


def _string(name: str, value: object) -> dict[str, Any]:
    return {name: _str_value(name, value)}


def _strings(name: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name} must be a list of strings")
    return tuple(value)


def _status(name: str, value: object) -> dict[str, Any]:
    if not 100 <= _int_value(name, value) <= 599:
        raise ValueError(f"status out of range: {value}")
    return {"status": value}


def _body(name: str, value: object) -> dict[str, Any]:
    return {"body": json.dumps(value, separators=(",", ":")).encode()}


def _body_text(name: str, value: object) -> dict[str, Any]:
    return {"body": _str_value(name, value).encode()}


def _headers(name: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError("headers must be an object of strings")
    return {"headers": value}


def _text(name: str, value: object) -> dict[str, Any]:
    return {"pieces": split_words(_str_value(name, value))}


def _usage(name: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not set(value) <= set(USAGE_FIELDS):
        raise ValueError(f"usage must be an object with fields from {USAGE_FIELDS}")
    for key, count in value.items():
        _count(f"usage.{key}", count)
    return {"usage": value}


def _drop(name: str, value: object) -> dict[str, Any]:
    if value not in _DROPS:
        raise ValueError(f"drop must be one of {_DROPS}")
    return {"drop": value}


_PARSERS: dict[str, Callable[[str, object], dict[str, Any]]] = {
    "match": _string,
    "status": _status,
    "body": _body,
    "body_text": _body_text,
    "headers": _headers,
    "content_type": _string,
    "delay_ms": _count,
    "chunks": lambda name, value: {"chunks": _strings(name, value)},
    "chunk_delay_ms": _count,
    "text": _text,
    "words": lambda name, value: {"pieces": _strings(name, value)},
    "usage": _usage,
    "drop": _drop,
    "drop_after": _count,
    "hang_ms": _count,
    "hang_after": _count,
    "require_key": _string,
}
