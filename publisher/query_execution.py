"""Running one SPARQL query on a pyoxigraph store and writing its answer in a chosen format (no web imports).

`execute_on()` is what a query worker process runs (see query_workers.py); its input and output are plain
picklable values. Errors are the `QueryError`s below, each a message a person can act on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import pyoxigraph as ox

from publisher.formats import FORMATS_BY_NAME, N_TRIPLES, TSV, Format, Kind
from publisher.row_counting import RowCounter, TooManyRows


class QueryError(Exception):
    """A query cmpkg did not answer; the message says why and what to do."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors travel back from worker processes pickled; keep the message and the attributes.
        return (_rebuild_error, (type(self), str(self), self.__dict__))


def _rebuild_error(cls: type[QueryError], message: str, state: dict[str, Any]) -> QueryError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class QuerySyntaxError(QueryError):
    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.detail, self.line, self.column = message, line, column
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"syntax error{where}: {message}")


class QueryRefusedError(QueryError):
    """The request asks for something this read-only endpoint does not do (updates, SERVICE elsewhere)."""


class QueryTimeoutError(QueryError):
    def __init__(self, seconds: float, detail: str = "") -> None:
        self.seconds = seconds
        super().__init__(
            detail
            or f"the query ran longer than the {seconds:g} s limit (setting query_timeout) and was stopped"
        )


class ResultLimitError(QueryError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            f"the answer has more than {limit} rows (setting result_limit); "
            "add a LIMIT (and ORDER BY and OFFSET to page through it) or narrow the query"
        )


class NotAcceptableError(QueryError):
    def __init__(self, kind: Kind | None, offered: Sequence[Format]) -> None:
        self.kind = kind
        what = (
            "A query answer"
            if kind is None
            else "The query's answer is a graph (CONSTRUCT/DESCRIBE), which"
            if kind is Kind.GRAPH
            else "The query's answer is results (SELECT/ASK), which"
        )
        names = ", ".join(f"{f.media_type} (format={f.name})" for f in offered)
        super().__init__(f"{what} cmpkg can give as {names}; none of these is acceptable")


class QueryFailedError(QueryError):
    """The engine could not evaluate the query (an error while reading the store or a remote SERVICE)."""


