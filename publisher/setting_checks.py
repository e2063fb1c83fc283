"""The values each setting accepts (config.py's SETTINGS table names one per setting): a test of a parsed
value and the words docs/settings.md and the error messages give for it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pyoxigraph as ox

_NOT_IN_IRIS = frozenset(' <>"{}|\\^`')  # RFC 3987: never in an IRI, even percent-encoded ones
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
ALLOWLIST_SEPARATORS = re.compile(r"[\s,]+")


def _no_problem(value: Any) -> str | None:
    return None


@dataclass(frozen=True)
class Check:
    """The values a setting accepts: `words` names them; `problem` says why a value is not one (None if it
    is, "" if the words say it all)."""

    words: str
    problem: Callable[[Any], str | None] = _no_problem


def at_least(minimum: float, words: str) -> Check:
    """A finite number no less than `minimum`."""
    return Check(words, lambda value: None if math.isfinite(value) and value >= minimum else "")


def positive(words: str) -> Check:
    """A finite number above 0."""
    return Check(words, lambda value: None if math.isfinite(value) and value > 0 else "")


def iri_reference_problem(text: str) -> str | None:
    """Why `text` is not an IRI reference (a character IRIs never hold, a bad %-escape), or None."""
    if not text:
        return ""
    for index, char in enumerate(text):
        if char in _NOT_IN_IRIS or ord(char) <= 0x20 or 0x7F <= ord(char) <= 0x9F:
            shown = "a space" if char == " " else repr(char) if char.isprintable() else f"U+{ord(char):04X}"
            return f"{shown} at character {index + 1}"
    escape = _BAD_PERCENT.search(text)
    if escape is not None:
        return f"'%' not followed by two hex digits at character {escape.start() + 1}"
    return None


def absolute_iri_problem(text: str) -> str | None:
    """Why `text` is not an absolute IRI (as Oxigraph, which loads the data, reads IRIs), or None."""
    problem = iri_reference_problem(text)
    if problem is not None:
        return problem
    if not _SCHEME.match(text):
        return "it has no scheme, like https:"
    try:
        ox.NamedNode(text)
    except ValueError as error:
        return str(error)
    return None


def http_url_problem(text: str) -> str | None:
    """Why `text` is not an absolute http(s) IRI with a host and a valid port, or None."""
    problem = absolute_iri_problem(text)
    if problem is not None:
        return problem
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"}:
        return f"its scheme is {parts.scheme}:, not http: or https:"
    if not parts.hostname:
        return "it has no host"
    try:
        parts.port  # noqa: B018 (urlsplit checks the port only when asked for it)
    except ValueError:
        return "its port is not a number from 0 to 65535"
    return None


def base_iri_problem(text: str) -> str | None:
    """Why `text` cannot be the public base (relative IRIs resolve against it, minted IRIs go under it)."""
    problem = http_url_problem(text)
    if problem is not None:
        return problem
    parts = urlsplit(text)
    if "#" in text:
        return f"it has a fragment ('#{parts.fragment}')"
    if "?" in text:
        return f"it has a query ('?{parts.query}')"
    if not text.endswith("/"):
        return "it does not end with '/'"
    return None


def _empty_or_http_url(text: str) -> str | None:
    return None if text == "" else http_url_problem(text)


def _allowlist_problem(text: str) -> str | None:
    """The first entry of a service_allowlist that is not an http(s) IRI, and why."""
    for entry in ALLOWLIST_SEPARATORS.split(text):
        problem = http_url_problem(entry) if entry else None
        if problem is not None:
            return f"{entry!r}: {problem}"
    return None


ANY_TEXT = Check("any text")
BOOLEAN = Check("true or false (also 1/0, yes/no, on/off)")
PATH = Check("a path (not empty)", lambda text: "" if not text else None)
BASE_IRI = Check(
    "an absolute http(s) IRI ending with '/' (like https://example.org/cmp/), with no query or fragment",
    base_iri_problem,
)
STORE_URL = Check("empty, or an http(s) URL like http://localhost:7878/query", _empty_or_http_url)
IRI = Check("an IRI (a relative one resolves against base_iri)", iri_reference_problem)
ALLOWLIST = Check("empty, or http(s) IRIs separated by spaces or commas", _allowlist_problem)
