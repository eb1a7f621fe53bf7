"""Media types and inline data as Messages accepts them (PROTOCOLS.md 4.3, 7.4, E25)."""

import base64
import binascii

from app.core.errors import InvalidRequest
from app.protocols.media import is_data_url, split_data_url

# image/* sources accept exactly these four ("media_type: Input should be
# 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'", BerriAI/litellm#6893).
IMAGE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
PDF = "application/pdf"
# Documents with a plain-text source; CSV is text too and goes the same way.
TEXT_MEDIA_TYPES = frozenset({"text/plain", "text/csv"})

# The base64 spelling of each format's magic bytes.
_IMAGE_MAGIC = (
    ("iVBORw0KGgo", "image/png"),
    ("/9j/", "image/jpeg"),
    ("R0lGOD", "image/gif"),
    ("UklGR", "image/webp"),
)


def parse_data_url(url: str) -> tuple[str | None, str] | None:
    """``(media_type, base64 data)`` of a ``data:<mime>[;param]*;base64,<b64>`` URL."""
    parts = split_data_url(url) if is_data_url(url) else None
    if parts is None or "base64" not in parts[1]:
        return None
    return parts[0] or None, parts[2]


def sniff_image(data: str) -> str | None:
    for prefix, media_type in _IMAGE_MAGIC:
        if data.startswith(prefix):
            return media_type
    return None


def base64_text(data: str, param: str) -> str:
    """The UTF-8 text inside base64 ``data``; Messages takes text documents as text."""
    try:
        return base64.b64decode(data, validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise InvalidRequest(f"{param}: not base64-encoded UTF-8 text", param=param) from error
