"""Client keys: stored as SHA-256 digests only, looked up by the digest of what is presented."""

import hashlib
from dataclasses import dataclass

from app.config.model import KeyConfig
from app.core.errors import AuthenticationFailed


@dataclass(frozen=True, slots=True)
class Caller:
    key_name: str


class KeyRing:
    def __init__(self, keys: tuple[KeyConfig, ...]) -> None:
        self._by_digest = {key.sha256: Caller(key.name) for key in keys}

    def authenticate(self, secret: str | None) -> Caller:
        if not secret:
            raise AuthenticationFailed(
                "Missing API key: send it as 'Authorization: Bearer <key>', 'x-api-key', "
                "'x-goog-api-key' or '?key='."
            )
        caller = self._by_digest.get(hashlib.sha256(secret.encode()).hexdigest())
        if caller is None:
            raise AuthenticationFailed("Invalid API key.")
        return caller
