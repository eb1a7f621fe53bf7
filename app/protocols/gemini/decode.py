"""Gemini bodies and streams read into the canonical form.

Client side: ``decode_request`` (a Gemini client's body; the model comes from
the URL). Upstream side: ``decode_response`` and ``StreamDecoder`` (a Gemini
account's reply). The work lives in the modules named after each.
"""

from app.protocols.gemini.decode_request import DROPPED_FIELDS, REJECTED_FIELDS, decode_request
from app.protocols.gemini.decode_response import decode_response
from app.protocols.gemini.stream_decode import StreamDecoder

__all__ = [
    "DROPPED_FIELDS",
    "REJECTED_FIELDS",
    "StreamDecoder",
    "decode_request",
    "decode_response",
]
