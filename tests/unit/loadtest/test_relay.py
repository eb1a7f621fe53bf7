"""The bare relay (the benchmark's ceiling) relays bodies and streams unchanged, over both of
its clients: started as the benchmark starts it, with the fast upstream behind it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from loadtest import scenarios, stack


@pytest.fixture(scope="module")
def fast_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[stack.Service]:
    service = stack.start_upstream(tmp_path_factory.mktemp("relay"), chunks=5, chunk_delay_ms=0)
    yield service
    service.stop()


@pytest.mark.parametrize("client", ["gateway", "aiohttp"])
def test_the_relay_answers_as_the_upstream_does(
    fast_upstream: stack.Service, tmp_path: Path, client: str
) -> None:
    target = next(t for t in scenarios.TARGETS if t.name == "direct")
    relay = stack.start_relay(tmp_path, fast_upstream, workers=1, client=client)
    try:
        headers = dict(line.split(": ", 1) for line in target.headers)
        headers["content-type"] = "application/json"
        for stream in (False, True):
            body = target.body(stream)
            direct = httpx.post(fast_upstream.url + target.path, content=body, headers=headers)
            relayed = httpx.post(relay.url + target.path, content=body, headers=headers)
            assert direct.status_code == relayed.status_code == 200
            assert relayed.headers["content-type"] == direct.headers["content-type"]
            assert relayed.content == direct.content
            assert (b"data: [DONE]" in relayed.content) is stream
    finally:
        relay.stop()
