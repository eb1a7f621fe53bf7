"""Why an upstream attempt failed, as the pool sees it (kept apart from the error
the client is shown, which ``app.core.errors`` and the protocol renderers own).

The class decides what happens next: whether another account is tried, and
what the failing account's breaker and cooldown make of it.
"""

import email.utils
import time
from collections.abc import Mapping
from enum import StrEnum


class FailureClass(StrEnum):
    CLIENT_ERROR = "client_error"  # 400/404/422: the request itself; no failover
    CREDENTIAL = "credential"  # 401/403: the account's key; disable the account
    QUOTA = "quota"  # billing or quota exhausted (402, insufficient_quota)
    RATE_LIMIT = "rate_limit"  # 429: cool down, honouring retry-after
    OVERLOADED = "overloaded"  # 503/529
    TRANSIENT = "transient"  # 500/502/504 and other 5xx
    TIMEOUT = "timeout"  # connect, first byte, idle or total deadline
    CONNECTION = "connection"  # refused, reset, dropped before the reply


RETRYABLE = frozenset(
    {
        FailureClass.QUOTA,
        FailureClass.RATE_LIMIT,
        FailureClass.OVERLOADED,
        FailureClass.TRANSIENT,
        FailureClass.TIMEOUT,
        FailureClass.CONNECTION,
    }
)

# Failures that say nothing about the account's health: they never open a breaker.
NEUTRAL = frozenset({FailureClass.CLIENT_ERROR})

_QUOTA_HINTS = (b"insufficient_quota", b"billing", b"credit balance", b"quota")


def classify_status(status: int, body: bytes = b"") -> FailureClass | None:
    """The failure class of an upstream HTTP status (None: not a failure)."""
    if status < 400:
        return None
    if status in (401, 403):
        return FailureClass.CREDENTIAL
    if status == 402 or (status in (400, 429) and _mentions_quota(body)):
        return FailureClass.QUOTA
    if status == 429:
        return FailureClass.RATE_LIMIT
    if status in (503, 529):
        return FailureClass.OVERLOADED
    if status == 408:
        return FailureClass.TIMEOUT
    if status >= 500:
        return FailureClass.TRANSIENT
    return FailureClass.CLIENT_ERROR


def _mentions_quota(body: bytes) -> bool:
    lowered = body[:2000].lower()
    return any(hint in lowered for hint in _QUOTA_HINTS)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The upstream's own wait hint: ``retry-after-ms``, or ``retry-after`` as seconds or
    an HTTP date. None when absent or unreadable; never negative."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))
