"""Data URLs, the one way Chat carries inline bytes (PROTOCOLS.md 2.2, 7.4).

``image_url.url`` and ``file.file_data`` hold ``data:<mime>[;param]*;base64,<b64>``;
canonical parts hold the media type and the base64 payload apart.
"""

import base64
import binascii
import re
from urllib.parse import unquote_to_bytes

from app.core.errors import InvalidRequest

OCTET_STREAM = "application/octet-stream"

# Standard and URL-safe alphabets, padding optional: upstreams decide how strict to be.
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
_EXTENSIONS = {
    "pdf": "application/pdf",
    "txt": "text/plain",
    "csv": "text/csv",
    "md": "text/markdown",
    "json": "application/json",
    "html": "text/html",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}


def is_data_url(url: str) -> bool:
    return url[:5].lower() == "data:"


def parse_data_url(url: str, param: str) -> tuple[str, str]:
    """``(media_type, base64 data)`` of a data URL; a missing media type is sniffed."""
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise InvalidRequest(f"Invalid data URL in '{param}': no ',' before the data.", param=param)
    media_type, *params = header.split(";")
    if "base64" in (p.strip().lower() for p in params):
        data = "".join(payload.split())
        _check_base64(data, param)
    else:
        data = base64.b64encode(unquote_to_bytes(payload)).decode()
    return media_type.strip().lower() or sniff_media_type(data), data


def data_url(media_type: str | None, data: str) -> str:
    return f"data:{media_type or sniff_media_type(data)};base64,{data}"


def sniff_media_type(data: str, filename: str | None = None) -> str:
    """The media type of base64 ``data`` from its magic bytes, else its file name."""
    head = _decode_head(data)
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    extension = (filename or "").rpartition(".")[2].lower()
    return _EXTENSIONS.get(extension, OCTET_STREAM)


def _decode_head(data: str) -> bytes:
    try:
        return base64.b64decode(data[:16], validate=False)
    except (binascii.Error, ValueError):
        return b""


def _check_base64(data: str, param: str) -> None:
    if not _BASE64.fullmatch(data):
        raise InvalidRequest(f"Invalid base64 data in '{param}'.", param=param)
