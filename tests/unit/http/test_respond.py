import json

import pytest

from app.canonical.protocol import ErrorShape
from app.core.errors import RateLimited, ServiceOverloaded
from app.http.respond import error_response


@pytest.mark.parametrize(
    ("shape", "status", "kind"),
    [
        (ErrorShape.ANTHROPIC, 529, "overloaded_error"),
        (ErrorShape.OPENAI, 503, "server_error"),
        (ErrorShape.GEMINI, 503, "UNAVAILABLE"),
    ],
)
def test_overload_is_529_only_for_anthropic_clients(
    shape: ErrorShape, status: int, kind: str
) -> None:
    response = error_response(shape, ServiceOverloaded("busy"))
    assert response.status == status
    assert kind in json.dumps(json.loads(response.content.body))


def test_rate_limits_carry_retry_after_in_whole_seconds() -> None:
    response = error_response(ErrorShape.OPENAI, RateLimited("slow down", retry_after=2.4))
    assert response.status == 429
    assert response.get_first_header(b"retry-after") == b"2"
