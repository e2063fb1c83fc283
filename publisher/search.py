"""Finding entities by label: an index of every label of every entity under the base (no web imports).

Labels are rdfs:label, skos:prefLabel, skos:altLabel, dwc:scientificName, dwc:vernacularName and foaf:name.
Matching ignores case and accents ("peninsula" finds "Península"); a hit ranks by how the query meets its
best label: the whole label, then its beginning, then the beginning of a word, then anywhere, then every
query word somewhere in the label. The index is built once per data version and searched in memory.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from array import array
from dataclasses import dataclass
from enum import IntEnum

from publisher.packed import PackedStrings
from publisher.store import Store

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DWC = "http://rs.tdwg.org/dwc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
# In order of preference for the label a hit is shown with.
LABEL_PROPERTIES = (
    RDFS + "label",
    SKOS + "prefLabel",
    FOAF + "name",
    DWC + "scientificName",
    DWC + "vernacularName",
    SKOS + "altLabel",
)
MAX_QUERY_LENGTH = 200
# Labels ranked for one query at most: "a" meets most labels of a large graph, and ranking them all took
# 0.6 s at 1M triples, an easy way to load the server. Past it, the results say they are incomplete.
MAX_CANDIDATES = 10_000
_WORD = re.compile(r"\w+")


class Rank(IntEnum):
    """How well a query meets a label; lower is better."""

    EXACT = 0
    PREFIX = 1
    WORD = 2
    SUBSTRING = 3
    ALL_WORDS = 4


class SearchQueryError(ValueError):
    """A query cmpkg will not run (too long)."""


def normalise(text: str) -> str:
    """Case- and accent-free text with single spaces: "  Península  VALDÉS" -> "peninsula valdes"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def rank(query: str, label: str) -> Rank | None:
    """How the normalised query meets the normalised label, or None when it does not."""
    if label == query:
        return Rank.EXACT
    if label.startswith(query):
        return Rank.PREFIX
    position = label.find(query)
    while position >= 0:
        if position == 0 or not label[position - 1].isalnum():
            return Rank.WORD
        position = label.find(query, position + 1)
    if query in label:
        return Rank.SUBSTRING
    words = _WORD.findall(query)
    if len(words) > 1 and all(word in label for word in words):
        return Rank.ALL_WORDS
    return None


@dataclass(frozen=True)
class Label:
    text: str
    language: str
    property: str
    key: str  # normalise(text)


@dataclass(frozen=True)
class Entity:
    iri: str
    labels: tuple[Label, ...]  # best first (see LABEL_PROPERTIES; English or untagged first)
    types: tuple[str, ...]  # labels of its classes

    @property
    def label(self) -> str:
        return self.labels[0].text


@dataclass(frozen=True)
class Hit:
    entity: Entity
    rank: Rank
    matched: Label  # the label the query met best

    @property
    def iri(self) -> str:
        return self.entity.iri


@dataclass(frozen=True)
class Results:
    query: str
    hits: list[Hit]  # this page
    total: int  # with `complete` False, a lower bound
    page: int
    page_size: int
    complete: bool = True  # False: the query met more than MAX_CANDIDATES labels; only those were ranked

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


