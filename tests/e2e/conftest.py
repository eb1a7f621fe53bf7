"""Clients bound to the session gateway; each is closed when its test ends."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.clients import http_client
from tests.e2e.harness import Gateway


@pytest.fixture
def http(gateway: Gateway) -> Iterator[httpx.Client]:
    with http_client(gateway.url) as client:
        yield client


@pytest.fixture
def strict_http(strict_gateway: Gateway) -> Iterator[httpx.Client]:
    with http_client(strict_gateway.url) as client:
        yield client
