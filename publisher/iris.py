"""The IRIs cmpkg mints, built from the public base (see docs/iris.md)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rdflib import Namespace, URIRef

from publisher.namespaces import CMP_PATH, ONTOLOGY_PATH


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: "Lahille's bottlenose" -> "lahilles-bottlenose"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = ascii_text.replace("'", "")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


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
        """The named graph holding one file of the project, e.g. graph/data/cmps."""
        stem = relative_path.rsplit(".", 1)[0] if "." in relative_path.rsplit("/", 1)[-1] else relative_path
        return self(f"graph/{stem}")

    def relative(self, iri: str) -> str | None:
        """The path of an IRI under the base, or None for an IRI elsewhere."""
        return iri[len(self.base) :] if iri.startswith(self.base) else None
