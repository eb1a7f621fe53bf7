"""Data URLs, the way Responses carries inline bytes (PROTOCOLS.md 3.2, 7.4).

``input_image.image_url`` and ``input_file.file_data`` hold
``data:<mime>[;param]*;base64,<b64>``; canonical parts keep the media type and
the base64 payload apart.
"""

import base64
import binascii
from urllib.parse import unquote_to_bytes

from app.core.errors import InvalidRequest
from app.protocols.media import OCTET_STREAM, is_data_url, media_type_of, split_data_url

__all__ = [
    "TEXT_DOCUMENTS",
    "data_url",
    "decoded_text",
    "is_data_url",
    "media_type_of",
    "parse_data_url",
]

# Documents that read as text: sent as input_text where a file part would be
# rejected by models that only take PDFs in input_file.
TEXT_DOCUMENTS = frozenset({"text/plain", "text/csv", "text/markdown"})


def parse_data_url(url: str, param: str) -> tuple[str | None, str]:
    """``(media_type, base64 data)`` of a data URL (``None`` when it names no type)."""
    parts = split_data_url(url)
    if parts is None:
        raise InvalidRequest(f"Invalid data URL in '{param}': no ',' before the data.", param=param)
    media_type, params, payload = parts
    if "base64" in params:
        data = "".join(payload.split())
    else:
        data = base64.b64encode(unquote_to_bytes(payload)).decode()
    return media_type or None, data


def data_url(media_type: str | None, data: str) -> str:
    return f"data:{media_type or OCTET_STREAM};base64,{data}"


def decoded_text(data: str, param: str) -> str:
    """The UTF-8 text of a base64 text document."""
    try:
        return base64.b64decode(data, validate=False).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError) as error:
        raise InvalidRequest(f"Invalid base64 data in '{param}'.", param=param) from error
