import email.utils

import pytest

from app.upstream.failures import RETRYABLE, FailureClass, classify_status, retry_after_seconds


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b"", None),
        (400, b'{"error":{"message":"bad"}}', FailureClass.CLIENT_ERROR),
        (404, b"", FailureClass.CLIENT_ERROR),
        (422, b"", FailureClass.CLIENT_ERROR),
        (401, b"", FailureClass.CREDENTIAL),
        (403, b"", FailureClass.CREDENTIAL),
        (402, b"", FailureClass.QUOTA),
        (429, b'{"error":{"code":"insufficient_quota"}}', FailureClass.QUOTA),
        (400, b'{"error":{"message":"Your credit balance is too low"}}', FailureClass.QUOTA),
        (429, b'{"error":{"code":"rate_limit_exceeded"}}', FailureClass.RATE_LIMIT),
        (503, b"", FailureClass.OVERLOADED),
        (529, b"", FailureClass.OVERLOADED),
        (500, b"", FailureClass.TRANSIENT),
        (502, b"", FailureClass.TRANSIENT),
        (504, b"", FailureClass.TRANSIENT),
        (408, b"", FailureClass.TIMEOUT),
    ],
)
def test_status_classes(status: int, body: bytes, expected: FailureClass | None) -> None:
    assert classify_status(status, body) is expected


def test_client_errors_and_credentials_do_not_fail_over() -> None:
    assert FailureClass.CLIENT_ERROR not in RETRYABLE
    assert FailureClass.CREDENTIAL not in RETRYABLE
    assert FailureClass.RATE_LIMIT in RETRYABLE


def test_retry_after_forms() -> None:
    assert retry_after_seconds({"retry-after": "7"}) == 7
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=1_000_000) == pytest.approx(30)
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({"retry-after": "-3"}) == 0
    assert retry_after_seconds({}) is None
