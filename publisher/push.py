"""`cmpkg push`: the project's graph into a SPARQL 1.1 store, one named graph per file, all replaced at once;
and `cmpkg validate --endpoint`: the same SHACL validation over what a live store holds. No web imports.

A push validates first (violations stop it: nothing is sent), then loads every graph into a staging graph of
its own (`urn:cmpkg:staging:<push>:<n>`, which no query of cmpkg's sees), then swaps them all in with ONE
SPARQL Update operation (DELETE the old graphs' triples, INSERT the staged ones, and the metadata graph with
the new version). One operation, because stores differ on requests of several: Oxigraph runs a whole request
in one transaction, Virtuoso commits each operation on its own (a failing second operation leaves the first
done), but both run a single operation all or nothing. A push that fails or is killed before the swap leaves
the previous data served; its staging graphs are dropped then, or by the next push.

A URL that answers 200 to anything (a web server, not the store's) must not pass for a store: the staging
graphs are counted before the swap (swapping in empty ones would empty the store), and the metadata graph is
read back after it (an update that went nowhere changes nothing).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib import Graph

from publisher.iris import Iris
from publisher.rdf_files import RdfFile, read_quads, to_rdflib
from publisher.remote_store import (
    META_GRAPH,
    STAGING_PREFIX,
    RemoteSnapshot,
    contact_store,
    meta_triples,
    read_state,
    select_rows,
)
from publisher.site import Site
from publisher.sparql_client import Reply, SparqlClient
from publisher.store import data_version, project_files

if TYPE_CHECKING:
    from publisher.validation import Report

UPDATE_TRIPLES = 1000  # triples per INSERT DATA request when there is no Graph Store Protocol URL
PUSH_TIMEOUT = 600.0  # seconds one request of a push may take

Checkpoint = Callable[[str], None]  # told each step's name as it begins ("stage <graph>", "swap")


class PushError(Exception):
    """A push that did not replace the data; the store still serves what it served before."""


class PushRefusedError(PushError):
    """The data fails validation, so nothing was sent."""


@dataclass
class PushReport:
    graphs: list[tuple[str, str, int]] = field(default_factory=list)  # file, graph IRI, triples
    removed: list[str] = field(default_factory=list)  # graphs of an earlier push no file gives now
    version: str = ""
    seconds: float = 0.0

    @property
    def triples(self) -> int:
        return sum(count for _, _, count in self.graphs)


@dataclass
class _Staging:
    """A push's staging graphs: the graph each stands for, the triples sent to it, the store's last answer."""

    prefix: str
    graphs: dict[str, str] = field(default_factory=dict)  # graph -> its staging graph
    sent: dict[str, int] = field(default_factory=dict)  # staging graph -> distinct triples sent to it
    answers: dict[str, Reply] = field(default_factory=dict)  # staging graph -> the answer to its last load
    by_update: set[str] = field(default_factory=set)  # staging graphs loaded by SPARQL Update

    def load(
        self,
        client: SparqlClient,
        graph: str,
        triples: list[ox.Triple],
        name: str = "",
        by_update: bool = False,
    ) -> None:
        """Triples into the graph's staging graph (replaced; added to for a graph loaded before), by the
        Graph Store Protocol if there is a URL for it, unless by_update."""
        first = graph not in self.graphs
        staging = self.graphs.setdefault(graph, f"{self.prefix}{name or len(self.graphs)}")
        by_update = by_update or not client.location.gsp_url
        answer = _load(client, staging, triples, replace_graph=first, gsp=not by_update)
        self.sent[staging] = max(self.sent.get(staging, 0), len(set(triples)))
        if answer is not None:
            self.answers[staging] = answer
        if by_update:
            self.by_update.add(staging)


def push(
    site: Site,
    iris: Iris,
    client: SparqlClient,
    extra: Sequence[Path] = (),
    validate: bool = True,
    checkpoint: Checkpoint | None = None,
) -> PushReport:
    """Validate the project (+ extra files), load it into the store and swap it in; PushError on failure."""
    started = time.perf_counter()
    step = checkpoint or (lambda _: None)
    files = project_files(site, extra, iris)
    if validate:
        _refuse_violations(site, iris, extra)
    base = iris.base
    report = PushReport()
    report.version, modified = data_version(files)
    contact_store(client, client.timeout)  # a short timeout: a store that does not answer is said at once
    previous = read_state(client, base, PUSH_TIMEOUT)
    staging = _Staging(f"{STAGING_PREFIX}{uuid.uuid4().hex}:")
    what = "dropping the staging graphs an earlier push left"
    try:
        _drop_graphs(client, _leftover_staging(client))
        for file in files:
            what = f"loading {file.name}"
            for graph, triples in _triples_by_graph(file, iris).items():
                step(f"stage {graph}")
                staging.load(client, graph, triples)
                report.graphs.append((file.name, graph, len(triples)))
        meta = base + META_GRAPH
        what = "writing the metadata graph"
        graphs = sorted(set(staging.graphs) - {meta})
        # By SPARQL Update even with a Graph Store URL: the check before the swap then tries both URLs.
        meta_graph = meta_triples(base, report.version, modified, graphs)
        staging.load(client, meta, meta_graph, name="meta", by_update=True)
        report.removed = sorted(set(previous.graphs) - set(staging.graphs)) if previous.pushed else []
        what = "checking the staged graphs"
        _check_staged(client, staging)
        what = "swapping the new graphs in"
        step("swap")
        answer = client.update(_swap(staging.graphs, report.removed), PUSH_TIMEOUT)
        what = "checking the swap"
        _check_swapped(client, base, (report.version, graphs), answer)
    except PushError:
        raise
    except Exception as error:
        raise PushError(
            f"push failed while {what}: {error}; the store still serves the previous data"
        ) from None
    finally:
        with contextlib.suppress(Exception):  # what is left, the next push drops
            _drop_graphs(client, list(staging.graphs.values()))
    report.seconds = time.perf_counter() - started
    return report


class _NotApplied(Exception):
    """A request the store answered as if it had done it, and did not."""


def _check_staged(client: SparqlClient, staging: _Staging) -> None:
    """Refuse to swap unless every staging graph holds the triples sent to it: a URL answering 200 to anything
    (not the store's) stores nothing, and swapping in its empty graphs would empty the store."""
    held = _sizes(client, list(staging.sent))
    short = [
        staging_graph for staging_graph, sent in staging.sent.items() if held.get(staging_graph, 0) < sent
    ]
    if not short:
        return
    first = short[0]
    graph = next(graph for graph, staging_graph in staging.graphs.items() if staging_graph == first)
    location = client.location
    if first in staging.by_update:
        did, url, role = "write", f"the update URL {location.updates}", "update URL"
    else:
        did, url, role = "store", f"the Graph Store URL {location.gsp_url}", "Graph Store Protocol URL"
    others = f"; {len(short) - 1} more graph(s) are short" if len(short) > 1 else ""
    raise _NotApplied(
        f"{url} did not {did} graph <{graph}>: it holds {held.get(first, 0)} of the {staging.sent[first]} "
        f"triples sent (the URL answered {_answered(staging.answers.get(first))}: is it the store's {role}?)"
        f"{others}"
    )


def _check_swapped(client: SparqlClient, base: str, expected: tuple[str, list[str]], answer: Reply) -> None:
    """Refuse to report a push whose swap the store did not apply (its metadata graph has not the new version
    and graphs): an update URL answering 200 to anything changes nothing."""
    version, graphs = expected
    try:
        state = read_state(client, base, PUSH_TIMEOUT)
    except Exception as error:
        raise PushError(
            f"push sent the swap, but the store's data version could not be read back ({error}): it serves "
            "the previous data or the new; push again"
        ) from None
    if state.version != version or sorted(state.graphs) != graphs:
        found = f"version {state.version}" if state.pushed else "no metadata graph"
        raise _NotApplied(
            f"the update URL {client.location.updates} did not apply the update: the store has {found}, not "
            f"version {version} (the URL answered {_answered(answer)}: is it the store's update URL?)"
        )


def _sizes(client: SparqlClient, graphs: list[str]) -> dict[str, int]:
    """The number of triples in each of these graphs (those with none are left out)."""
    values = " ".join(f"<{graph}>" for graph in graphs)
    count = (
        f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g"
    )
    rows = select_rows(client, count, PUSH_TIMEOUT)
    return {row["g"].value: int(row["n"].value) for row in rows}


def _answered(reply: Reply | None) -> str:
    """A store's answer in a message: its status and media type."""
    if reply is None:
        return "nothing"
    return f"{reply.status} {reply.content_type or '(no Content-Type)'}"


def _refuse_violations(site: Site, iris: Iris, extra: Sequence[Path]) -> None:
    from publisher.validation import validate_site  # pySHACL loads only when a push validates

    found = validate_site(site, iris, list(extra))
    if found.violations:
        shown = "; ".join(
            f"{r.file or '?'}:{r.line or '?'}: <{r.focus}>: {r.message}" for r in found.violations[:5]
        )
        raise PushRefusedError(
            f"validation found {len(found.violations)} violation(s), so nothing was pushed: {shown}"
        )


def _triples_by_graph(file: RdfFile, iris: Iris) -> dict[str, list[ox.Triple]]:
    """A file's triples by the named graph they go to (its own; quads keep the graph they name)."""
    own = ox.NamedNode(str(iris.graph(file.name)))
    graphs: dict[str, list[ox.Triple]] = {own.value: []}
    for quad in read_quads(file, iris.base, own):
        if isinstance(quad.graph_name, ox.NamedNode):
            graphs.setdefault(quad.graph_name.value, []).append(quad.triple)
    return graphs


def _load(
    client: SparqlClient, graph: str, triples: list[ox.Triple], replace_graph: bool = True, gsp: bool = True
) -> Reply | None:
    """Triples into a (staging) graph: one Graph Store Protocol request (if gsp and there is a URL), or SPARQL
    Update requests; the store's answer to the last (None when nothing was sent)."""
    if gsp and client.location.gsp_url:
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        return client.put_graph(graph, body, "application/n-triples", PUSH_TIMEOUT, append=not replace_graph)
    answer = None
    plain = [t for t in triples if not _has_blank_node(t)]
    for start in range(0, len(plain), UPDATE_TRIPLES):
        chunk = _ntriples(plain[start : start + UPDATE_TRIPLES])
        answer = client.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{chunk}}} }}", PUSH_TIMEOUT)
    blank = [t for t in triples if _has_blank_node(t)]
    if blank:
        # Blank nodes are scoped to one request, so a graph's triples with blank nodes go in one; INSERT ...
        # WHERE {} rather than INSERT DATA, which Virtuoso refuses blank nodes in.
        answer = client.update(
            f"INSERT {{ GRAPH <{graph}> {{\n{_ntriples(blank)}}} }} WHERE {{}}", PUSH_TIMEOUT
        )
    return answer


