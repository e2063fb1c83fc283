"""A VoID and DCAT description of the dataset, generated from the live store (no web imports).

`dataset_statistics()` reads the numbers from the store (a few seconds on a million triples, so callers keep
the result per data version); `describe_dataset()` turns them, with what the data cannot say (title,
licence, publisher: DatasetInfo), into triples. The description's IRIs hang off `{base}void`, the document
that serves it: the dataset is `{base}void#dataset`, its partitions and linksets `{base}void#...`.
Triple counts count each triple once, however many files state it (the union graph is a set).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyoxigraph as ox

from publisher.dumps import DUMPS, DumpKind
from publisher.iris import Iris
from publisher.namespaces import EXTERNAL_PREFIXES
from publisher.store import Store

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
FOAF = "http://xmlns.com/foaf/0.1/"
XSD = "http://www.w3.org/2001/XMLSchema#"
IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
SPARQL_PROTOCOL = "https://www.w3.org/TR/sparql11-protocol/"
VOID_PATH = "void"
SPARQL_PATH = "sparql"
DUMP_PATH = "dump/"
PREFIXES = {"void": VOID, "dcat": DCAT, **EXTERNAL_PREFIXES}
# Instances of these classes (relative to the base, or absolute) are offered as example resources.
EXAMPLE_CLASSES = (
    "ontology#ActionPlan",
    "ontology#ConservationManagementPlan",
    "ontology#SubTask",
    "ontology#Body",
    "ontology#Country",
    "http://rs.tdwg.org/dwc/terms/Taxon",
)


@dataclass(frozen=True)
class LinkTarget:
    """An external dataset we link to, recognised by the IRI prefix of its entities."""

    slug: str
    name: str
    prefix: str
    homepage: str


LINK_TARGETS = (
    LinkTarget("wikidata", "Wikidata", "http://www.wikidata.org/entity/", "https://www.wikidata.org/"),
    LinkTarget(
        "worms",
        "World Register of Marine Species (WoRMS)",
        "https://www.marinespecies.org/aphia.php?p=taxdetails&id=",
        "https://www.marinespecies.org/",
    ),
    LinkTarget("itis", "ITIS", "https://www.itis.gov/servlet/SingleRpt/", "https://www.itis.gov/"),
    LinkTarget(
        "catalogue-of-life",
        "Catalogue of Life",
        "https://www.catalogueoflife.org/data/taxon/",
        "https://www.catalogueoflife.org/",
    ),
    LinkTarget("eol", "Encyclopedia of Life", "https://eol.org/pages/", "https://eol.org/"),
)


@dataclass(frozen=True)
class DatasetInfo:
    """What the description says that the data cannot: title, licence, publisher, when the data changed."""

    title: str
    description: str
    license: str  # IRI
    publisher: str  # IRI of the publishing agent
    modified: datetime | None = None
    dumps: tuple[DumpKind, ...] = DUMPS


@dataclass(frozen=True)
class Partition:
    iri: str  # the class or property
    entities: int  # instances (class partitions) or triples (property partitions)


@dataclass(frozen=True)
class LinkCount:
    target: LinkTarget
    predicate: str
    triples: int


@dataclass(frozen=True)
class DatasetStatistics:
    """The numbers VoID gives, read from the store."""

    triples: int
    entities: int  # distinct IRIs under the base that are subjects
    distinct_subjects: int
    distinct_objects: int
    classes: list[Partition]  # class -> distinct instances, by IRI
    properties: list[Partition]  # property -> distinct triples, by IRI
    links: list[LinkCount]  # by target, then predicate
    examples: list[tuple[str, str]] = field(default_factory=list)  # IRI, label
    root: str | None = None  # the programme, when the data has it


def dataset_statistics(store: Store, iris: Iris) -> DatasetStatistics:
    """Triple, entity, class, property and link counts, and example resources, from the store."""
    base = _string(iris.base)
    properties = [
        Partition(row["p"].value, _int(row["n"]))
        for row in store.query(
            "SELECT ?p (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } } GROUP BY ?p"
        )
    ]
    properties.sort(key=lambda p: p.iri)
    classes = [
        Partition(row["c"].value, _int(row["n"]))
        for row in store.query("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) { ?s a ?c } GROUP BY ?c")
        if isinstance(row["c"], ox.NamedNode)
    ]
    classes.sort(key=lambda c: c.iri)
    counts = _one_row(
        store,
        f"""SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects)
                   (COUNT(DISTINCT ?entity) AS ?entities)
            {{ ?s ?p ?o BIND (IF(isIRI(?s) && STRSTARTS(STR(?s), {base}), ?s, ?unbound) AS ?entity) }}""",
    )
    root = iris.programme
    has_root = bool(store.query(f"ASK {{ <{root}> ?p ?o }}"))
    return DatasetStatistics(
        triples=sum(p.entities for p in properties),
        entities=_int(counts["entities"]),
        distinct_subjects=_int(counts["subjects"]),
        distinct_objects=_int(counts["objects"]),
        classes=classes,
        properties=properties,
        links=_link_counts(store, iris),
        examples=_examples(store, iris),
        root=str(root) if has_root else None,
    )


def _link_counts(store: Store, iris: Iris) -> list[LinkCount]:
    """Distinct triples from an entity under the base to an entity of each target, per predicate."""
    target = "?none"
    for index, link in reversed(list(enumerate(LINK_TARGETS))):
        target = f"IF(STRSTARTS(STR(?o), {_string(link.prefix)}), {index}, {target})"
    base = _string(iris.base)
    rows = store.query(f"""
        SELECT ?target ?p (COUNT(*) AS ?n) {{
          {{ SELECT DISTINCT ?s ?p ?o {{ ?s ?p ?o FILTER (isIRI(?o) && STRSTARTS(STR(?s), {base})) }} }}
          BIND ({target} AS ?target)
          FILTER (BOUND(?target))
        }} GROUP BY ?target ?p""")
    counts = [LinkCount(LINK_TARGETS[_int(row["target"])], row["p"].value, _int(row["n"])) for row in rows]
    counts.sort(key=lambda c: (LINK_TARGETS.index(c.target), c.predicate))
    return counts


def _examples(store: Store, iris: Iris) -> list[tuple[str, str]]:
    """The first instance (by IRI) of each example class that has any, with its label."""
    classes = [cls if "://" in cls else iris.base + cls for cls in EXAMPLE_CLASSES]
    values = " ".join(f"<{cls}>" for cls in classes)
    rows = store.query(f"""
        SELECT ?c (MIN(STR(?s)) AS ?first) {{ VALUES ?c {{ {values} }} ?s a ?c FILTER isIRI(?s) }}
        GROUP BY ?c""")
    first = {row["c"].value: row["first"].value for row in rows}
    examples = [first[cls] for cls in classes if cls in first]
    labels: dict[str, str] = {}
    if examples:
        for row in store.query(f"""
            SELECT ?s (SAMPLE(?label) AS ?name) {{
              VALUES ?s {{ {" ".join(f"<{iri}>" for iri in examples)} }}
              ?s <{RDFS}label>|<http://www.w3.org/2004/02/skos/core#prefLabel> ?label
            }} GROUP BY ?s"""):
            labels[row["s"].value] = row["name"].value
    return [(iri, labels.get(iri, iri)) for iri in examples]


def void_description(store: Store, iris: Iris, info: DatasetInfo) -> list[ox.Triple]:
    """VoID + DCAT for the data in the store (see describe_dataset)."""
    return describe_dataset(dataset_statistics(store, iris), iris, info)


def describe_dataset(stats: DatasetStatistics, iris: Iris, info: DatasetInfo) -> list[ox.Triple]:
    """VoID + DCAT: sizes, class and property partitions, linksets, endpoint, dumps, examples, licence,
    publisher, modification date."""
    out = _TripleList()
    document, dataset = _node(iris, VOID_PATH), dataset_iri(iris)
    out.add(document, RDF + "type", _node(VOID + "DatasetDescription"))
    out.add(document, DCT + "title", ox.Literal(f"VoID description of {info.title}", language="en"))
    out.add(document, FOAF + "primaryTopic", dataset)

    out.add(dataset, RDF + "type", _node(VOID + "Dataset"))
    out.add(dataset, RDF + "type", _node(DCAT + "Dataset"))
    out.add(dataset, DCT + "title", ox.Literal(info.title, language="en"))
    out.add(dataset, RDFS + "label", ox.Literal(info.title, language="en"))
    out.add(dataset, DCT + "description", ox.Literal(info.description, language="en"))
    out.add(dataset, DCT + "license", _node(info.license))
    out.add(dataset, DCT + "publisher", _node(info.publisher))
    if info.modified is not None:
        out.add(
            dataset, DCT + "modified", ox.Literal(_instant(info.modified), datatype=_node(XSD + "dateTime"))
        )
    out.add(dataset, FOAF + "homepage", _node(iris.base))
    out.add(dataset, DCAT + "landingPage", _node(iris.base))
    out.add(dataset, VOID + "uriSpace", ox.Literal(iris.base))
    if stats.root is not None:
        out.add(dataset, VOID + "rootResource", _node(stats.root))
    for example, _ in stats.examples:
        out.add(dataset, VOID + "exampleResource", _node(example))
    for namespace in _vocabularies(stats, iris):
        out.add(dataset, VOID + "vocabulary", _node(namespace))

    out.add(dataset, VOID + "triples", _integer(stats.triples))
    out.add(dataset, VOID + "entities", _integer(stats.entities))
    out.add(dataset, VOID + "distinctSubjects", _integer(stats.distinct_subjects))
    out.add(dataset, VOID + "distinctObjects", _integer(stats.distinct_objects))
    out.add(dataset, VOID + "properties", _integer(len(stats.properties)))
    out.add(dataset, VOID + "classes", _integer(len(stats.classes)))
    for cls in stats.classes:
        partition = _node(iris, f"{VOID_PATH}#class-{_slug(cls.iri, iris)}")
        out.add(dataset, VOID + "classPartition", partition)
        out.add(partition, VOID + "class", _node(cls.iri))
        out.add(partition, VOID + "entities", _integer(cls.entities))
    for prop in stats.properties:
        partition = _node(iris, f"{VOID_PATH}#property-{_slug(prop.iri, iris)}")
        out.add(dataset, VOID + "propertyPartition", partition)
        out.add(partition, VOID + "property", _node(prop.iri))
        out.add(partition, VOID + "triples", _integer(prop.entities))

    _add_linksets(out, stats, iris, dataset)
    _add_access(out, iris, dataset, info)
    return out.triples


def dataset_iri(iris: Iris) -> ox.NamedNode:
    return _node(iris, f"{VOID_PATH}#dataset")


def linkset_iri(iris: Iris, link: LinkCount) -> ox.NamedNode:
    return _node(iris, f"{VOID_PATH}#linkset-{link.target.slug}-{_slug(link.predicate, iris)}")


def _add_linksets(out: _TripleList, stats: DatasetStatistics, iris: Iris, dataset: ox.NamedNode) -> None:
    targets: dict[str, LinkTarget] = {}
    for link in stats.links:
        linkset, target = linkset_iri(iris, link), _node(iris, f"{VOID_PATH}#{link.target.slug}")
        targets[link.target.slug] = link.target
        out.add(dataset, VOID + "subset", linkset)
        out.add(linkset, RDF + "type", _node(VOID + "Linkset"))
        out.add(linkset, VOID + "subjectsTarget", dataset)
        out.add(linkset, VOID + "objectsTarget", target)
        out.add(linkset, VOID + "linkPredicate", _node(link.predicate))
        out.add(linkset, VOID + "triples", _integer(link.triples))
    for slug, external in targets.items():
        target = _node(iris, f"{VOID_PATH}#{slug}")
        out.add(target, RDF + "type", _node(VOID + "Dataset"))
        out.add(target, RDFS + "label", ox.Literal(external.name, language="en"))
        out.add(target, FOAF + "homepage", _node(external.homepage))
        out.add(target, VOID + "uriSpace", ox.Literal(external.prefix))


def _add_access(out: _TripleList, iris: Iris, dataset: ox.NamedNode, info: DatasetInfo) -> None:
    """The SPARQL endpoint (a DCAT data service) and the dumps (distributions)."""
    service = _node(iris, SPARQL_PATH)
    out.add(dataset, VOID + "sparqlEndpoint", service)
    out.add(dataset, DCAT + "accessService", service)
    out.add(service, RDF + "type", _node(DCAT + "DataService"))
    out.add(service, DCT + "title", ox.Literal("SPARQL 1.1 endpoint", language="en"))
    out.add(service, DCAT + "endpointURL", service)
    out.add(service, DCAT + "servesDataset", dataset)
    out.add(service, DCT + "conformsTo", _node(SPARQL_PROTOCOL))
    for dump in info.dumps:
        url = _node(iris, DUMP_PATH + dump.name)
        out.add(dataset, VOID + "dataDump", url)
        out.add(dataset, DCAT + "distribution", url)
        out.add(url, RDF + "type", _node(DCAT + "Distribution"))
        out.add(url, DCT + "title", ox.Literal(dump.title, language="en"))
        out.add(url, DCAT + "downloadURL", url)
        out.add(url, DCAT + "accessURL", url)
        out.add(url, DCAT + "mediaType", _node(IANA_MEDIA_TYPES + dump.format.media_type))
        if dump.compressed:
            out.add(url, DCAT + "compressFormat", _node(IANA_MEDIA_TYPES + "application/gzip"))
        out.add(url, DCT + "license", _node(info.license))


def _vocabularies(stats: DatasetStatistics, iris: Iris) -> list[str]:
    """The namespaces (ours and the known external ones) of the classes and properties the data uses."""
    known = [str(iris.cmp), *EXTERNAL_PREFIXES.values()]
    used = [part.iri for part in stats.classes + stats.properties]
    return sorted({namespace for namespace in known for iri in used if iri.startswith(namespace)})


def prefixed_name(iri: str, iris: Iris) -> str | None:
    """The prefixed name ("cmp:Action") of a class or property in a namespace cmpkg knows, else None."""
    for prefix, namespace in (("cmp", str(iris.cmp)), *EXTERNAL_PREFIXES.items()):
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", local):
            return f"{prefix}:{local}"
    return None


def _slug(iri: str, iris: Iris) -> str:
    """A fragment naming a class or property: its prefixed name ("cmp-Action"), else a hash of the IRI."""
    name = prefixed_name(iri, iris)
    return name.replace(":", "-") if name else hashlib.sha256(iri.encode()).hexdigest()[:12]


def _instant(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class _TripleList:
    """Triples grouped by subject (in the order subjects first appear), so Turtle writes each once."""

    def __init__(self) -> None:
        self._by_subject: dict[ox.NamedNode, list[ox.Triple]] = {}

    def add(self, subject: ox.NamedNode, predicate: str, obj: ox.NamedNode | ox.Literal) -> None:
        self._by_subject.setdefault(subject, []).append(ox.Triple(subject, ox.NamedNode(predicate), obj))

    @property
    def triples(self) -> list[ox.Triple]:
        return [triple for group in self._by_subject.values() for triple in group]


def _node(iri_or_iris: str | Iris, path: str = "") -> ox.NamedNode:
    if isinstance(iri_or_iris, Iris):
        return ox.NamedNode(str(iri_or_iris(path)))
    return ox.NamedNode(iri_or_iris + path)


def _one_row(store: Store, sparql: str) -> Any:
    return next(iter(store.query(sparql)))


def _int(term: Any) -> int:
    return int(term.value)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def _string(text: str) -> str:
    """A SPARQL string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
