"""Locust users for the gateway: one class per client protocol, realistic bodies, both stream modes.

    SWITCHYARD_URL=http://127.0.0.1:8080 SWITCHYARD_KEY=sk-... \\
        .venv/bin/python -m locust -f loadtest/locustfile.py --headless -u 8 -r 8 --run-time 30s

(``python -m loadtest.locust_run`` starts a fast upstream and a gateway and does this for you.)

- ClaudeCodeUser: Anthropic ``POST /v1/messages?beta=true`` with Claude Code's headers and
  body (loadtest/payloads/claude_code.json), three streamed requests to one plain.
- ChatUser: OpenAI ``POST /v1/chat/completions``, streamed (usage asked for) and plain.
- CodexUser: OpenAI ``POST /v1/responses``, streamed, as Codex CLI sends it.
- GeminiUser: ``:generateContent`` and ``:streamGenerateContent?alt=sse`` with
  ``x-goog-api-key``, as Gemini CLI sends them.

Environment: ``SWITCHYARD_URL`` (default http://127.0.0.1:8080; anything but 127.0.0.1 is
refused, ``--host`` included), ``SWITCHYARD_KEY`` (default ``SWITCHYARD_DEMO_KEY``), and per
client protocol a comma-separated model list: ``SWITCHYARD_ANTHROPIC_MODELS``,
``SWITCHYARD_CHAT_MODELS``, ``SWITCHYARD_RESPONSES_MODELS``, ``SWITCHYARD_GEMINI_MODELS``.
Each user takes the models in turn and the model is part of every request's name, so traffic
relayed to an account of the client's own protocol and translated traffic are reported apart.

Every body is read to its end. A request fails on a non-200 status, an incomplete body or
stream, or an in-stream error (loadtest/client_checks.py), and its time is the whole exchange.
Streams also record the time to their first body byte under ``"<name> ttfb"`` (type TTFB).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from itertools import cycle, islice
from typing import Any, ClassVar

from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

from loadtest import payloads
from loadtest.client_checks import Client, loopback_url, reply_problem

HOST = loopback_url(os.environ.get("SWITCHYARD_URL", "http://127.0.0.1:8080"))
KEY = os.environ.get("SWITCHYARD_KEY") or os.environ.get("SWITCHYARD_DEMO_KEY", "")
_READ_SIZE = 64 * 1024


def _models(variable: str, default: str) -> list[str]:
    models = [name.strip() for name in os.environ.get(variable, default).split(",")]
    return [name for name in models if name] or [default]


_environments: list[Environment] = []


@events.init.add_listener
def _refuse_remote_hosts(environment: Environment, **_: Any) -> None:
    """``--host`` overrides the users' host: hold it to the same rule. A SystemExit gets past
    locust's listener error handling, so the run never starts."""
    if environment.host:
        try:
            loopback_url(environment.host)
        except ValueError as exc:
            raise SystemExit(str(exc)) from exc
    _environments.append(environment)


@events.quit.add_listener
def _write_final_stats(**_: Any) -> None:
    """The final figures as JSON to ``SWITCHYARD_LOCUST_RESULTS`` when set. Locust's CSV files
    are rewritten once a second and miss what completes while the users stop; at quit the
    runner's stats are final."""
    path = os.environ.get("SWITCHYARD_LOCUST_RESULTS")
    if not path or not _environments or _environments[-1].runner is None:
        return
    stats = _environments[-1].runner.stats
    entries = [
        {
            "method": entry.method,
            "name": entry.name,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p90": entry.get_response_time_percentile(0.9),
            "p99": entry.get_response_time_percentile(0.99),
            "rps": entry.total_rps,
        }
        for entry in stats.entries.values()
        if entry.num_requests
    ]
    errors = [
        {"name": error.name, "error": str(error.error), "occurrences": error.occurrences}
        for error in stats.errors.values()
    ]
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"entries": entries, "errors": errors}, handle, indent=1)


