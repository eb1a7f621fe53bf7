"""The canonical form as Chat Completions: client replies and streams, upstream requests.

- ``encode_response`` / ``ChatStreamEncoder``: a reply for a client that speaks Chat;
- ``encode_request``: the body for an upstream account that speaks Chat.
"""

from app.protocols.openai_chat.encode_request import encode_request
from app.protocols.openai_chat.encode_response import FINISH_REASON, encode_response
from app.protocols.openai_chat.stream_encode import ChatStreamEncoder

__all__ = ["FINISH_REASON", "ChatStreamEncoder", "encode_request", "encode_response"]