def _has_blank_node(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def _ntriples(triples: list[ox.Triple]) -> str:
    return (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")


def _swap(staged: dict[str, str], removed: list[str]) -> str:
    """One DELETE/INSERT operation: the graphs' old triples out, the staged ones in."""
    old = " ".join(f"<{graph}>" for graph in [*staged, *removed])
    pairs = " ".join(f"(<{staging}> <{graph}>)" for graph, staging in staged.items())
    return (
        "DELETE { GRAPH ?old { ?s ?p ?o } } INSERT { GRAPH ?new { ?s2 ?p2 ?o2 } } WHERE {\n"
        f"  {{ VALUES ?old {{ {old} }} GRAPH ?old {{ ?s ?p ?o }} }}\n"
        f"  UNION {{ VALUES (?staging ?new) {{ {pairs} }} GRAPH ?staging {{ ?s2 ?p2 ?o2 }} }}\n}}"
    )


def _leftover_staging(client: SparqlClient) -> list[str]:
    """Staging graphs an earlier push left (it was killed before it could drop them)."""
    rows = select_rows(
        client,
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER (STRSTARTS(STR(?g), "{STAGING_PREFIX}")) }}',
        PUSH_TIMEOUT,
    )
    return [row["g"].value for row in rows]


def _drop_graphs(client: SparqlClient, graphs: Iterable[str]) -> None:
    operations = [f"DROP SILENT GRAPH <{graph}>" for graph in graphs]
    if operations:
        client.update(" ;\n".join(operations), PUSH_TIMEOUT)


