"""The event loops the upstream client's tests run on."""

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
import uvloop

from tests.unit.upstream.scripted_http import Run


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Run:
    """Runs a test's coroutine on the default event loop, then again on uvloop (the
    gateway's): their transports differ in what they call when."""

    def runner(main: Coroutine[Any, Any, None]) -> None:
        if request.param == "uvloop":
            uvloop.run(main)
        else:
            asyncio.run(main)

    return runner
