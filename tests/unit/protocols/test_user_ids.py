"""End-user ids reach OpenAI upstreams within the 64 characters OpenAI accepts.

Claude Code's ``metadata.user_id`` is about 150 characters; OpenAI refuses a longer
``user`` with a 400 ("Invalid 'user': string too long. Expected a string with maximum
length 64"), so a translated Claude Code request would fail on every OpenAI account.
"""

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from app.canonical.content import TextPart
from app.canonical.names import openai_names
from app.canonical.request import Message, Request, Role
from app.protocols.openai_chat.encode import encode_request as encode_chat
from app.protocols.openai_responses.encode import encode_request as encode_responses
from app.protocols.user_ids import OPENAI_USER_MAX_LENGTH, openai_user

CLAUDE_CODE_USER = (
    "user_" + "5f0c2e8a9b7d4c1e" * 4 + "_account__session_8d3b6c1e-2f4a-4e7b-9c0d-5a6f7b8c9d0e"
)

Encoder = Callable[[Request], dict[str, Any]]
ENCODERS: dict[str, Encoder] = {
    "chat": lambda request: encode_chat(request, model="gpt-up", names=openai_names()),
    "responses": lambda request: encode_responses(request, model="gpt-up", names=openai_names()),
}


def _request(user: str) -> Request:
    return Request(model="m", messages=[Message(Role.USER, [TextPart("hi")])], user=user)


@pytest.mark.parametrize("api", ENCODERS)
def test_a_long_user_id_is_sent_as_its_sha256_digest(api: str) -> None:
    assert len(CLAUDE_CODE_USER) > OPENAI_USER_MAX_LENGTH
    body = ENCODERS[api](_request(CLAUDE_CODE_USER))
    assert body["user"] == hashlib.sha256(CLAUDE_CODE_USER.encode()).hexdigest()
    assert len(body["user"]) == OPENAI_USER_MAX_LENGTH


@pytest.mark.parametrize("api", ENCODERS)
def test_a_user_id_that_fits_is_sent_unchanged(api: str) -> None:
    fits = "u" * OPENAI_USER_MAX_LENGTH
    assert ENCODERS[api](_request(fits))["user"] == fits


def test_the_digest_is_stable_and_tells_users_apart() -> None:
    other = CLAUDE_CODE_USER.replace("session_8", "session_9")
    assert openai_user(CLAUDE_CODE_USER) == openai_user(CLAUDE_CODE_USER)
    assert openai_user(CLAUDE_CODE_USER) != openai_user(other)
