"""Client bodies are untrusted: a malformed one is a 400 naming the field, never a crash.

Seeded mutations of every request fixture (values swapped for nulls, numbers,
strings, empty or odd containers; keys removed) go through each protocol's
decoder and every other protocol's encoder. Only ``GatewayError`` may come out.
"""

import contextlib
import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from app.canonical.protocol import WireProtocol
from app.core.errors import GatewayError, InvalidRequest
from app.protocols.openai_responses.decode import decode_request as responses_request
from app.services.codecs import CODECS

FIXTURES = Path(__file__).parents[2] / "fixtures"
PACKAGES = {
    WireProtocol.OPENAI_CHAT: "openai_chat",
    WireProtocol.OPENAI_RESPONSES: "openai_responses",
    WireProtocol.ANTHROPIC: "anthropic",
    WireProtocol.GEMINI: "gemini",
}
ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    "",
    "x",
    [],
    {},
    [None],
    [{}],
    True,
    [1, 2],
    {"type": "text"},
    {"a": None},
]
CASES = [
    (protocol, path)
    for protocol, package in PACKAGES.items()
    for path in sorted((FIXTURES / package / "requests").glob("*.json"))
]


def mutate(node: Any, rng: random.Random) -> None:
    if isinstance(node, dict) and node:
        key = rng.choice(list(node))
        roll = rng.random()
        if roll < 0.3:
            node[key] = rng.choice(ODD_VALUES)
        elif roll < 0.45:
            del node[key]
        else:
            mutate(node[key], rng)
    elif isinstance(node, list) and node:
        index = rng.randrange(len(node))
        roll = rng.random()
        if roll < 0.3:
            node[index] = rng.choice(ODD_VALUES)
        elif roll < 0.4:
            node.pop(index)
        else:
            mutate(node[index], rng)


@pytest.mark.parametrize(
    ("protocol", "path"), CASES, ids=[f"{PACKAGES[p]}.{path.stem}" for p, path in CASES]
)
def test_mutated_requests_raise_only_gateway_errors(protocol: WireProtocol, path: Path) -> None:
    original = json.loads(path.read_text())
    rng = random.Random(path.stem)
    for _ in range(60):
        body = copy.deepcopy(original)
        for _ in range(rng.randint(1, 3)):
            mutate(body, rng)
        try:
            request = CODECS[protocol].decode_request(body, "gemini-2.5-pro")
        except GatewayError:
            continue
        for upstream in WireProtocol:
            if upstream is not protocol:
                with contextlib.suppress(GatewayError):
                    CODECS[upstream].encode_request(
                        request, "m", CODECS[upstream].names(), 4096, False
                    )


def test_a_tool_choice_type_that_is_not_a_string_is_named() -> None:
    with pytest.raises(InvalidRequest) as caught:
        responses_request({"model": "m", "input": "hi", "tool_choice": {"type": ["function"]}})
    assert caught.value.param == "tool_choice.type"


def test_an_odd_strict_schema_is_sent_as_not_strict() -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "f",
                    "strict": True,
                    "parameters": {
                        "type": "object",
                        "properties": [],
                        "required": 1.5,
                        "additionalProperties": False,
                    },
                },
            }
        ],
    }
    request = CODECS[WireProtocol.OPENAI_CHAT].decode_request(body, None)
    sent = CODECS[WireProtocol.OPENAI_RESPONSES].encode_request(
        request, "m", CODECS[WireProtocol.OPENAI_RESPONSES].names(), None, False
    )
    assert sent["tools"][0]["strict"] is False
