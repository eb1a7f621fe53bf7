"""A local token estimate, for when no upstream can count.

About four characters per token for English text and code, the ratio the
providers themselves quote; callers must label it an estimate.
"""

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    return max(1, -(-len(text) // CHARS_PER_TOKEN))


def estimate_request_tokens(texts: list[str]) -> int:
    """Estimate for a whole prompt given as its texts (system, messages, tool schemas)."""
    return estimate_tokens("\n".join(texts))
