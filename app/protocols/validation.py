"""Parsing a request body once and checking the fields the gateway reads.

The body is parsed once, by orjson, into the document that a translation
then decodes; the protocol's precompiled validator (built once at import)
checks that document's envelope. Measured on a 45 kB Claude Code request:
``validate_json`` alone 53 us; orjson 65 us + ``validate_python`` 2 us,
which saves the second parse (65 us) whenever the request is translated.
"""

from typing import Any

from pydantic_core import SchemaValidator, ValidationError

from app.core import json
from app.core.errors import InvalidRequest


def parse_body(validator: SchemaValidator, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole JSON document and its validated envelope."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"Request body is not valid JSON: {exc}") from exc
    try:
        envelope: dict[str, Any] = validator.validate_python(document)
    except ValidationError as exc:
        raise _invalid_request(exc) from exc
    return document, envelope


def _invalid_request(exc: ValidationError) -> InvalidRequest:
    first = exc.errors(include_url=False)[0]
    kind = first["type"]
    location = ".".join(str(part) for part in first["loc"])
    if kind == "json_invalid":
        return InvalidRequest(f"Request body is not valid JSON: {first['msg']}")
    if kind in ("dict_type", "model_type") and not location:
        return InvalidRequest("Request body must be a JSON object.")
    if kind == "missing":
        return InvalidRequest(f"Missing required field '{location}'.", param=location)
    return InvalidRequest(f"Invalid field '{location}': {first['msg']}.", param=location)
