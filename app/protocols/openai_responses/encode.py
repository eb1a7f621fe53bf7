"""Encoders of the Responses protocol (PROTOCOLS.md section 3, 8.3).

Client side: ``encode_response`` and ``ResponsesStreamEncoder`` write a reply
for a Responses client (``request`` is the client's own body, echoed in the
response object as OpenAI does). Upstream side: ``encode_request`` writes the
body for an OpenAI Responses upstream.
"""

from typing import Any

from app.canonical.response import Response
from app.core import json
from app.protocols.openai_responses.encode_request import encode_request
from app.protocols.openai_responses.output_items import (
    new_item_id,
    output_items,
    response_object,
)
from app.protocols.openai_responses.stream_encode import ResponsesStreamEncoder, stream_failure
from app.protocols.openai_responses.tools import custom_tool_names


def encode_response(response: Response, request: dict[str, Any]) -> bytes:
    output = output_items(response.parts, custom_tool_names(request))
    return json.dumps(
        response_object(
            response.id or new_item_id("resp"),
            response.model,
            response.created,
            request,
            output=output,
            finish=response.finish,
            usage=response.usage,
        )
    )


__all__ = [
    "ResponsesStreamEncoder",
    "encode_request",
    "encode_response",
    "new_item_id",
    "response_object",
    "stream_failure",
]
