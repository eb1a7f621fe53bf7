"""Running a protocol's precompiled validator on raw request bytes.

Validators are built once at import (pydantic's performance guidance) and fed
the raw body (``validate_json``), so the body is parsed exactly once.
"""

from typing import Any

from pydantic_core import SchemaValidator, ValidationError

from app.core.errors import InvalidRequest


def validate_body(validator: SchemaValidator, body: bytes) -> dict[str, Any]:
    try:
        result: dict[str, Any] = validator.validate_json(body)
    except ValidationError as exc:
        raise _invalid_request(exc) from exc
    return result


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
