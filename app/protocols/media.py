"""Inline media as the protocols spell it, shared by the protocol packages.

Data URLs (``data:<mime>[;param]*;base64,<b64>``), media types from file
names, and from magic bytes. Each package keeps its own error wording and
strictness on top of these.
"""

OCTET_STREAM = "application/octet-stream"

EXTENSIONS = {
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

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


def is_data_url(url: str) -> bool:
    return url[:5].lower() == "data:"


def split_data_url(url: str) -> tuple[str, list[str], str] | None:
    """``(media type, parameters, payload)`` of a data URL; None when it has no comma."""
    header, comma, payload = url[5:].partition(",")
    if not comma:
        return None
    media_type, *params = header.split(";")
    return media_type.strip().lower(), [p.strip().lower() for p in params], payload


def media_type_of(filename: str | None) -> str:
    extension = (filename or "").rpartition(".")[2].lower()
    return EXTENSIONS.get(extension, OCTET_STREAM)


def sniff(head: bytes) -> str | None:
    """The media type the first bytes of a file announce, if any."""
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None
