"""SHACL-SPARQL queries rewritten to run once over all focus nodes instead of once per focus node.

pySHACL pre-binds $this to one focus node and runs the query for each. Pre-binding is the same as joining
$this with the focus nodes in every group graph pattern that mentions it (EXISTS sees the outer binding), so
the rewrite inserts FOCUS (a pattern that binds ?this to the shape's focus nodes) at the start of each such
group. Queries whose meaning would change under this rewrite (a LIMIT, an aggregate, a subquery...) are
refused as unsupported rather than run differently.
"""

from __future__ import annotations

import re

FOCUS = "__CMPKG_FOCUS__"

_TOKEN = re.compile(
    r'(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')'
    r"|(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)"
    r"|(?P<comment>#[^\n]*)"
    r"|(?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)"
    r"|(?P<word>[A-Za-z][A-Za-z0-9_-]*)"
    r"|(?P<brace>[{}])"
    r"|(?P<other>\S)",
    re.DOTALL,
)
# Keywords that a per-focus query and a set-based one would answer differently, or that SHACL forbids.
UNSUPPORTED_WORDS = {
    "LIMIT", "OFFSET", "GROUP", "HAVING", "ORDER", "VALUES", "SERVICE", "GRAPH", "MINUS", "COUNT", "SUM",
    "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT", "CONSTRUCT", "ASK", "DESCRIBE", "FROM",
}  # fmt: skip
UNSUPPORTED_VARS = {"currentShape", "shapesGraph", "failure", "PATH"}
PROLOGUE = re.compile(r"^\s*(?:PREFIX|BASE)\b", re.IGNORECASE | re.MULTILINE)


class UnsupportedQuery(ValueError):
    """A query this rewrite does not handle (the message says why)."""


def _tokens(text: str) -> list[tuple[str, str, int]]:
    return [
        (match.lastgroup or "", match.group(), match.start())
        for match in _TOKEN.finditer(text)
        if match.lastgroup != "comment"
    ]


def prologue(prefixes: dict[str, str]) -> str:
    return "".join(f"PREFIX {prefix}: <{namespace}>\n" for prefix, namespace in prefixes.items())


def rewrite_constraint(select: str, prefixes: dict[str, str], path: str | None) -> str:
    """The constraint's query with FOCUS in every group that mentions $this, its prefixes in front."""
    if path is not None:
        select = re.sub(r"\$PATH\b", lambda _: path, select)
    tokens = _tokens(select)
    _refuse_unsupported(tokens)
    selects = [t for t in tokens if t[0] == "word" and t[1].upper() == "SELECT"]
    if len(selects) != 1:
        raise UnsupportedQuery("a query that is not one SELECT (a subquery?)")
    _require_this_projected(tokens)
    insert_at = _groups_mentioning_this(tokens)
    text = select
    for position in sorted(insert_at, reverse=True):
        text = text[: position + 1] + f" {FOCUS} " + text[position + 1 :]
    return prologue(prefixes) + text


def target_query(select: str, prefixes: dict[str, str]) -> tuple[str, str]:
    """A SPARQL target as (prologue, SELECT binding ?this), to run as a subquery: no rewriting needed."""
    if PROLOGUE.search(select):
        raise UnsupportedQuery("PREFIX or BASE inside the query (use sh:prefixes)")
    tokens = _tokens(select)
    if any(kind == "var" and text[1:] in UNSUPPORTED_VARS for kind, text, _ in tokens):
        raise UnsupportedQuery("a variable SHACL reserves ($currentShape, $shapesGraph, ...)")
    if not any(kind == "var" and text[1:] == "this" for kind, text, _ in tokens):
        raise UnsupportedQuery("a target query without ?this")
    return prologue(prefixes), select


def _refuse_unsupported(tokens: list[tuple[str, str, int]]) -> None:
    for kind, text, _ in tokens:
        if kind == "word" and text.upper() in UNSUPPORTED_WORDS:
            raise UnsupportedQuery(f"the keyword {text.upper()}")
        if kind == "var" and text[1:] in UNSUPPORTED_VARS:
            raise UnsupportedQuery(f"the variable {text}")


def _require_this_projected(tokens: list[tuple[str, str, int]]) -> None:
    projection = []
    for kind, text, _ in tokens:
        if kind == "word" and text.upper() == "SELECT":
            continue
        if (kind == "word" and text.upper() == "WHERE") or kind == "brace":
            break
        projection.append(text)
    if "*" not in projection and not {"?this", "$this"} & set(projection):
        raise UnsupportedQuery("$this is not selected")
    if "(" in projection:
        raise UnsupportedQuery("an expression in the SELECT clause")


def _groups_mentioning_this(tokens: list[tuple[str, str, int]]) -> list[int]:
    """Offsets of the `{` of every group, outside EXISTS, that mentions $this (at any depth)."""
    stack: list[tuple[int, bool]] = []  # (offset of `{`, opened by EXISTS or inside one)
    mentions: dict[int, bool] = {}
    chosen = []
    previous = ""
    for kind, text, offset in tokens:
        if text == "{":
            in_exists = previous.upper() == "EXISTS" or any(exists for _, exists in stack)
            stack.append((offset, in_exists))
            mentions[offset] = False
        elif text == "}":
            if not stack:
                raise UnsupportedQuery("unbalanced braces")
            start, in_exists = stack.pop()
            if mentions[start] and not in_exists:
                chosen.append(start)
        elif kind == "var" and text[1:] == "this":
            for start, _ in stack:
                mentions[start] = True
        previous = text
    if stack:
        raise UnsupportedQuery("unbalanced braces")
    return chosen
