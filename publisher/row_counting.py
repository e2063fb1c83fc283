"""Counting an answer's rows while it is written, to stop it past the result-row limit (no web imports).

Used by the embedded store (pyoxigraph serializes into a counter) and by remote stores (their answer's bytes
are fed to one as they arrive), so both count alike."""

from __future__ import annotations

import re
from typing import IO, ClassVar, cast

from publisher.formats import Format


class TooManyRows(Exception):
    """The answer has more rows than the limit: the writer stops here."""


class RowCounter:
    """A binary writer pyoxigraph serializes into, counting rows as the bytes come and stopping past a limit.

    Rows are counted by a separator the format writes once per row: exactly where the separator cannot occur
    inside a value (TSV and N-Triples escape newlines; XML escapes '<'), as an upper bound elsewhere.
    """

    # format name -> (separator, separators before the first row, exact)
    SEPARATORS: ClassVar[dict[str, tuple[bytes, int, bool]]] = {
        "tsv": (b"\n", 1, True),  # the header line, then a line per row
        "xml": (b"<result>", 0, True),
        "ntriples": (b"\n", 0, True),
        "json": (b"},{", -1, False),  # between rows; a literal may contain it too
        "csv": (b"\r\n", 1, False),  # a quoted literal may contain it too
    }

    def __init__(self, separator: bytes, offset: int, exact: bool, limit: int) -> None:
        self.separator, self.exact = separator, exact
        self.allowed = limit + offset  # separators allowed before the answer is over the limit
        self.count = 0
        self.chunks: list[bytes] = []
        self.tail = b""

    @classmethod
    def for_format(cls, fmt: Format, limit: int) -> RowCounter:
        separator, offset, exact = cls.SEPARATORS[fmt.name]
        return cls(separator, offset, exact, limit)

    @classmethod
    def for_answer_of(cls, fmt: Format, limit: int) -> RowCounter:
        """A counter for an answer another SPARQL engine wrote, which may space its JSON rows."""
        if fmt.name == "json":
            return _SpacedJsonRowCounter(*cls.SEPARATORS["json"], limit)
        return cls.for_format(fmt, limit)

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        self.count += self._separators_ending_in(chunk)
        if self.count > self.allowed:
            raise TooManyRows
        self.chunks.append(chunk)
        return len(chunk)

    def _separators_ending_in(self, chunk: bytes) -> int:
        """The separators this chunk completes, one begun at the end of the chunk before included."""
        text = self.tail + chunk  # the tail is shorter than the separator: nothing is counted twice
        self.tail = text[-(len(self.separator) - 1) :] if len(self.separator) > 1 else b""
        return text.count(self.separator)

    def flush(self) -> None:
        pass

    def stream(self) -> IO[bytes]:
        """This counter as the binary stream pyoxigraph writes to (it needs only write and flush)."""
        return cast(IO[bytes], self)

    def body(self) -> bytes:
        return b"".join(self.chunks)


class _SpacedJsonRowCounter(RowCounter):
    """JSON rows separated by "}", ",", "{" with any whitespace between (Virtuoso: "},\n    {")."""

    SEPARATOR = re.compile(rb"\}\s*,\s*\{")
    UNFINISHED = re.compile(rb"\}\s*,?\s*")  # what may start a separator the next chunk finishes

    def _separators_ending_in(self, chunk: bytes) -> int:
        text = self.tail + chunk  # the tail holds no whole separator: nothing is counted twice
        last = text.rfind(b"}")
        self.tail = text[last:] if last >= 0 and self.UNFINISHED.fullmatch(text, last) else b""
        return len(self.SEPARATOR.findall(text))
