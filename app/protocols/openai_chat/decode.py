"""Chat Completions into the canonical form: client requests, upstream replies and streams.

- ``decode_request``: a client's request body (the client speaks Chat);
- ``decode_response`` / ``StreamDecoder``: an upstream's reply (the account speaks Chat).
"""

from app.protocols.openai_chat.decode_request import DROPPED_FIELDS, REJECTED_FIELDS, decode_request
from app.protocols.openai_chat.decode_response import decode_response
from app.protocols.openai_chat.stream_decode import StreamDecoder

__all__ = [
    "DROPPED_FIELDS",
    "REJECTED_FIELDS",
    "StreamDecoder",
    "decode_request",
    "decode_response",
]
