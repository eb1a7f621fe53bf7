"""Token usage in one shape, whatever protocol reported it.

Totals include their subsets, as OpenAI and Gemini count them: ``input_tokens``
holds every prompt token, cache reads and writes included; ``output_tokens``
holds every generated token, reasoning included. Anthropic reports cache
tokens *beside* ``input_tokens``; its decoder adds them in (PROTOCOLS.md 4.6,
7.13), so nothing is counted twice.
"""

from dataclasses import dataclass


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def uncached_input_tokens(self) -> int:
        return self.input_tokens - self.cache_read_tokens - self.cache_write_tokens

    def is_empty(self) -> bool:
        return self.input_tokens == 0 and self.output_tokens == 0
