"""Fixtures shared by the test suites: the fake provider and real gateway processes.

Processes are expensive (about a second each), so the fake upstream and the gateway most
end-to-end tests use live for the whole session; tests that need another configuration ask
``gateway_factory``, which stops what it started when the test ends, pass or fail.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.e2e.harness import (
    PROVIDER_KEYS,
    TRANSLATION_KEYS,
    Gateway,
    GatewayFactory,
    free_port,
    running_gateway,
    session_config,
    start_gateway,
    strict_config,
    translation_config,
)
from tests.fake_upstream import FakeUpstream


@pytest.fixture(scope="session")
def fake_upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream.start() as fake:
        yield fake


@pytest.fixture
def upstream(fake_upstream: FakeUpstream) -> FakeUpstream:
    """The session's fake upstream with no queued actions and an empty journal."""
    fake_upstream.reset()
    return fake_upstream


@pytest.fixture(scope="session")
def gateway(
    fake_upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """The gateway on the session config: one account of each provider type on the fake."""
    with running_gateway(
        tmp_path_factory.mktemp("gateway"),
        session_config(fake_upstream.url),
        env=PROVIDER_KEYS,
        name="session",
    ) as running:
        yield running


@pytest.fixture(scope="session")
def strict_gateway(
    fake_upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """A 2 KiB body limit, half-second deadlines, and accounts whose upstream is down."""
    dead_url = f"http://127.0.0.1:{free_port()}"
    with running_gateway(
        tmp_path_factory.mktemp("strict"),
        strict_config(fake_upstream.url, dead_url),
        env=PROVIDER_KEYS,
        name="strict",
    ) as running:
        yield running


@pytest.fixture(scope="session")
def translation_gateway(
    fake_upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    """One model per upstream protocol on single-protocol accounts: every request from a
    client of another protocol is translated; loopback media URLs may be fetched."""
    with running_gateway(
        tmp_path_factory.mktemp("translation"),
        translation_config(fake_upstream.url),
        env=TRANSLATION_KEYS,
        name="translation",
    ) as running:
        yield running


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Iterator[GatewayFactory]:
    """``start(config_toml | None, env=..., name=...)``: a gateway stopped after the test."""
    started: list[Gateway] = []

    def start(
        config_toml: str | None, *, env: Mapping[str, str] | None = None, name: str = "gateway"
    ) -> Gateway:
        gateway = start_gateway(tmp_path, config_toml, env=env, name=name)
        started.append(gateway)
        return gateway

    try:
        yield start
    finally:
        for gateway in started:
            gateway.stop()
