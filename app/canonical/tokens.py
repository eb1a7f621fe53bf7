"""A local token estimate, for when no upstream can count.

About four characters per token for English text and code, the ratio the
providers themselves quote; callers must label it an estimate.
"""

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    return max(1, -(-len(text) // CHARS_PER_TOKEN))
