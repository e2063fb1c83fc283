"""Triple patterns of a SHACL-SPARQL query put in a cheap join order, using the store's predicate statistics.

Oxigraph joins the triple patterns of a block mostly in the order they are written. Run once per focus
node, as pySHACL does, any order is cheap; run once over all focus nodes, a self-join such as "another item
of the same plan with the same number" written value-first visits every item with that number in every
plan. Reordering the triple patterns of one block never changes the answers (a block is a set of patterns),
so each run of plain triple patterns is put in greedy order: next the pattern expected to give the fewest
solutions for what is already bound. Anything but plain patterns (paths, blank-node syntax, collections)
leaves the run as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from publisher.shacl.sparql_rewrite import FOCUS

_TOKEN = re.compile(
    r'(?P<string>(?:"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^(?:<[^<>\s]*>|(?:[A-Za-z][\w-]*)?:[\w-]*(?:\.[\w-]+)*))?)'
    r"|(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)"
    r"|(?P<comment>#[^\n]*)"
    r"|(?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)"
    r"|(?P<pname>(?:[A-Za-z][\w-]*(?:\.[\w-]+)*)?:(?:[\w%-]+(?:\.[\w%-]+)*)?)"
    r"|(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<other>\S)",
    re.DOTALL,
)
TERMS = {"string", "iri", "var", "pname", "number"}
BOUNDARY_BEFORE = {"{", "}", ".", ")"}
BOUNDARY_AFTER = {"{", "}", "FILTER", "OPTIONAL", "BIND", "MINUS", "VALUES", "GRAPH", "SERVICE", FOCUS}

Statistics = Callable[[str], tuple[int, int, int]]
"""A predicate IRI -> (triples, distinct subjects, distinct objects)."""


@dataclass
class _Token:
    kind: str
    text: str
    start: int
    end: int

    @property
    def is_term(self) -> bool:
        return self.kind in TERMS or (self.kind == "word" and self.text in ("a", "true", "false"))


def order_joins(query: str, prefixes: dict[str, str], statistics: Statistics) -> str:
    """The query with each run of plain triple patterns in greedy join order."""
    tokens = [
        _Token(m.lastgroup or "", m.group(), m.start(), m.end())
        for m in _TOKEN.finditer(query)
        if m.lastgroup != "comment"
    ]
    replacements: list[tuple[int, int, str]] = []
    seen_vars: set[str] = {"this"}  # bound by FOCUS
    in_pattern = False  # past the SELECT clause
    i = 0
    while i < len(tokens):
        token = tokens[i]
        previous = tokens[i - 1].text.upper() if i else ""
        if token.is_term and (previous in BOUNDARY_BEFORE or previous == FOCUS):
            j = i
            while j < len(tokens) and (tokens[j].is_term or tokens[j].text in (";", ",", ".")):
                j += 1
            after = tokens[j].text.upper() if j < len(tokens) else ""
            if after in BOUNDARY_AFTER or j == len(tokens):
                triples = _triples(tokens[i:j])
                if triples is not None and len(triples) > 1:
                    text = _ordered_text(triples, seen_vars, prefixes, statistics)
                    if text is not None:
                        replacements.append((tokens[i].start, tokens[j - 1].end, text))
            for token_in_run in tokens[i:j]:
                if token_in_run.kind == "var":
                    seen_vars.add(token_in_run.text[1:])
            i = max(j, i + 1)
            continue
        if token.kind == "var" and in_pattern:
            seen_vars.add(token.text[1:])
        in_pattern = in_pattern or token.text == "{"
        i += 1
    for start, end, text in sorted(replacements, reverse=True):
        query = query[:start] + text + query[end:]
    return query


def _triples(run: list[_Token]) -> list[tuple[str, str, str]] | None:
    """The triple patterns of `s p o ; p o , o .` syntax, or None if the run is anything else."""
    triples = []
    i = 0
    while i < len(run):
        if not run[i].is_term:
            return None
        subject = run[i].text
        i += 1
        while True:
            if i + 1 >= len(run) or not run[i].is_term or not run[i + 1].is_term:
                return None
            predicate = run[i].text
            triples.append((subject, predicate, run[i + 1].text))
            i += 2
            while i < len(run) and run[i].text == "," and i + 1 < len(run) and run[i + 1].is_term:
                triples.append((subject, predicate, run[i + 1].text))
                i += 2
            if i < len(run) and run[i].text == ";":
                while i < len(run) and run[i].text == ";":
                    i += 1
                if i >= len(run) or run[i].text == ".":
                    break
                continue
            break
        if i < len(run) and run[i].text == ".":
            i += 1
        elif i < len(run):
            return None
    return triples


Triple = tuple[str, str, str]


def _ordered_text(
    triples: list[Triple], bound: set[str], prefixes: dict[str, str], statistics: Statistics
) -> str | None:
    """The run in greedy order, its independent fan-out part as a subquery (None: keep it as written).

    A pattern that starts from a new subject and fans out (another item of the same plan) would be looked
    up again for every solution so far; the patterns joined to it only through new variables go into a
    `{ SELECT * WHERE { ... } }` subquery instead, which Oxigraph evaluates once and hash-joins.
    """
    bound = set(bound)
    remaining = list(triples)
    ordered: list[Triple] = []
    split: int | None = None
    while remaining:
        costs = [_cost(t, bound, prefixes, statistics) for t in remaining]
        best = costs.index(min(costs))
        chosen = remaining.pop(best)
        if split is None and costs[best] > FAN_OUT and _is_variable(chosen[0]) and chosen[0][1:] not in bound:
            split = len(ordered)
        ordered.append(chosen)
        bound |= _variables(chosen)
    if split is None:
        return None if ordered == triples else _text(ordered)
    prefix, rest = ordered[:split], ordered[split:]
    outer_bound = set().union(*(_variables(t) for t in prefix)) if prefix else set()
    inner = [rest[0]]
    inner_vars = _variables(rest[0]) - outer_bound
    others = []
    for triple in rest[1:]:
        if (_variables(triple) - outer_bound) & inner_vars:
            inner.append(triple)
            inner_vars |= _variables(triple) - outer_bound
        else:
            others.append(triple)
    return f"{_text(prefix)} {{ SELECT * WHERE {{ {_text(inner)} }} }} {_text(others)}"


FAN_OUT = 4.0
"""Expected solutions per lookup above which a fresh-subject pattern is joined by hash, not per solution."""


def _text(triples: list[Triple]) -> str:
    return " ".join(" ".join(t) + " ." for t in triples)


def _is_variable(term: str) -> bool:
    return term[:1] in "?$"


def _variables(triple: Triple) -> set[str]:
    return {term[1:] for term in triple if _is_variable(term)}


def _cost(
    triple: tuple[str, str, str], bound: set[str], prefixes: dict[str, str], statistics: Statistics
) -> float:
    subject, predicate, obj = triple
    subject_bound = subject[:1] not in "?$" or subject[1:] in bound
    object_bound = obj[:1] not in "?$" or obj[1:] in bound
    iri = _iri(predicate, prefixes)
    if iri is None:
        return 0.9 if subject_bound and object_bound else (1e6 if subject_bound else 1e12)
    count, subjects, objects = statistics(iri)
    if subject_bound and object_bound:
        return 0.5
    if subject_bound:
        return count / max(subjects, 1)
    if object_bound:
        return count / max(objects, 1)
    return float(count) * 10


def _iri(term: str, prefixes: dict[str, str]) -> str | None:
    if term == "a":
        return "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    if term.startswith("<"):
        return term[1:-1]
    if ":" in term and term[:1] not in "?$":
        prefix, _, local = term.partition(":")
        namespace = prefixes.get(prefix)
        return namespace + local if namespace is not None else None
    return None
