"""The incremental JSON array splitter behind ``streamGenerateContent`` without ``alt=sse``."""

import json

from app.protocols.gemini.json_array import JSONArraySplitter

# Strings holding quotes, backslashes, braces and brackets must not confuse the depth count.
TRICKY = [
    {"text": 'He said "stop" {now} [ok]', "n": [1, {"deep": ["}", "]"]}]},
    {"path": "C:\\dir\\", "quote": '\\"', "empty": {}},
    {"unicode": "\u00e9\u2028", "list": []},
]
DATA = ("[" + "\r\n,\r\n".join(json.dumps(item, indent=1) for item in TRICKY) + "\n]").encode()


def split(pieces: list[bytes]) -> tuple[list[object], JSONArraySplitter]:
    splitter = JSONArraySplitter()
    elements = [json.loads(element) for piece in pieces for element in splitter.feed(piece)]
    return elements, splitter


def test_elements_at_every_split_point_and_byte_by_byte() -> None:
    for cut in range(len(DATA) + 1):
        elements, splitter = split([DATA[:cut], DATA[cut:]])
        assert elements == TRICKY, f"split at {cut}"
        assert splitter.closed and not splitter.pending
    elements, splitter = split([DATA[i : i + 1] for i in range(len(DATA))])
    assert elements == TRICKY


def test_each_element_is_handed_out_as_soon_as_it_closes() -> None:
    first_end = DATA.index(b"\r\n,")
    elements, splitter = split([DATA[:first_end]])
    assert elements == TRICKY[:1]
    assert not splitter.pending and not splitter.closed


def test_a_cut_inside_an_element_is_pending() -> None:
    elements, splitter = split([DATA[: DATA.index(b'"path"')]])
    assert elements == TRICKY[:1]
    assert splitter.pending


def test_a_bare_object_counts_as_one_element() -> None:
    elements, splitter = split([b'{"error": {"code": 500, "message": "x]"}}'])
    assert elements == [{"error": {"code": 500, "message": "x]"}}]
    assert not splitter.pending
