"""Data URLs, the one way Chat carries inline bytes (PROTOCOLS.md 2.2, 7.4).

``image_url.url`` and ``file.file_data`` hold ``data:<mime>[;param]*;base64,<b64>``;
canonical parts hold the media type and the base64 payload apart.
"""

import base64
import binascii
import re
from urllib.parse import unquote_to_bytes

from app.core.errors import InvalidRequest
from app.protocols.media import (
    OCTET_STREAM,
    is_data_url,
    media_type_of,
    sniff,
    split_data_url,
)

__all__ = ["OCTET_STREAM", "data_url", "is_data_url", "parse_data_url", "sniff_media_type"]

# Standard and URL-safe alphabets, padding optional: upstreams decide how strict to be.
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")


def parse_data_url(url: str, param: str) -> tuple[str, str]:
    """``(media_type, base64 data)`` of a data URL; a missing media type is sniffed."""
    parts = split_data_url(url)
    if parts is None:
        raise InvalidRequest(f"Invalid data URL in '{param}': no ',' before the data.", param=param)
    media_type, params, payload = parts
    if "base64" in params:
        data = "".join(payload.split())
        _check_base64(data, param)
    else:
        data = base64.b64encode(unquote_to_bytes(payload)).decode()
    return media_type or sniff_media_type(data), data


def data_url(media_type: str | None, data: str) -> str:
    return f"data:{media_type or sniff_media_type(data)};base64,{data}"


def sniff_media_type(data: str, filename: str | None = None) -> str:
    """The media type of base64 ``data`` from its magic bytes, else its file name."""
    return sniff(_decode_head(data)) or media_type_of(filename)


def _decode_head(data: str) -> bytes:
    try:
        return base64.b64decode(data[:16], validate=False)
    except (binascii.Error, ValueError):
        return b""


def _check_base64(data: str, param: str) -> None:
    if not _BASE64.fullmatch(data):
        raise InvalidRequest(f"Invalid base64 data in '{param}'.", param=param)
