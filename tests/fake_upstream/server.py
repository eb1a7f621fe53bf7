"""The aiohttp application: provider endpoints on every path, the control API under /__control/."""

from __future__ import annotations

from aiohttp import web

from .endpoints import resolve_endpoint
from .journal import Exchange, Journal
from .replies import build_reply, request_model
from .script import ActionQueue, parse_actions
from .sending import send_reply

# Far above any provider's limit (Anthropic's is 32 MB), so oversized-request tests reach
# the fake instead of bouncing off aiohttp's 1 MiB default.
_MAX_BODY = 64 * 1024 * 1024


class FakeUpstreamServer:
    """The fake's state (queued actions, what it saw) and its request handlers."""

    def __init__(self) -> None:
        self.journal = Journal()
        self.queue = ActionQueue()

    def create_app(self) -> web.Application:
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_post("/__control/script", self.add_script)
        app.router.add_get("/__control/script", self.list_script)
        app.router.add_get("/__control/requests", self.list_requests)
        app.router.add_get("/__control/events", self.list_events)
        app.router.add_get("/__control/load", self.load_stats)
        app.router.add_post("/__control/reset", self.reset)
        app.router.add_route("*", "/__control/{tail:.*}", self.unknown_control)
        app.router.add_route("*", "/{tail:.*}", self.handle_provider)
        return app

    async def handle_provider(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        recorded = self.journal.record_request(request, body)
        endpoint = resolve_endpoint(request.method, request.path, recorded["headers"])
        model = request_model(endpoint, recorded["json"])
        action = self.queue.take(request.path, model)
        reply = build_reply(endpoint, recorded, action, len(body))
        exchange = Exchange(self.journal, recorded["id"], request.path)
        # Counted until the handler ends: the last byte written, the fake's drop, or the
        # client's disconnect (which cancels the handler).
        with self.journal.load.track(model or request.path):
            return await send_reply(request, reply, action, exchange)

    async def add_script(self, request: web.Request) -> web.Response:
        try:
            actions = parse_actions(await request.json())
        except ValueError as error:  # JSONDecodeError is a ValueError too
            return web.json_response({"error": str(error)}, status=400)
        self.queue.extend(actions)
        return web.json_response({"queued": len(actions), "pending": len(self.queue.pending())})

    async def list_script(self, request: web.Request) -> web.Response:
        return web.json_response({"pending": self.queue.pending()})

    async def list_requests(self, request: web.Request) -> web.Response:
        return web.json_response(self.journal.requests)

    async def list_events(self, request: web.Request) -> web.Response:
        return web.json_response(self.journal.events)

    async def load_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.journal.load.stats())

    async def reset(self, request: web.Request) -> web.Response:
        self.queue.clear()
        self.journal.reset()
        return web.json_response({"ok": True})

    async def unknown_control(self, request: web.Request) -> web.Response:
        return web.json_response({"error": f"no control endpoint {request.path}"}, status=404)


def create_app() -> web.Application:
    return FakeUpstreamServer().create_app()
