"""Answers to conditional and range requests, as publisher/preconditions.py decides them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from flask import Response, request

from publisher.preconditions import Conditions, Outcome

CHUNK = 64 * 1024
# A 412 or 416 answers one request, not the resource: nothing that lets a cache store it or that describes a
# body it does not have.
NOT_FOR_ERRORS = (
    "Cache-Control",
    "Expires",
    "Content-Type",
    "Content-Location",
    "Content-Disposition",
    "Content-Range",
)


def conditions() -> Conditions:
    """The current request's precondition and range fields."""
    return Conditions.from_environ(request.environ)


def settle(
    response: Response, outcome: Outcome, part: Callable[[int, int], Iterable[bytes]] | None = None
) -> Response:
    """`response`, a 200 with the whole representation, made the answer `outcome` says: 304 and 412 without
    a body, 206 with the bytes `part(first, last)` gives, 416 with a line of text."""
    if outcome.status == 200:
        return response
    close = getattr(response.response, "close", None)
    if callable(close):
        close()  # an open file that will not be sent
    response.status_code = outcome.status
    if outcome.status == 206:
        assert part is not None  # a 206 only where the view offers ranges
        assert outcome.content_range is not None
        response.response = part(outcome.first, outcome.last)
        response.headers["Content-Range"] = outcome.content_range
        response.headers["Content-Length"] = str(outcome.last - outcome.first + 1)
        return response
    response.set_data(b"")
    if outcome.status == 304:
        return response  # werkzeug sends a 304 without the body's headers
    for name in NOT_FOR_ERRORS:
        response.headers.pop(name, None)
    if outcome.status == 416:
        assert outcome.content_range is not None
        response.set_data(f"Range not satisfiable: the representation is {outcome.length} bytes\n")
        response.content_type = "text/plain; charset=utf-8"
        response.headers["Content-Range"] = outcome.content_range
    return response


def file_part(path: Path, first: int, last: int) -> Iterator[bytes]:
    """Bytes first to last (inclusive) of a file, read a chunk at a time as they are sent."""
    with path.open("rb") as file:
        file.seek(first)
        left = last - first + 1
        while left > 0:
            chunk = file.read(min(left, CHUNK))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
