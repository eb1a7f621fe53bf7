"""Images, documents and audio as Gemini parts (PROTOCOLS.md 5.3, 7.4, E24, E26).

Gemini reads media only as inline bytes (``inlineData``) or as a URI it can
resolve itself (``fileData``: Files API URIs, ``gs://`` on Vertex); it never
fetches an ``https`` image. The gateway inlines fetched media before encoding,
so a plain URL reaching this module is a request Gemini cannot honour.

Such a URI names a file stored with Google, the Gemini form of a provider
file id (7.4): a Gemini client's ``fileData`` decodes to ``FilePart.file_id``
(``google_file``), which only this encoder sends on, as ``fileData`` again.
"""

import re
from typing import Any

from app.canonical.content import AudioPart, FilePart, ImagePart
from app.core.errors import InvalidRequest
from app.protocols.media import is_data_url, split_data_url

_FILES_API = re.compile(r"https://generativelanguage\.googleapis\.com/[^?#]*/files/[^/?#]+")
_AUDIO_TYPES = {"mp3": "audio/mp3", "wav": "audio/wav"}
_URL_SAFE = str.maketrans("-_", "+/")


def google_file(uri: str) -> bool:
    """``uri`` names a file Gemini holds (Files API, or ``gs://`` on Vertex)."""
    return bool(_FILES_API.match(uri)) or uri.startswith("gs://")


def parse_data_url(url: str) -> tuple[str | None, str] | None:
    """``(media_type, base64 data)`` of a ``data:<mime>[;param]*;base64,<b64>`` URL."""
    parts = split_data_url(url) if is_data_url(url) else None
    if parts is None or "base64" not in parts[1]:
        return None
    return parts[0] or None, parts[2]


def standard_base64(data: str) -> str:
    """``inlineData.data`` in the standard, padded base64 alphabet.

    ``data`` is proto3 ``bytes``, whose JSON form may be URL-safe and unpadded;
    python-genai sends it that way (``Part.from_bytes``), while Anthropic's
    ``base64`` sources and OpenAI's data URLs take only the standard alphabet.
    """
    standard = data.translate(_URL_SAFE).rstrip("=")
    return standard + "=" * (-len(standard) % 4)


def media_part(part: ImagePart | FilePart | AudioPart, param: str) -> dict[str, Any]:
    if isinstance(part, AudioPart):
        mime = _AUDIO_TYPES.get(part.format, f"audio/{part.format}")
        return _inline(mime, part.data)
    if isinstance(part, ImagePart):
        return _image(part, param)
    return _file(part, param)


def _image(part: ImagePart, param: str) -> dict[str, Any]:
    if part.data:
        return _inline(part.media_type or "image/png", part.data)
    inline = parse_data_url(part.url or "")
    if inline is not None:
        return _inline(inline[0] or part.media_type or "image/png", inline[1])
    raise InvalidRequest(
        f"{param}: Gemini cannot fetch image URLs; send the image as base64 data", param=param
    )


def _file(part: FilePart, param: str) -> dict[str, Any]:
    if part.data:
        return _inline(part.media_type or "application/pdf", part.data)
    if part.file_id and google_file(part.file_id):
        return _file_data(part.file_id, part.media_type)
    if part.file_id:
        raise InvalidRequest(
            f"{param}: file_id references are not supported for this model", param=param
        )
    url = part.url or ""
    inline = parse_data_url(url)
    if inline is not None:
        return _inline(inline[0] or part.media_type or "application/pdf", inline[1])
    if google_file(url):
        return _file_data(url, part.media_type)
    raise InvalidRequest(
        f"{param}: Gemini reads only Files API or gs:// file URIs; send the file as base64 data",
        param=param,
    )


def _file_data(uri: str, media_type: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"fileUri": uri}
    if media_type:
        data["mimeType"] = media_type
    return {"fileData": data}


def _inline(mime: str, data: str) -> dict[str, Any]:
    return {"inlineData": {"mimeType": mime, "data": data}}
