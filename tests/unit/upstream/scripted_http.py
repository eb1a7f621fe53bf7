"""A loopback HTTP/1.1 server whose every answer a test writes byte by byte, for the
upstream client's tests: it counts connections and requests and records what it saw."""

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

Run = Callable[[Coroutine[Any, Any, None]], None]


@dataclass
class Seen:
    """One request as the server read it."""

    head: bytes
    body: bytes
    connection: int  # 0 for the first connection accepted, 1 for the next...

    @property
    def headers(self) -> dict[bytes, list[bytes]]:
        found: dict[bytes, list[bytes]] = {}
        for line in self.head.split(b"\r\n")[1:]:
            if line:
                name, _, value = line.partition(b":")
                found.setdefault(name.strip().lower(), []).append(value.strip())
        return found

    @property
    def request_line(self) -> bytes:
        return self.head.split(b"\r\n", 1)[0]


# Writes the answer to one request; returns False to close the connection after it.
Respond = Callable[[Seen, asyncio.StreamWriter], Awaitable[bool]]


@dataclass
class Server:
    respond: Respond
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    port: int = 0
    connections: int = 0  # accepted so far
    open: int = 0  # open now
    max_open: int = 0
    closed_by_client: int = 0  # connections the client ended (EOF or reset) between requests
    seen: list[Seen] = field(default_factory=list)
    alpn: list[str | None] = field(default_factory=list)  # per TLS connection: the protocol agreed

    @property
    def origin(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def url(self, path: str = "/v1/chat/completions") -> str:
        return self.origin + path

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = self.connections
        self.connections += 1
        tls = writer.get_extra_info("ssl_object")
        if tls is not None:
            self.alpn.append(tls.selected_alpn_protocol())
        self.open += 1
        self.max_open = max(self.max_open, self.open)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    self.closed_by_client += 1
                    return
                seen = Seen(head, b"", index)
                length = seen.headers.get(b"content-length", [b"0"])[0]
                seen.body = await reader.readexactly(int(length))
                self.seen.append(seen)
                if not await self.respond(seen, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            self.closed_by_client += 1
        finally:
            self.open -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def serving(
    respond: Respond, *, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> AsyncIterator[Server]:
    server = Server(respond, host=host, tls=tls)
    listening = await asyncio.start_server(server._serve, host, 0, ssl=tls)
    server.port = listening.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listening.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(listening.wait_closed(), 2)


def reply(
    body: bytes = b"{}",
    *,
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = (),
    length: int | None = None,
) -> bytes:
    """A whole response with a Content-Length (``length`` to announce another one)."""
    lines = [f"HTTP/1.1 {status} Whatever"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked_head(*headers: tuple[str, str]) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Transfer-Encoding: chunked"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"


def answer(data: bytes, keep: bool = True) -> Respond:
    """The same bytes for every request."""

    async def respond(_: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(data)
        await writer.drain()
        return keep

    return respond