class SearchIndex:
    """Every labelled entity under the base, with its labels normalised once.

    At a million triples there are hundreds of thousands of labels, kept by every server process: they are
    held in a few flat arrays and joined strings rather than one object per label (a tenth of the memory,
    and pages that forked workers keep sharing, since no reference count is written to them). The Entity
    and Label objects of a hit are made when a page of results asks for them.

    The normalised labels are joined in one string (`_keys`, one per line), so finding the labels that
    contain the query is one str.find() per occurrence, not one comparison per label.
    """

    def __init__(self, entities: list[Entity]) -> None:
        self._iris = PackedStrings(entity.iri for entity in entities)
        self._texts = PackedStrings(label.text for entity in entities for label in entity.labels)
        kind_index: dict[tuple[str, str], int] = {}
        type_index: dict[tuple[str, ...], int] = {}
        self._label_kind = array("I")
        self._label_entity = array("I")
        self._first_label = array("I", [0])  # entity i's labels: _first_label[i] to _first_label[i + 1]
        self._entity_types = array("I")
        key_starts = array("I")
        keys: list[str] = []
        position = 0
        for index, entity in enumerate(entities):
            for label in entity.labels:
                kind = (label.language, label.property)
                self._label_kind.append(kind_index.setdefault(kind, len(kind_index)))
                self._label_entity.append(index)
                key_starts.append(position)
                keys.append(label.key)
                position += len(label.key) + 1
            self._first_label.append(len(self._label_entity))
            self._entity_types.append(type_index.setdefault(entity.types, len(type_index)))
        key_starts.append(position)
        self._key_starts = key_starts
        self._keys = "\n".join(keys)
        self._kinds = list(kind_index)  # distinct (language, property) pairs
        self._type_sets = list(type_index)  # distinct tuples of type labels

    def __len__(self) -> int:
        """The number of entities."""
        return len(self._iris)

    @classmethod
    def from_store(cls, store: Store, base: str) -> SearchIndex:
        values = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)
        labels: dict[str, set[Label]] = {}
        for row in store.query(f"""
            SELECT DISTINCT ?s ?p ?label {{
              VALUES ?p {{ {values} }}
              ?s ?p ?label
              FILTER (isIRI(?s) && isLiteral(?label) && STRSTARTS(STR(?s), {_string(base)}))
            }}"""):
            text = row["label"].value
            label = Label(text, row["label"].language or "", row["p"].value, normalise(text))
            if label.key:
                labels.setdefault(row["s"].value, set()).add(label)
        types = _type_labels(store, base)
        entities = [
            Entity(iri, tuple(sorted(found, key=_preference)), tuple(sorted(types.get(iri, ()))))
            for iri, found in labels.items()
        ]
        entities.sort(key=lambda e: (e.labels[0].key, e.iri))
        return cls(entities)

    def search(self, query: str, page: int = 1, page_size: int = 20) -> Results:
        """The entities whose labels meet the query, best first, one page of them."""
        if len(query) > MAX_QUERY_LENGTH:
            raise SearchQueryError(f"the query is longer than {MAX_QUERY_LENGTH} characters")
        key = normalise(query)
        if not key:
            return Results(query, [], 0, page, page_size)
        best: dict[int, tuple[Rank, int]] = {}  # entity -> (rank, label)
        candidates = self._containing(key)
        complete = len(candidates) <= MAX_CANDIDATES
        for label in candidates[:MAX_CANDIDATES]:
            found = rank(key, self._key(label))
            entity = self._label_entity[label]
            if found is not None and (entity not in best or found < best[entity][0]):
                best[entity] = (found, label)
        ordered = sorted(
            best.items(),
            key=lambda hit: (
                hit[1][0],
                len(self._key(hit[1][1])),
                self._key(self._first_label[hit[0]]),
                self._iris[hit[0]],
            ),
        )
        start = (page - 1) * page_size
        hits = [
            Hit(self._entity(entity), found, self._label(label))
            for entity, (found, label) in ordered[start : start + page_size]
        ]
        return Results(query, hits, len(ordered), page, page_size, complete)

    def _containing(self, key: str) -> list[int]:
        """The labels containing the query's longest word (every label it can meet contains that word), in
        index order; past MAX_CANDIDATES, one more and no others."""
        words = _WORD.findall(key)
        needle = max(words, key=len) if words else key
        found: dict[int, None] = {}
        position = self._keys.find(needle)
        while position >= 0 and len(found) <= MAX_CANDIDATES:
            found[bisect.bisect_right(self._key_starts, position) - 1] = None
            position = self._keys.find(needle, position + 1)
        return list(found)

    def _key(self, label: int) -> str:
        return self._keys[self._key_starts[label] : self._key_starts[label + 1] - 1]

    def _label(self, label: int) -> Label:
        language, prop = self._kinds[self._label_kind[label]]
        return Label(self._texts[label], language, prop, self._key(label))

    def _entity(self, entity: int) -> Entity:
        labels = range(self._first_label[entity], self._first_label[entity + 1])
        return Entity(
            self._iris[entity],
            tuple(self._label(label) for label in labels),
            self._type_sets[self._entity_types[entity]],
        )


def _preference(label: Label) -> tuple[int, int, str]:
    english = 0 if label.language in ("", "en") or label.language.startswith("en-") else 1
    return (LABEL_PROPERTIES.index(label.property), english, label.text)


def _type_labels(store: Store, base: str) -> dict[str, set[str]]:
    """Entity -> the labels (or local names) of its classes, for the entities with a label."""
    found: dict[str, set[str]] = {}
    for row in store.query(f"""
        SELECT DISTINCT ?s ?class (SAMPLE(?name) AS ?label) {{
          ?s a ?class
          FILTER (isIRI(?s) && STRSTARTS(STR(?s), {_string(base)}))
          OPTIONAL {{ ?class <{RDFS}label> ?name FILTER (LANG(?name) IN ("en", "")) }}
        }} GROUP BY ?s ?class"""):
        name = row["label"].value if row["label"] is not None else _local_name(row["class"].value)
        found.setdefault(row["s"].value, set()).add(name)
    return found


def _local_name(iri: str) -> str:
    return re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri


def _string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