@dataclass(frozen=True)
class Dataset:
    """The protocol's RDF dataset (default-graph-uri, named-graph-uri); empty means the store's own."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


@dataclass(frozen=True)
class QueryJob:
    """One query to run, as plain values a worker process receives."""

    sparql: str
    base_iri: str | None = None
    dataset: Dataset = field(default_factory=Dataset)
    uses_from: bool = False  # the query names its own dataset (FROM / FROM NAMED)
    results_format: str | None = "json"  # a Format name for SELECT/ASK answers; None: not acceptable
    graph_format: str | None = "turtle"  # a Format name for CONSTRUCT/DESCRIBE answers
    row_limit: int = 0  # 0: no limit
    calls_services: bool = False  # the query has a SERVICE clause: its time depends on another server


@dataclass(frozen=True)
class Answer:
    format: Format
    body: bytes

    @property
    def kind(self) -> Kind:
        return Kind.RESULTS if self.format.kind is Kind.RESULTS else Kind.GRAPH


HTTP_STATUS: dict[type[QueryError], int] = {
    QuerySyntaxError: 400,
    QueryRefusedError: 400,
    NotAcceptableError: 406,
    ResultLimitError: 500,
    QueryTimeoutError: 503,
}


def http_status(error: QueryError) -> int:
    """The HTTP status answering a query that failed this way (see views/sparql.py for the protocol's)."""
    return HTTP_STATUS.get(type(error), 500)


_POSITION = re.compile(r"^error at (\d+):(\d+): ", re.DOTALL)


def syntax_error(error: SyntaxError) -> QuerySyntaxError:
    """pyoxigraph's parse error ("error at 3:10: expected ...") with its line and column pulled out."""
    text = str(error)
    found = _POSITION.match(text)
    if found is None:
        return QuerySyntaxError(text)
    return QuerySyntaxError(text[found.end() :], int(found.group(1)), int(found.group(2)))


def run_query(store: ox.Store, job: QueryJob) -> Any:
    """The pyoxigraph result of a job's query over the dataset the protocol, the query or cmpkg gives."""
    options: dict[str, Any] = {"base_iri": job.base_iri}
    if job.dataset:
        # SPARQL 1.1 Protocol §2.1.4: protocol dataset parameters override the query's FROM clauses.
        options["default_graph"] = [ox.NamedNode(iri) for iri in job.dataset.default_graphs]
        options["named_graphs"] = [ox.NamedNode(iri) for iri in job.dataset.named_graphs]
    elif not job.uses_from:
        # cmpkg's default graph is the union of its named graphs (one per file); pyoxigraph's union flag
        # would also override FROM, so it is only set when the query names no dataset itself.
        options["use_default_graph_as_union"] = True
    try:
        return store.query(job.sparql, **options)
    except SyntaxError as error:
        raise syntax_error(error) from None


def execute_on(store: ox.Store, job: QueryJob) -> Answer:
    """Run the job's query and write its answer in the format asked for its kind, within the row limit."""
    try:
        result = run_query(store, job)
        if isinstance(result, ox.QueryTriples):
            return _graph_answer(result, job)
        return _results_answer(store, result, job)
    except OSError as error:
        raise QueryFailedError(f"the query could not be evaluated: {error}") from None


def _results_answer(store: ox.Store, result: Any, job: QueryJob) -> Answer:
    fmt = _chosen(job.results_format, Kind.RESULTS)
    assert fmt.results_format is not None
    if job.row_limit <= 0 or isinstance(result, ox.QueryBoolean):
        return Answer(fmt, _written(result.serialize(format=fmt.results_format)))
    counter = RowCounter.for_format(fmt, job.row_limit)
    try:
        result.serialize(counter.stream(), format=fmt.results_format)
    except TooManyRows:
        if counter.exact:
            raise ResultLimitError(job.row_limit) from None
        # The count over this format may over-count (a literal containing a row separator): count exactly
        # over TSV, where each row is one line, and convert if the answer is within the limit after all.
        exact = RowCounter.for_format(TSV, job.row_limit)
        try:
            run_query(store, job).serialize(exact.stream(), format=TSV.results_format)
        except TooManyRows:
            raise ResultLimitError(job.row_limit) from None
        parsed = ox.parse_query_results(exact.body(), format=TSV.results_format)
        return Answer(fmt, _written(parsed.serialize(format=fmt.results_format)))
    return Answer(fmt, counter.body())


def _graph_answer(result: ox.QueryTriples, job: QueryJob) -> Answer:
    fmt = _chosen(job.graph_format, Kind.GRAPH)
    assert fmt.rdf_format is not None
    if job.row_limit <= 0:
        return Answer(fmt, _written(result.serialize(format=fmt.rdf_format)))
    if fmt is N_TRIPLES:
        counter = RowCounter.for_format(fmt, job.row_limit)
        try:
            result.serialize(counter.stream(), format=fmt.rdf_format)
        except TooManyRows:
            raise ResultLimitError(job.row_limit) from None
        return Answer(fmt, counter.body())
    triples = list(islice(result, job.row_limit + 1))
    if len(triples) > job.row_limit:
        raise ResultLimitError(job.row_limit)
    return Answer(fmt, serialize_triples(triples, fmt))


def serialize_triples(
    triples: Sequence[ox.Triple], fmt: Format, prefixes: dict[str, str] | None = None
) -> bytes:
    """Triples in an RDF format; in a dataset format (TriG, N-Quads) they make up the default graph."""
    assert fmt.rdf_format is not None
    items: Sequence[ox.Triple] | list[ox.Quad] = triples
    if fmt.rdf_format.supports_datasets:
        items = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
    return _written(ox.serialize(items, format=fmt.rdf_format, prefixes=prefixes))


def _written(body: bytes | None) -> bytes:
    assert body is not None  # pyoxigraph returns the bytes when given no output
    return body


def _chosen(name: str | None, kind: Kind) -> Format:
    fmt = FORMATS_BY_NAME.get(name) if name else None
    if fmt is None:
        offered = [f for f in FORMATS_BY_NAME.values() if f.kind in _KINDS[kind]]
        raise NotAcceptableError(kind, offered)
    return fmt


_KINDS = {Kind.RESULTS: (Kind.RESULTS,), Kind.GRAPH: (Kind.GRAPH, Kind.DATASET)}