class GatewayUser(FastHttpUser):
    """Sends one protocol's requests back to back and checks every reply to its end."""

    abstract = True
    host = HOST
    wait_time = constant(0)
    network_timeout = 120.0
    connection_timeout = 10.0
    client_kind: ClassVar[Client]
    models: ClassVar[list[str]]
    headers: dict[str, str]

    def on_start(self) -> None:
        if self.host is None:
            raise StopUser()
        loopback_url(self.host)  # a host set any other way than SWITCHYARD_URL or --host
        self._next_model = cycle(self.models).__next__
        self.session = str(uuid.uuid4())

    def next_model(self) -> str:
        return self._next_model()

    def exchange(self, label: str, model: str, path: str, body: bytes, *, stream: bool) -> None:
        """POST ``body``, read the reply to its end, and report it as ``label [model]``."""
        name = f"{label} [{model}]"
        start = time.perf_counter()
        first = start
        chunks: list[bytes] = []
        with self.client.request(
            "POST",
            path,
            name=name,
            data=body,
            headers=self.headers,
            stream=True,
            catch_response=True,
        ) as response:
            try:
                # geventhttpclient's read(n) waits for n bytes: one byte first, so the time to
                # the first byte is real, then the rest in large reads (cheap for locust).
                chunks.extend(islice(response.iter_content(1, decode_content=False), 1))
                first = time.perf_counter()
                chunks.extend(response.iter_content(_READ_SIZE, decode_content=False))
            except Exception as exc:  # a connection cut mid-body, a read timeout
                response.failure(f"body read failed: {exc!r}")
                return
            data = b"".join(chunks)
            # The whole exchange, not just the headers (locust's measure with stream=True).
            response.request_meta["response_time"] = (time.perf_counter() - start) * 1000
            response.request_meta["response_length"] = len(data)
            problem = reply_problem(self.client_kind, stream, response.status_code or 0, data)
            if problem:
                response.failure(problem)
            else:
                response.success()
        if stream and chunks and response.status_code == 200:
            self.environment.events.request.fire(
                request_type="TTFB",
                name=f"{name} ttfb",
                response_time=(first - start) * 1000,
                response_length=0,
                exception=None,
                context={},
                response=None,
            )


class ClaudeCodeUser(GatewayUser):
    client_kind = Client.ANTHROPIC
    models = _models("SWITCHYARD_ANTHROPIC_MODELS", "claude-sonnet-4-5")

    def on_start(self) -> None:
        super().on_start()
        self.bodies = {
            (model, stream): payloads.body("claude_code", model=model, stream=stream)
            for model in self.models
            for stream in (True, False)
        }
        self.headers = {
            "x-api-key": KEY,
            "anthropic-version": "2023-06-01",
            "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,"
            "fine-grained-tool-streaming-2025-05-14",
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": "claude-cli/2.0.14 (external, cli)",
            "x-app": "cli",
            "x-claude-code-session-id": self.session,
        }

    @task(3)
    def messages_stream(self) -> None:
        model = self.next_model()
        body = self.bodies[model, True]
        self.exchange("messages stream", model, "/v1/messages?beta=true", body, stream=True)

    @task(1)
    def messages(self) -> None:
        model = self.next_model()
        body = self.bodies[model, False]
        self.exchange("messages", model, "/v1/messages?beta=true", body, stream=False)


class ChatUser(GatewayUser):
    client_kind = Client.CHAT
    models = _models("SWITCHYARD_CHAT_MODELS", "gpt-5")

    def on_start(self) -> None:
        super().on_start()
        self.bodies = {
            (model, stream): payloads.body("short_chat", model=model, stream=stream)
            for model in self.models
            for stream in (True, False)
        }
        self.headers = {
            "authorization": f"Bearer {KEY}",
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": "OpenAI/Python 3.54.0",
        }

    @task
    def chat_stream(self) -> None:
        model = self.next_model()
        body = self.bodies[model, True]
        self.exchange("chat stream", model, "/v1/chat/completions", body, stream=True)

    @task
    def chat(self) -> None:
        model = self.next_model()
        body = self.bodies[model, False]
        self.exchange("chat", model, "/v1/chat/completions", body, stream=False)


class CodexUser(GatewayUser):
    client_kind = Client.RESPONSES
    models = _models("SWITCHYARD_RESPONSES_MODELS", "gpt-5-codex")

    def on_start(self) -> None:
        super().on_start()
        self.bodies = {
            model: payloads.body("codex", model=model, stream=True) for model in self.models
        }
        self.headers = {
            "authorization": f"Bearer {KEY}",
            "content-type": "application/json",
            "accept": "text/event-stream",
            "originator": "codex_cli_rs",
            "session_id": self.session,
            "conversation_id": self.session,
            "user-agent": "codex_cli_rs/0.46.0 (Ubuntu 24.4.0; x86_64) xterm-256color",
        }

    @task
    def responses_stream(self) -> None:
        model = self.next_model()
        body = self.bodies[model]
        self.exchange("responses stream", model, "/v1/responses", body, stream=True)


class GeminiUser(GatewayUser):
    client_kind = Client.GEMINI
    models = _models("SWITCHYARD_GEMINI_MODELS", "gemini-2.5-pro")

    def on_start(self) -> None:
        super().on_start()
        self.body = payloads.body("gemini")
        self.headers = {
            "x-goog-api-key": KEY,
            "content-type": "application/json",
            "user-agent": "GeminiCLI/0.9.0/gemini-2.5-pro (linux; x64)",
            "x-goog-api-client": "google-genai-sdk/1.21.0 gl-node/v22.19.0",
        }

    @task
    def generate(self) -> None:
        model = self.next_model()
        path = f"/v1beta/models/{model}:generateContent"
        self.exchange("generateContent", model, path, self.body, stream=False)

    @task
    def stream_generate(self) -> None:
        model = self.next_model()
        path = f"/v1beta/models/{model}:streamGenerateContent?alt=sse"
        self.exchange("streamGenerateContent", model, path, self.body, stream=True)
