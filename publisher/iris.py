"""The IRIs cmpkg mints, built from the public base (see docs/iris.md)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

import pyoxigraph as ox
from rdflib import Namespace, URIRef

from publisher.namespaces import CMP_PATH, ONTOLOGY_PATH


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: "Lahille's bottlenose" -> "lahilles-bottlenose"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = ascii_text.replace("'", "")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def is_iri(text: str) -> bool:
    """Whether text is an IRI the store can hold (RFC 3987, as pyoxigraph checks it): a request's path may
    decode to characters no IRI has (a space, "<", "{", a control character, an invalid escape)."""
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


# The ASCII an IRI may hold after its authority (RFC 3987): "?" starts its query and "#" its fragment.
_IRI_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?#")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def iri_path(text: str) -> str:
    """text as the rest of an IRI after its authority, with each character no IRI may hold there (a space, a
    control character, one of <>"{}[]|^` or a backslash, a "%" that starts no escape, a second "#", a byte
    that is not UTF-8) percent-encoded as UTF-8: text that is valid already is left unchanged."""
    part, kept = "path", []
    for index, char in enumerate(text):
        if char == "%":
            keep = _PERCENT_ESCAPE.match(text, index) is not None
        elif char == "?":
            keep, part = True, "query" if part == "path" else part
        elif char == "#":
            keep, part = part != "fragment", "fragment"
        else:
            keep = _iri_char(char, part == "query")
        kept.append(char if keep else _escaped(char))
    return "".join(kept)


def _escaped(char: str) -> str:
    """A character percent-encoded as UTF-8; a byte of a file name that is not UTF-8 (which Python reads as
    a lone surrogate) as itself."""
    try:
        return quote(char, safe="", errors="surrogateescape")
    except UnicodeEncodeError:
        return quote(char, safe="", errors="surrogatepass")


def _iri_char(char: str, in_query: bool) -> bool:
    """Whether an IRI may hold the character (other than "%", "?" and "#") in its path, or in its query."""
    code = ord(char)
    if code < 0x80:
        return char in _IRI_ASCII
    ucschar = (
        0xA0 <= code <= 0xD7FF
        or 0xF900 <= code <= 0xFDCF
        or 0xFDF0 <= code <= 0xFFEF
        or (0x10000 <= code <= 0xEFFFD and code & 0xFFFF <= 0xFFFD and not 0xE0000 <= code <= 0xE0FFF)
    )
    private = 0xE000 <= code <= 0xF8FF or 0xF0000 <= code <= 0xFFFFD or 0x100000 <= code <= 0x10FFFD
    return ucschar or (in_query and private)


@dataclass(frozen=True)
class Iris:
    """Mints IRIs under one public base, which must end with '/'."""

    base: str

    def __post_init__(self) -> None:
        if not self.base.endswith("/"):
            raise ValueError(f"the base IRI must end with '/': {self.base!r}")

    def __call__(self, path: str) -> URIRef:
        return URIRef(self.base + path)

    @property
    def cmp(self) -> Namespace:
        """The ontology's namespace."""
        return Namespace(self.base + CMP_PATH)

    @property
    def ontology(self) -> URIRef:
        return self(ONTOLOGY_PATH)

    @property
    def programme(self) -> URIRef:
        return self("programme")

    def plan(self, period: str) -> URIRef:
        return self(f"plan/{period}")

    def plan_timeframe(self, period: str) -> URIRef:
        return self(f"plan/{period}/timeframe")

    def item(self, period: str, number: str) -> URIRef:
        return self(f"plan/{period}/{number}")

    def item_timeframe(self, period: str, number: str) -> URIRef:
        return self(f"plan/{period}/{number}/timeframe")

    def progress(self, period: str, number: str) -> URIRef:
        return self(f"plan/{period}/{number}/progress")

    def party(self, slug: str) -> URIRef:
        return self(f"party/{slug}")

    def country(self, alpha2: str) -> URIRef:
        return self(f"country/{alpha2.upper()}")

    def country_identifier(self, alpha2: str, scheme: str) -> URIRef:
        return self(f"country/{alpha2.upper()}/id/{scheme}")

    def vocab(self, scheme: str, concept: str | None = None) -> URIRef:
        return self(f"vocab/{scheme}" if concept is None else f"vocab/{scheme}/{concept}")

    def source(self, slug: str) -> URIRef:
        return self(f"source/{slug}")

    def graph(self, relative_path: str) -> URIRef:
        """The named graph holding one file of the project, e.g. graph/data/cmps; a character no IRI can
        hold there is percent-encoded (graph/data/my%20file), every other one kept (docs/iris.md)."""
        stem = relative_path.rsplit(".", 1)[0] if "." in relative_path.rsplit("/", 1)[-1] else relative_path
        return self(f"graph/{iri_path(stem)}")

    def relative(self, iri: str) -> str | None:
        """The path of an IRI under the base, or None for an IRI elsewhere."""
        return iri[len(self.base) :] if iri.startswith(self.base) else None
