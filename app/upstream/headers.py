"""Response headers as the gateway reads them."""

from collections.abc import ItemsView, Iterator, Mapping, Sequence, ValuesView


class ResponseHeaders(Mapping[str, str]):
    """Case-insensitive; a header sent more than once keeps every value: ``[name]`` and
    ``get`` give the first, ``getall`` each, and iteration, ``items()`` and ``values()`` go
    over every line as received (like the multidict aiohttp returned)."""

    __slots__ = ("_first", "_lines")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._lines = [
            (name.decode("latin-1"), value.decode("utf-8", "surrogateescape"))
            for name, value in raw
        ]
        self._first: dict[str, str] | None = None

    def _index(self) -> dict[str, str]:
        if self._first is None:
            self._first = {}
            for name, value in self._lines:
                self._first.setdefault(name.lower(), value)
        return self._first

    def __getitem__(self, name: str) -> str:
        return self._index()[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index()

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    def getall(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self._lines if key.lower() == wanted]

    def items(self) -> ItemsView[str, str]:
        return _Lines(self)

    def values(self) -> ValuesView[str]:
        return _Values(self)

    def lines(self) -> Sequence[tuple[str, str]]:
        """Every (name, value) as received."""
        return self._lines

    def __repr__(self) -> str:
        return f"ResponseHeaders({self._lines!r})"


class _Lines(ItemsView[str, str]):
    __slots__ = ("_lines",)

    def __init__(self, headers: ResponseHeaders) -> None:
        super().__init__(headers)
        self._lines = headers.lines()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._lines)


class _Values(ValuesView[str]):
    __slots__ = ("_lines",)

    def __init__(self, headers: ResponseHeaders) -> None:
        super().__init__(headers)
        self._lines = headers.lines()

    def __iter__(self) -> Iterator[str]:
        return (value for _, value in self._lines)
