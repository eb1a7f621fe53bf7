"""The gateway at run time: everything built from one validated ``Config``."""

from app.config.model import Config, ProviderType
from app.services.auth import KeyRing
from app.services.ledger import Ledger
from app.services.relay import Relay
from app.upstream.accounts import Account, auth_headers
from app.upstream.demo import DemoTransport
from app.upstream.pool import Pool
from app.upstream.registry import Registry
from app.upstream.transport import MediaFetcher, Pools, Transport, origin_of

MAX_RESPONSE_BYTES = 256 * 1024 * 1024


class Gateway:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.keys = KeyRing(config.keys)
        self.pools = Pools(connections_per_origin=config.server.pool_connections)
        self._demo = DemoTransport(chunk_delay=config.server.demo_chunk_delay_ms / 1000)
        self.accounts = [self._account(index) for index in range(len(config.accounts))]
        self.registry = Registry(config, self.accounts)
        self.ledger = Ledger()
        media = config.server.media
        self.media = MediaFetcher(
            max_bytes=media.max_bytes, timeout=media.timeout, allow_private=media.allow_private
        )
        self.pool = Pool(config.accounts, region=config.server.region)
        self.relay = Relay(
            self.registry,
            self.ledger,
            self.media,
            self.pool,
            max_response_bytes=MAX_RESPONSE_BYTES,
            failover=config.server.failover,
        )
        self.ready = False

    async def start(self) -> None:
        self.ledger.start()
        self.pools.open(
            account.origin
            for account in self.accounts
            if account.config.type is not ProviderType.DEMO
        )
        self.ready = True

    async def stop(self) -> None:
        self.ready = False
        await self.pools.close()
        await self.media.close()
        await self.ledger.stop()

    def _account(self, index: int) -> Account:
        config = self.config.accounts[index]
        transport: Transport
        if config.type is ProviderType.DEMO:
            transport = self._demo
        else:
            transport = self.pools.transport(origin_of(config.base_url))
        return Account(config, transport, self.config.server.timeouts, auth_headers(config))
