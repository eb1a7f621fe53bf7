"""End-user identifiers sized for OpenAI's ``user`` field, shared by both OpenAI encoders.

OpenAI's Chat Completions and Responses refuse a ``user`` longer than 64 characters
("Invalid 'user': string too long. Expected a string with maximum length 64"), while
an Anthropic client's ``metadata.user_id`` may hold up to 256: Claude Code sends about
150 (``user_<64 hex>_account_<uuid>_session_<uuid>``, or a JSON object in newer
releases). Passing that on would fail every translated Claude Code request with a 400.
"""

import hashlib

OPENAI_USER_MAX_LENGTH = 64


def openai_user(user: str) -> str:
    """``user`` as is when it fits, else its SHA-256 hex digest: exactly 64 characters and
    the same for the same user, so it still identifies the end user to OpenAI."""
    if len(user) <= OPENAI_USER_MAX_LENGTH:
        return user
    return hashlib.sha256(user.encode()).hexdigest()
