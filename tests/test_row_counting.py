"""Rows counted in an answer as its bytes arrive, however the writer spaces them and wherever the chunks
split (publisher/row_counting.py): the result-row limit holds on what a remote store writes."""

from __future__ import annotations

import json

import pytest

from publisher.formats import JSON
from publisher.row_counting import RowCounter, TooManyRows

ROW = (
    '{ "s": { "type": "uri", "value": "http://example.org/%d" }\t, "n": { "type": "literal", "value": "x" }}'
)


def virtuoso_json(rows: int) -> bytes:
    """Results spaced as Virtuoso writes them: rows on lines of their own, "},\\n    {" between them."""
    bindings = ",\n    ".join(ROW % i for i in range(rows))
    head = (
        '{ "head": { "link": [], "vars": ["s", "n"] },\n  "results": { "distinct": false, "bindings": [\n    '
    )
    return (head + bindings + " ] } }").encode()


def compact_json(rows: int) -> bytes:
    bindings = [{"s": {"type": "uri", "value": f"http://example.org/{i}"}} for i in range(rows)]
    return json.dumps(
        {"head": {"vars": ["s"]}, "results": {"bindings": bindings}}, separators=(",", ":")
    ).encode()


def fed(counter: RowCounter, body: bytes, size: int) -> RowCounter:
    for start in range(0, len(body), size):
        counter.write(body[start : start + size])
    return counter


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("write", [virtuoso_json, compact_json])
def test_rows_are_counted_wherever_the_chunks_split(size: int, write: object) -> None:
    body = write(5)  # type: ignore[operator]
    assert json.loads(body)  # well-formed
    counter = fed(RowCounter.for_answer_of(JSON, 5), body, size)
    assert counter.count == 4  # separators: one between each two rows
    assert counter.body() == body
    with pytest.raises(TooManyRows):
        fed(RowCounter.for_answer_of(JSON, 4), body, size)


def test_the_embedded_stores_counter_misses_spaced_rows() -> None:
    """Why answers from other engines get their own counter."""
    assert fed(RowCounter.for_format(JSON, 10), virtuoso_json(5), 64).count == 0
