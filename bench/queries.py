"""The queries the benchmark times: the saved queries (queries/*.rq) and the bench's own (bench/queries/).

Saved queries are read and bound with cmpkg's own loader (publisher.saved_queries) when it exists, so
they run exactly as `/queries/<name>` runs them: defaults bound, optional parameters left unbound. The
bench's probes (and the saved queries, if that module is missing) use the same header format, read here:

    # param: NAME (TYPE, default VALUE): meaning      or      # param: NAME (TYPE, optional): meaning

A parameter without a default that is not optional cannot be bound, so its query is skipped with the
reason. Every query is sent with `BASE <base>` first, so relative IRIs resolve as cmpkg resolves them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_QUERIES = Path(__file__).resolve().parent / "queries"
JOIN_HEAVY_PATTERNS = 4  # a query with at least this many triple patterns is "join-heavy"

_PARAM = re.compile(
    r"^# param: (?P<name>\w+) \((?P<type>[a-z]+)"
    r"(?:, (?:(?P<optional>optional)|default (?P<default>[^)]+)))?\)"
)
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_XSD = "http://www.w3.org/2001/XMLSchema#"
_TYPED = {"date": "date", "year": "gYear", "integer": "integer", "decimal": "decimal", "boolean": "boolean"}


@dataclass
class Query:
    name: str  # "queries/<stem>" or "bench/<stem>"
    text: str  # ready to send: BASE declared, parameters bound
    form: str = "SELECT"
    patterns: int = 0
    skip: str | None = None

    @property
    def join_heavy(self) -> bool:
        return self.patterns >= JOIN_HEAVY_PATTERNS

    @property
    def accept(self) -> str:
        if self.form in {"CONSTRUCT", "DESCRIBE"}:
            return "application/n-triples"
        return "application/sparql-results+json"


def sparql_term(kind: str, value: str) -> str:
    """A header default as a SPARQL term; relative IRIs stay relative (the query declares the BASE)."""
    if kind == "iri":
        return value if value.startswith("<") else f"<{value}>"
    if kind in _TYPED:
        return f'"{value}"^^<{_XSD}{_TYPED[kind]}>'
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def bind_own(text: str) -> str:
    """Bind the header's defaults in a VALUES block at the start of the WHERE group (optional: unbound)."""
    values: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _PARAM.match(line)
        if match is None:
            continue
        if match["default"] is not None:
            values.append((match["name"], sparql_term(match["type"], match["default"].strip())))
        elif not match["optional"]:
            raise ValueError(f"parameter {match['name']!r} has no default and is not optional")
    if not values:
        return text
    where = _WHERE.search(text)
    if where is None:
        raise ValueError("no 'WHERE {' to bind the parameters in")
    variables = " ".join(f"?{name}" for name, _ in values)
    terms = " ".join(term for _, term in values)
    return f"{text[: where.end()]} VALUES ({variables}) {{ ({terms}) }} {text[where.end() :]}"


def bind_saved(path: Path, base: str) -> str | None:
    """The saved query bound with its defaults by cmpkg's own loader; None if cmpkg has none yet."""
    try:
        from publisher import saved_queries
    except ImportError:
        return None
    loader: Any = saved_queries
    text: str = loader.load_saved_query(path, base).bind({}, base)
    return text


def shape(text: str, base: str) -> tuple[str, int]:
    """The query form and its number of triple patterns, from rdflib's algebra."""
    from rdflib.plugins.sparql import prepareQuery

    prepared = prepareQuery(text, base=base)
    form = prepared.algebra.name.replace("Query", "").upper()

    def count(node: Any) -> int:
        if isinstance(node, dict):
            own = len(node.get("triples") or []) if getattr(node, "name", "") == "BGP" else 0
            return own + sum(count(value) for value in node.values())
        if isinstance(node, list | tuple):
            return sum(count(value) for value in node)
        return 0

    return form, count(prepared.algebra)


def load_query(path: Path, name: str, base: str, saved: bool) -> Query:
    query = Query(name, "")
    try:
        text = bind_saved(path, base) if saved else None
        if text is None:
            text = bind_own(path.read_text(encoding="utf-8"))
        query.text = f"BASE <{base}>\n{text}"
        query.form, query.patterns = shape(query.text, base)
    except Exception as error:  # a query that cannot be bound or parsed is reported, not fatal
        query.skip = f"{type(error).__name__}: {str(error)[:160]}"
    return query


def load_queries(base: str, root: Path = ROOT) -> list[Query]:
    saved = [load_query(p, f"queries/{p.stem}", base, True) for p in sorted((root / "queries").glob("*.rq"))]
    own = [load_query(p, f"bench/{p.stem}", base, False) for p in sorted(BENCH_QUERIES.glob("*.rq"))]
    return saved + own
