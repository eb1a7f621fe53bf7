"""`python -m tests.fake_upstream --host 127.0.0.1 --port 0`

Prints `FAKE_UPSTREAM_READY http://<host>:<port>` once listening, then serves until SIGTERM or
SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import signal
import sys

from aiohttp import web

from .contract import READY_PREFIX
from .server import create_app

# Long enough for a finished response to flush, short enough that a scripted hang of minutes
# cannot hold up the end of a test run.
_SHUTDOWN_TIMEOUT = 1.0


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if not _is_loopback(args.host):
        print(f"refusing to listen on non-loopback host {args.host!r}", file=sys.stderr)
        return 2
    asyncio.run(_serve(args.host, args.port))
    return 0


async def _serve(host: str, port: int) -> None:
    # Handlers go in before the ready line: a test may stop the fake the moment it reads it.
    stop = _stop_event_on_signals()
    runner = web.AppRunner(
        create_app(),
        # Cancel a handler when its client goes away: that is how disconnects are observed.
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=_SHUTDOWN_TIMEOUT,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        bound_port = runner.addresses[0][1]
        print(f"{READY_PREFIX} http://{_url_host(host)}:{bound_port}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def _stop_event_on_signals() -> asyncio.Event:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_upstream", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    return parser.parse_args(argv)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


if __name__ == "__main__":
    sys.exit(main())