# Validating a live store -----------------------------------------------------------------------------------


def store_graph(snapshot: RemoteSnapshot, exclude: Iterable[str] = ()) -> tuple[Graph, dict[str, str]]:
    """The store's graphs (but those excluded) as one rdflib graph, and the graph each subject came from."""
    skipped = set(exclude)
    data = Graph()
    origin: dict[str, str] = {}
    for graph in snapshot.state.graphs:
        if graph in skipped:
            continue
        for triple in snapshot.graph_triples(graph):
            subject = to_rdflib(triple.subject)
            data.add((subject, to_rdflib(triple.predicate), to_rdflib(triple.object)))
            origin.setdefault(str(subject), graph)
    return data, origin


def validate_store(site: Site, iris: Iris, snapshot: RemoteSnapshot) -> Report:
    """Validate what the store holds (read-only) against the project's shapes, as `cmpkg validate` does."""
    from publisher.shapes_graph import check_shapes, read_shapes
    from publisher.validation import ValidationSetupError, validate_graph

    shape_graphs = {str(iris.graph(site.relative(path))) for path in site.shape_files()}
    shapes = read_shapes(site.shape_files(), iris)
    data, origin = store_graph(snapshot, exclude=shape_graphs)
    if len(data) == 0:
        raise ValidationSetupError(
            f"no data: the store at {snapshot.client.location.query_url} holds no graph"
        )
    check_shapes(shapes, data, site.shapes_dir)
    report = validate_graph(data, shapes, files=sorted(set(origin.values())))
    report.results = [
        replace(result, file=_graph_name(origin.get(result.focus), iris)) for result in report.results
    ]
    return report


def _graph_name(graph: str | None, iris: Iris) -> str | None:
    """A graph as a place in the report: `<graph/data/cmps>` for {base}graph/data/cmps."""
    if graph is None:
        return None
    return f"<{iris.relative(graph) or graph}>"
