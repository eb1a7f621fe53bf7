"""Messages out of the canonical form (PROTOCOLS.md 4, 8.4).

Client side: ``encode_response`` (a Messages body) and ``MessagesStreamEncoder``
(Messages SSE). Upstream side: ``encode_request`` (the body sent to an
Anthropic account).
"""

from app.protocols.anthropic.request_encode import DEFAULT_MAX_TOKENS, encode_request
from app.protocols.anthropic.response_encode import STOP_REASON, encode_response
from app.protocols.anthropic.stream_encode import MessagesStreamEncoder

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "STOP_REASON",
    "MessagesStreamEncoder",
    "encode_request",
    "encode_response",
]
