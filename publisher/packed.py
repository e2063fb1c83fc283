"""Many strings kept as one: for the per-version caches every server process holds (sitemap paths, search
labels), which at a million triples are hundreds of thousands of strings.

One Python str per item costs about 50 bytes on top of its text and, in a forked worker, writes to the
page it lives on whenever it is used (its reference count), so the page stops being shared with the
other workers. A PackedStrings is one str and one array of offsets, whatever the number of items.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import overload


class PackedStrings(Sequence[str]):
    """An immutable sequence of strings stored as their concatenation and where each starts."""

    def __init__(self, strings: Iterable[str]) -> None:
        parts: list[str] = []
        starts = array("Q", [0])
        for string in strings:
            parts.append(string)
            starts.append(starts[-1] + len(string))
        self._joined = "".join(parts)
        self._starts = starts

    def __len__(self) -> int:
        return len(self._starts) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("PackedStrings index out of range")
        return self._joined[self._starts[index] : self._starts[index + 1]]
