"""Decoders of the Responses protocol (PROTOCOLS.md section 3).

Client side: ``decode_request`` reads a client's request. Upstream side:
``decode_response`` and ``StreamDecoder`` read an OpenAI reply.
"""

from app.protocols.openai_responses.decode_request import (
    DECODED_FIELDS,
    DROPPED_FIELDS,
    REJECTED_FIELDS,
    decode_request,
)
from app.protocols.openai_responses.decode_response import decode_response
from app.protocols.openai_responses.stream_decode import StreamDecoder

__all__ = [
    "DECODED_FIELDS",
    "DROPPED_FIELDS",
    "REJECTED_FIELDS",
    "StreamDecoder",
    "decode_request",
    "decode_response",
]
