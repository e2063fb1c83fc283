"""SELECT results as a table for people: IRIs under the base link to their local page, with labels. No web
imports; the /queries pages (and any other HTML results page) render the Table this builds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from publisher.links import href_for, local_path
from publisher.store import Store

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
LABELS_QUERY = """
SELECT ?s ?label WHERE {{
  VALUES ?s {{ {iris} }}
  ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label .
}}"""
LABEL_BATCH = 500
# Rows an HTML table shows: a browser renders 10,000 rows slowly and no one reads them; the whole answer
# is one link away in CSV or JSON.
HTML_ROWS = 1_000


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    title: str | None = None  # the full IRI, or a literal's datatype or language


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Cell | None]]  # None: the variable is unbound in that row; the first HTML_ROWS
    total: int  # rows in the whole answer

    @property
    def complete(self) -> bool:
        return len(self.rows) == self.total


def result_table(solutions: Any, store: Store, base: str, link_root: str = "/") -> Table:
    """The first HTML_ROWS rows of a SELECT result with cells ready to render, and how many there are in
    all (link_root: where the base is served)."""
    columns = [variable.value for variable in solutions.variables]
    terms = []
    total = 0
    for solution in solutions:  # counted to the end, but only the shown rows are read
        if total < HTML_ROWS:
            terms.append([solution[column] for column in columns])
        total += 1
    labels = labels_of(store, {t.value for row in terms for t in row if isinstance(t, ox.NamedNode)}, base)
    rows = [[_cell(term, labels, base, link_root) for term in row] for row in terms]
    return Table(columns, rows, total)


def labels_of(store: Store, iris: Iterable[str], base: str) -> dict[str, str]:
    """The rdfs:label of each IRI that has one (the English or untagged one first)."""
    found: dict[str, tuple[int, str]] = {}
    ordered = sorted(iris)
    for start in range(0, len(ordered), LABEL_BATCH):
        batch = " ".join(str(ox.NamedNode(iri)) for iri in ordered[start : start + LABEL_BATCH])
        for solution in store.query(LABELS_QUERY.format(iris=batch), base_iri=base):
            subject, label = solution["s"], solution["label"]
            rank = 0 if label.language in (None, "en") else 1
            key = subject.value
            if key not in found or (rank, label.value) < found[key]:
                found[key] = (rank, label.value)
    return {iri: label for iri, (_, label) in found.items()}


def _cell(term: Any, labels: dict[str, str], base: str, link_root: str) -> Cell | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        iri = term.value
        return Cell(labels.get(iri, local_path(iri, base) or iri), href_for(iri, base, link_root), iri)
    if isinstance(term, ox.Literal):
        if term.language:
            return Cell(term.value, title=f"@{term.language}")
        datatype = term.datatype.value
        if datatype.startswith(XSD) and datatype != XSD + "string":
            return Cell(term.value, title="xsd:" + datatype[len(XSD) :])
        return Cell(term.value)
    return Cell(str(term))
