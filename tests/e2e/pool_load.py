"""Traffic for the account-pool tests: Anthropic requests through the gateway, a closed loop
of concurrent clients, and checks that each answer arrived whole.

A closed loop (each client sends its next request when the last one is answered) keeps a
steady number of requests in flight, so something is always running when the gateway swaps
its config.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.e2e.harness import CLIENT_KEY, Gateway

HEADERS = {"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01"}


def message_body(model: str, *, stream: bool) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": "hello"}],
    }


def stream_events(body: str) -> list[dict[str, Any]]:
    """The data of every event of an Anthropic stream, in order."""
    return [
        json.loads(line.removeprefix("data: "))
        for line in body.splitlines()
        if line.startswith("data: ")
    ]


def streamed_text(body: str) -> str:
    return "".join(
        event["delta"]["text"]
        for event in stream_events(body)
        if event["type"] == "content_block_delta"
    )


def stream_problem(body: str, expected_text: str) -> str | None:
    """Why this is not one clean, complete stream of ``expected_text`` (None when it is)."""
    kinds = [event["type"] for event in stream_events(body)]
    if "error" in kinds:
        return f"an error event: {body[-300:]!r}"
    if kinds.count("message_start") != 1:
        return f"{kinds.count('message_start')} message_start events"
    if not kinds or kinds[-1] != "message_stop":
        return f"does not end with message_stop: {kinds[-3:]}"
    if streamed_text(body) != expected_text:
        return f"text {streamed_text(body)!r}, expected {expected_text!r}"
    return None


def message_problem(body: str, expected_text: str) -> str | None:
    try:
        message = json.loads(body)
        text, stop = message["content"][0]["text"], message["stop_reason"]
    except (ValueError, KeyError, IndexError, TypeError):
        return f"not a whole message: {body[:300]!r}"
    if (text, stop) != (expected_text, "end_turn"):
        return f"text {text!r} stop {stop!r}, expected {expected_text!r} end_turn"
    return None


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request of the loop; times are wall clock, to line up with the gateway's log."""

    model: str
    stream: bool
    sent: float
    first_byte: float
    ended: float
    problem: str | None  # None: 200 and the whole expected answer

    def spans(self, instant: float) -> bool:
        """Whether the gateway was answering this request (bytes had come) at ``instant``."""
        return self.first_byte < instant < self.ended


@dataclass(frozen=True, slots=True)
class LoopClient:
    """What one client of the loop sends, and the text every answer must carry."""

    model: str
    stream: bool
    expected_text: str


async def exchange(client: httpx.AsyncClient, url: str, spec: LoopClient) -> Exchange:
    sent = time.time()
    first_byte = ended = 0.0
    body = b""
    try:
        async with client.stream(
            "POST",
            f"{url}/v1/messages",
            json=message_body(spec.model, stream=spec.stream),
            headers=HEADERS,
        ) as response:
            async for chunk in response.aiter_raw():
                first_byte = first_byte or time.time()
                body += chunk
        ended = time.time()
        text = body.decode(errors="replace")
        if response.status_code != 200:
            problem: str | None = f"status {response.status_code}: {text[:300]!r}"
        elif spec.stream:
            problem = stream_problem(text, spec.expected_text)
        else:
            problem = message_problem(text, spec.expected_text)
    except httpx.HTTPError as error:
        ended = time.time()
        problem = f"{type(error).__name__}: {error}"
    return Exchange(spec.model, spec.stream, sent, first_byte or ended, ended, problem)


async def closed_loop(
    gateway: Gateway, clients: list[LoopClient], stop: asyncio.Event, *, limit: int = 5000
) -> list[Exchange]:
    """Run every client until ``stop`` is set (or ``limit`` requests in all, a safety bound)."""
    done: list[Exchange] = []

    async def run(client: httpx.AsyncClient, spec: LoopClient) -> None:
        while not stop.is_set() and len(done) < limit:
            done.append(await exchange(client, gateway.url, spec))

    limits = httpx.Limits(max_connections=len(clients))
    async with httpx.AsyncClient(timeout=20, trust_env=False, limits=limits) as client:
        await asyncio.gather(*(run(client, spec) for spec in clients))
    return done


def log_events(gateway: Gateway, logger: str) -> list[dict[str, Any]]:
    """The gateway's JSON log lines from ``logger``, in order."""
    return [line for line in gateway.json_lines() if line.get("logger") == logger]
