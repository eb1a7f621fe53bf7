"""The gateway at run time: everything built from one validated ``Config``.

Hot reload: with a config file, each worker checks the file every
``RELOAD_SECONDS``; a changed file is loaded and validated off the request
path and, when valid, the accounts, models, keys and pool are swapped in one
step. Requests already running keep the objects they started with, so none
is dropped; connection pools (one per upstream origin) and account health
survive the swap. A bad file is refused with a logged reason and the old
config stays. Listening address, workers and body limit need a restart.
"""

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict

from app.config.loader import ConfigError, load_config
from app.config.model import AccountConfig, Config, ProviderType
from app.services.auth import KeyRing
from app.services.ledger import Ledger
from app.services.relay import Relay
from app.upstream.accounts import Account, auth_headers
from app.upstream.breaker import BreakerSettings
from app.upstream.demo import DemoTransport
from app.upstream.pool import Pool
from app.upstream.registry import Registry
from app.upstream.transport import MediaFetcher, Pools, Transport

MAX_RESPONSE_BYTES = 256 * 1024 * 1024
RELOAD_SECONDS = 1.0

log = logging.getLogger("switchyard.gateway")


class Gateway:
    def __init__(
        self, config: Config, *, path: str | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self._path = path
        self._env = env if env is not None else os.environ
        self._stamp = _stamp(path)
        self._watcher: asyncio.Task[None] | None = None
        self.pools = Pools(connections_per_origin=config.server.pool_connections)
        self._demo = DemoTransport(chunk_delay=config.server.demo_chunk_delay_ms / 1000)
        self.ledger = Ledger()
        media = config.server.media
        self.media = MediaFetcher(
            max_bytes=media.max_bytes, timeout=media.timeout, allow_private=media.allow_private
        )
        self.apply(config)
        self.ready = False

    def apply(self, config: Config) -> None:
        """Build everything that depends on the config, then swap it in at once."""
        accounts = [self._account(account) for account in config.accounts]
        registry = Registry(config, accounts)
        previous: Pool | None = self.__dict__.get("pool")  # None on the first build
        breaker = BreakerSettings(**asdict(config.server.breaker))
        pool = Pool(
            config.accounts, region=config.server.region, previous=previous, breaker=breaker
        )
        relay = Relay(
            registry,
            self.ledger,
            self.media,
            pool,
            max_response_bytes=MAX_RESPONSE_BYTES,
            failover=config.server.failover,
        )
        keys = KeyRing(config.keys)
        self.config, self.accounts, self.registry = config, accounts, registry
        self.pool, self.relay, self.keys = pool, relay, keys

    async def start(self) -> None:
        self.ledger.start()
        self.pools.open(
            account.origin
            for account in self.accounts
            if account.config.type is not ProviderType.DEMO
        )
        if self._path:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.pools.close()
        await self.media.close()
        await self.ledger.stop()

    def reload(self) -> bool:
        """Load the config file again; keep the running config if the new one is bad."""
        try:
            config = load_config(self._path, self._env)
        except ConfigError as exc:
            log.error("config reload refused, keeping the running config: %s", exc)
            return False
        self.apply(config)
        log.warning(
            "config reloaded from %s: %d accounts, %d models",
            self._path,
            len(config.accounts),
            len(config.models),
        )
        return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(RELOAD_SECONDS)
            stamp = _stamp(self._path)
            if stamp != self._stamp:
                self._stamp = stamp
                self.reload()

    def _account(self, account: AccountConfig) -> Account:
        transport: Transport = (
            self._demo if account.type is ProviderType.DEMO else self.pools.transport
        )
        return Account(account, transport, account.timeouts, auth_headers(account))


def _stamp(path: str | None) -> tuple[float, int] | None:
    if not path:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime, stat.st_size
