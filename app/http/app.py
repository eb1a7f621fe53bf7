"""The ASGI application Granian serves: one BlackSheep app, one dispatching handler.

Routing is done by ``app.http.routes`` (a dict lookup) through BlackSheep's
fallback route, which skips the framework's per-request regex scan and
lets one place answer unknown paths with hints in the caller's protocol.
"""

import gc
import os

from blacksheep import Application  # noqa: TID251 - the HTTP layer owns BlackSheep

from app.config.loader import load_config
from app.core.logs import configure_logging
from app.http.handlers import Handlers
from app.services.gateway import Gateway

CONFIG_ENV = "SWITCHYARD_CONFIG"
# Requests leave no cyclic garbage (the upstream client breaks its one cycle), so the
# collector only ever walks the objects of requests in flight, to free nothing. At the
# default 700 net allocations it ran ~250 times a second at 64 concurrent requests
# (6% of the worker); at 7,000 it runs ~2 times a second, p99 no worse (issue 5, History).
GC_YOUNG_THRESHOLD = 7000


def create_app(gateway: Gateway) -> Application:
    application = Application(show_error_details=False)
    handlers = Handlers(gateway)
    application.router.fallback = handlers.dispatch

    async def start(_: Application) -> None:
        await gateway.start()
        # Everything built so far (modules, validators, config) lives as long as the
        # worker: move it out of the collector's reach, so that the collections the
        # request path triggers only walk what requests allocate.
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])

    async def stop(_: Application) -> None:
        await gateway.stop()

    application.on_start += start
    application.on_stop += stop
    return application


def app_from_environment() -> Application:
    configure_logging(os.environ.get("SWITCHYARD_LOG_LEVEL", "INFO"))
    path = os.environ.get(CONFIG_ENV) or None
    config = load_config(path, os.environ)
    return create_app(Gateway(config, path=path))
