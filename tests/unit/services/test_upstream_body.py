import json

import pytest

from app.canonical.protocol import WireProtocol
from app.services.auth import Caller
from app.services.relay import Call, _upstream_body
from app.upstream.accounts import Operation


def call(
    body: dict[str, object], protocol: WireProtocol = WireProtocol.OPENAI_CHAT, **fields: object
) -> Call:
    raw = json.dumps(body).encode()
    return Call(
        protocol=protocol,
        operation=fields.pop("operation", Operation.GENERATE),  # type: ignore[arg-type]
        body=raw,
        document=body,
        requested_model=body.get("model"),
        caller=Caller("k"),  # type: ignore[arg-type]
        request_id="r",
        models_route="/v1/models",
        **fields,
    )  # type: ignore[arg-type]


def test_body_passes_untouched_when_nothing_changes() -> None:
    request = call({"model": "m", "messages": []})
    assert _upstream_body(request, "m") is request.body


def test_model_is_renamed_for_the_upstream() -> None:
    request = call({"model": "alias", "messages": [{"role": "user", "content": "hi"}]})
    assert json.loads(_upstream_body(request, "real")) == {
        "model": "real",
        "messages": [{"role": "user", "content": "hi"}],
    }


@pytest.mark.parametrize("options", [None, {"include_usage": False}, {"other": 1}, "absent"])
def test_chat_streams_always_ask_the_upstream_for_usage(options: object) -> None:
    body: dict[str, object] = {"model": "m", "stream": True, "messages": []}
    if options != "absent":
        body["stream_options"] = options
    request = call(body, operation=Operation.STREAM, has_stream_options="stream_options" in body)
    sent = json.loads(_upstream_body(request, "m"))
    assert sent["stream_options"]["include_usage"] is True
    assert {k: v for k, v in sent.items() if k != "stream_options"} == {
        k: v for k, v in body.items() if k != "stream_options"
    }
    if isinstance(options, dict):
        assert {k: v for k, v in sent["stream_options"].items() if k != "include_usage"} == {
            k: v for k, v in options.items() if k != "include_usage"
        }


def test_gemini_bodies_are_never_rewritten() -> None:
    request = call({"contents": []}, WireProtocol.GEMINI, operation=Operation.STREAM)
    assert _upstream_body(request, "gemini-x") is request.body
