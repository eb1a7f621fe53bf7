"""Which upstream response headers a relay passes on, and that they pass as sent."""

from app.services.relay import _client_headers


def test_useful_headers_pass_lowered_and_the_rest_stay_behind() -> None:
    upstream = [
        (b"Content-Type", b"application/json"),
        (b"Set-Cookie", b"session=secret"),
        (b"X-RateLimit-Remaining-Tokens", b"99"),
        (b"anthropic-ratelimit-requests-reset", b"2026-11-22T10:00:00Z"),
        (b"Retry-After", b"7"),
        (b"CF-Ray", b"abc"),
        (b"request-id", b"req_\xc3\xa9"),  # not ASCII: passed on as the same bytes
    ]
    assert _client_headers(upstream, "req_1") == [
        (b"content-type", b"application/json"),
        (b"x-ratelimit-remaining-tokens", b"99"),
        (b"anthropic-ratelimit-requests-reset", b"2026-11-22T10:00:00Z"),
        (b"retry-after", b"7"),
        (b"request-id", b"req_\xc3\xa9"),
        (b"x-switchyard-request-id", b"req_1"),
    ]
