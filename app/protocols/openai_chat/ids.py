"""Ids in Chat Completions: tool-call ids, the carrier they hide, and minted ids.

Chat clients echo ``tool_calls[].id`` (and ``tool_call_id``) unchanged, and
Chat has no other field a client echoes, so a tool call's opaque provider
state (a Gemini ``thoughtSignature``, PROTOCOLS.md 5.11, E37) travels inside
the id: ``"<id>~" + carry(signature)`` (7.11, last paragraph). The client
decoder splits it back; upstream ids are never split.
"""

import hashlib
import secrets

from app.canonical.content import CARRIER_PREFIX, Provider, Signature, carry, read_signature

_CARRIED = "~" + CARRIER_PREFIX

# OpenAI rejects longer ids in history: "Invalid 'messages[3].tool_calls[0].id':
# string too long. Expected a string with maximum length 40" (agno-agi/agno#5382,
# microsoft/autogen#6377); Responses ``fc_``/``ws_`` ids and carried ids exceed it.
UPSTREAM_CALL_ID_LIMIT = 40


def join_call_id(call_id: str, signature: Signature | None) -> str:
    """The id a Chat client sees for a call, carrying its signature if any."""
    return call_id if signature is None else call_id + "~" + carry(signature)


def split_call_id(value: str) -> tuple[str, Signature | None]:
    """A client-echoed id as the plain id and the signature it carried."""
    head, found, tail = value.partition(_CARRIED)
    if not found or not head:
        return value, None
    signature = read_signature(CARRIER_PREFIX + tail, native=Provider.OPENAI)
    if signature.value.startswith(CARRIER_PREFIX):
        return value, None  # not a well-formed carrier: an ordinary id
    return head, signature


def upstream_call_id(call_id: str) -> str:
    """``call_id`` shortened deterministically to OpenAI's limit; the same
    function runs on the call and on its result, so the pair still matches."""
    if len(call_id) <= UPSTREAM_CALL_ID_LIMIT:
        return call_id
    digest = hashlib.sha256(call_id.encode()).hexdigest()
    return "call_" + digest[: UPSTREAM_CALL_ID_LIMIT - 5]


def mint_call_id() -> str:
    return "call_" + secrets.token_hex(12)


def mint_completion_id() -> str:
    return "chatcmpl-" + secrets.token_hex(12)
