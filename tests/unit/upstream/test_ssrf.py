import asyncio

import pytest
from aiohttp import web

from app.core.errors import InvalidRequest
from app.upstream.ssrf import ForbiddenAddress, check_address, is_ip_literal
from app.upstream.transport import MediaFetcher


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
        "::",
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_refused(address: str) -> None:
    with pytest.raises(ForbiddenAddress):
        check_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    check_address(address)


def test_ip_literal_detection() -> None:
    assert is_ip_literal("127.0.0.1") and is_ip_literal("[::1]")
    assert not is_ip_literal("example.com")


PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 100


async def _serve() -> tuple[web.AppRunner, int]:
    async def image(_: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    async def big(_: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000, content_type="image/png")

    async def hop(_: web.Request) -> web.Response:
        raise web.HTTPFound("/image.png")

    app = web.Application()
    app.router.add_get("/image.png", image)
    app.router.add_get("/big.png", big)
    app.router.add_get("/hop", hop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port


def run_with_server(check):  # type: ignore[no-untyped-def]
    async def main() -> None:
        runner, port = await _serve()
        try:
            await check(f"http://127.0.0.1:{port}", port)
        finally:
            await runner.cleanup()

    asyncio.run(main())


def test_fetcher_refuses_loopback_by_ip_and_by_name() -> None:
    async def check(base: str, port: int) -> None:
        fetcher = MediaFetcher(max_bytes=1000, timeout=5)
        try:
            for url in (f"{base}/image.png", f"http://localhost:{port}/image.png"):
                with pytest.raises(InvalidRequest, match="public address"):
                    await fetcher.fetch(url)
        finally:
            await fetcher.close()

    run_with_server(check)


def test_fetcher_downloads_follows_redirects_and_bounds_size_when_private_is_allowed() -> None:
    async def check(base: str, port: int) -> None:
        fetcher = MediaFetcher(max_bytes=1000, timeout=5, allow_private=True)
        try:
            fetched = await fetcher.fetch(f"{base}/hop")
            assert (fetched.data, fetched.content_type) == (PNG, "image/png")
            with pytest.raises(InvalidRequest, match="limit"):
                await fetcher.fetch(f"{base}/big.png")
            with pytest.raises(InvalidRequest, match="Only http"):
                await fetcher.fetch("file:///etc/passwd")
        finally:
            await fetcher.close()

    run_with_server(check)
