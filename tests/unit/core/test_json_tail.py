"""Reading a reply's last top-level member (usage) without parsing the content before it:
taken only when it is certain, else left to a whole parse."""

from __future__ import annotations

import random

import orjson
import pytest

from app.core.json import tail_member


def test_a_top_level_member_at_the_end_is_read_alone() -> None:
    body = b'{"id":"x","choices":[{"text":"hi"}],"usage":{"prompt_tokens":3},"tier":"default"}'
    assert tail_member(body, "usage") == (True, {"prompt_tokens": 3})


def test_pretty_printed_replies_are_read_too() -> None:
    body = orjson.dumps(
        {"candidates": [], "usageMetadata": {"totalTokenCount": 9}}, option=orjson.OPT_INDENT_2
    )
    assert tail_member(body, "usageMetadata") == (True, {"totalTokenCount": 9})


@pytest.mark.parametrize(
    "body",
    [
        b'{"response":{"usage":{"input_tokens":1}}}',  # nested: a stream event's response
        b'[{"usage":{"a":1}},{"usageMetadata":{"b":2}}]',  # an array, not an object
        b'{"kind":"usage"}',  # the name as a string value
        b'{"text":"say \\"usage\\": now"}',  # inside a string, quotes escaped
        b'{"text":"a \\"usage","n":1}',  # a string ending in the name
        b'{"choices":[]}',  # absent
        b'{"usage":{"a":1}',  # not valid JSON
    ],
)
def test_anything_else_is_left_to_a_whole_parse(body: bytes) -> None:
    assert tail_member(body, "usage") == (False, None)


def _value(rng: random.Random, depth: int) -> object:
    kind = rng.randrange(6 if depth < 3 else 3)
    if kind == 0:
        return rng.choice([None, True, 1, 2.5, "usage", 'a "usage" b', "\\", "{", "}"])
    if kind == 1:
        return rng.randrange(1000)
    if kind == 2:
        return rng.choice(["x", "usage\\", '"usage":', "}{"])
    if kind == 3:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(["usage", "a", "b", 'q"usage']): _value(rng, depth + 1)
        for _ in range(rng.randrange(4))
    }


def test_what_it_reads_is_what_a_whole_parse_reads() -> None:
    rng = random.Random(5)
    taken = 0
    for _ in range(5000):
        document = _value(rng, 0)
        if not isinstance(document, dict):
            continue
        body = orjson.dumps(document, option=rng.choice([0, orjson.OPT_INDENT_2]))
        found, value = tail_member(body, "usage")
        if found:
            taken += 1
            assert "usage" in document and value == document["usage"], body
    assert taken > 100  # the generator does reach the fast path
