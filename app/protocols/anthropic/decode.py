"""Messages into the canonical form (PROTOCOLS.md 4, 8.1).

Client side: ``decode_request`` (a client's Messages body). Upstream side:
``decode_response`` (an Anthropic account's reply body) and ``StreamDecoder``
(its SSE stream).
"""

from app.protocols.anthropic.request_decode import (
    DROPPED_FIELDS,
    DROPPED_TOOL_FIELDS,
    HANDLED_FIELDS,
    REJECTED_FIELDS,
    decode_request,
)
from app.protocols.anthropic.response_decode import FINISH_REASON, decode_response
from app.protocols.anthropic.stream_decode import StreamDecoder

__all__ = [
    "DROPPED_FIELDS",
    "DROPPED_TOOL_FIELDS",
    "FINISH_REASON",
    "HANDLED_FIELDS",
    "REJECTED_FIELDS",
    "StreamDecoder",
    "decode_request",
    "decode_response",
]
