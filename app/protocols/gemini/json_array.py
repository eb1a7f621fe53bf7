"""Elements of a JSON array that arrives in pieces (``streamGenerateContent`` without ``alt=sse``).

Gemini then streams one array, ``[{...}\\n,\\r\\n{...}\\n]``, each element a
whole ``GenerateContentResponse`` (PROTOCOLS.md 1.3, 5.8). The splitter
tracks only nesting depth and string state, so an element is handed out as
soon as its closing brace arrives, however the bytes were cut. A body that
is a single object rather than an array (an error from a proxy) counts as
one element too.
"""

import re

_STRUCTURE = re.compile(rb'["{}\[\]]')
_IN_STRING = re.compile(rb'["\\]')


class JSONArraySplitter:
    __slots__ = ("_base", "_buffer", "_depth", "_in_string", "_position", "_start", "closed")

    def __init__(self) -> None:
        self._buffer = b""
        self._position = 0  # next byte to scan
        self._depth = 0  # 0 outside the array, 1 between its elements, more inside one
        self._start = -1  # where the element being read starts
        self._base = 0  # the depth that element started at
        self._in_string = False
        self.closed = False  # the array's closing bracket arrived

    def feed(self, chunk: bytes) -> list[bytes]:
        self._buffer += chunk
        elements: list[bytes] = []
        while True:
            pattern = _IN_STRING if self._in_string else _STRUCTURE
            match = pattern.search(self._buffer, self._position)
            if match is None:
                self._position = len(self._buffer)
                break
            at, token = match.start(), match.group()
            if self._in_string and token == b"\\":
                if at + 1 == len(self._buffer):
                    self._position = at  # the escaped byte has not arrived yet
                    break
                self._position = at + 2
                continue
            self._position = at + 1
            if self._in_string:
                self._in_string = False
                continue
            element = self._structure(token, at)
            if element is not None:
                elements.append(element)
        self._trim()
        return elements

    @property
    def pending(self) -> bool:
        """An element has started and not ended: the bytes stopped inside it."""
        return self._start != -1

    def _structure(self, token: bytes, at: int) -> bytes | None:
        if token == b'"':
            self._in_string = True
            return None
        if self._start == -1:
            if token == b"{" or (token == b"[" and self._depth == 1):
                self._start, self._base = at, self._depth
                self._depth += 1
            elif token == b"[" and self._depth == 0:
                self._depth = 1
            elif token == b"]" and self._depth == 1:
                self._depth, self.closed = 0, True
            return None
        self._depth += 1 if token in (b"{", b"[") else -1
        if self._depth > self._base:
            return None
        element = self._buffer[self._start : at + 1]
        self._start = -1
        return element

    def _trim(self) -> None:
        keep = self._start if self._start != -1 else self._position
        if keep > 0:
            self._buffer = self._buffer[keep:]
            self._position -= keep
            if self._start != -1:
                self._start = 0
