"""What a SPARQL request's text says before it runs (SERVICE endpoints, FROM clauses, update keywords, its
form, how deep its brackets nest), and the rewrites a remote store needs (FROM taken out, the base IRI given).

pyoxigraph exposes no parser, so this is a tokenizer (comments, strings and IRIs are skipped whole, as the
SPARQL grammar's terminals are), not a parser. It errs on the safe side: a SERVICE keyword anywhere outside a
string, comment or IRI counts, and the text is also read with \\u escapes decoded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import urljoin

_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\r\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                 |'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+)
    | (?P<pname>(?:[^\W\d][\w.\-]*)?:(?:[\w.\-:%]|\\.)*)
    | (?P<word>[^\W\d]\w*)
    | (?P<other>\S)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# For the nesting depth: comments, strings and a prefixed name's escapes (ex:a\( or ex:a\#) hold no bracket;
# IRIs are read whole, yet their brackets count, since ?a<((1))>?b is an IRI to this regex but two
# comparisons to the parser. A run of brackets is one token; so is a run of other text (twice as fast).
_NESTING_TOKEN = re.compile(
    r"""[^#"'\\<(){}\[\]]+|\#[^\r\n]*|'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\""""
    r"""|'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*"|\\.|<[^<>"{}|^`\\\x00-\x20]*>|[(\[{]+|[)\]}]+""",
    re.DOTALL,
)
_WORDS = re.compile(r"(?i)service|from|insert|delete|load|clear|create|drop|copy|move|add|with")

UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)


@dataclass(frozen=True)
class Service:
    """A SERVICE clause's endpoint: an absolute IRI, or None when it is a variable (unknowable before)."""

    endpoint: str | None
    text: str  # as written


@dataclass(frozen=True)
class QueryText:
    services: tuple[Service, ...] = ()
    has_from: bool = False  # FROM or FROM NAMED: the query names its own dataset
    update_keyword: str | None = None  # the operation, when the text is an update rather than a query
    prefixes: dict[str, str] = field(default_factory=dict)
    nesting: int = 0  # how deep brackets nest (nesting_depth)


def read_query_text(text: str, base_iri: str | None = None) -> QueryText:
    """The SERVICE endpoints, FROM use, update keyword and bracket nesting of a request's text."""
    nesting = nesting_depth(text)
    if not _WORDS.search(text) and "\\" not in text:
        return QueryText(nesting=nesting)  # the common case: nothing else to find, so no tokenizing
    first = _read(text, base_iri)
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
    if decoded == text:
        return replace(first, nesting=nesting)
    second = _read(decoded, base_iri)
    return QueryText(
        services=first.services + tuple(s for s in second.services if s not in first.services),
        has_from=first.has_from or second.has_from,
        update_keyword=first.update_keyword or second.update_keyword,
        prefixes=first.prefixes,
        nesting=max(nesting, nesting_depth(decoded)),  # a store may decode \u escapes before parsing
    )


def nesting_depth(text: str) -> int:
    """How deep brackets ("(", "{", "[") nest in the text, outside comments, strings and escapes.

    Parsers recurse once per level (Oxigraph's, on the thread's stack), so this is what bounds their depth.
    Where an IRI could also be read as "<" and ">" around brackets, the deeper reading counts.
    """
    depth = deepest = 0
    for token in _NESTING_TOKEN.findall(text):
        if token[0] == "<":
            inner, net = _iri_brackets(token)
            deepest = max(deepest, depth + inner)
            depth += max(net, 0)
        elif token[0] in "([{":
            depth += len(token)
            deepest = max(deepest, depth)
        elif token[0] in ")]}":
            depth = max(depth - len(token), 0)
    return deepest


def _iri_brackets(iri: str) -> tuple[int, int]:
    """How deep an IRI's brackets go, and how many more open than close."""
    depth = deepest = 0
    for char in iri:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest, depth


def _read(text: str, base_iri: str | None) -> QueryText:
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text) if m.lastgroup not in ("comment",)]
    base = base_iri or ""
    prefixes: dict[str, str] = {}
    services: list[Service] = []
    has_from = False
    update_keyword = None
    operation_seen = False
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        word = value.upper() if kind == "word" else ""
        if word == "BASE" and _kind(tokens, i + 1) == "iri":
            base = _join(base, tokens[i + 1][1][1:-1]) or base
            i += 2
            continue
        if word == "PREFIX" and _kind(tokens, i + 1) == "pname" and _kind(tokens, i + 2) == "iri":
            namespace = _join(base, tokens[i + 2][1][1:-1])
            if namespace is not None:
                prefixes[tokens[i + 1][1].rstrip(":")] = namespace
            i += 3
            continue
        if word and not operation_seen:
            operation_seen = True
            if word in UPDATE_KEYWORDS:
                update_keyword = word
        if word == "FROM":
            has_from = True
        elif word == "SERVICE":
            j = i + 1
            if _kind(tokens, j) == "word" and tokens[j][1].upper() == "SILENT":
                j += 1
            services.append(_service(tokens, j, base, prefixes))
        i += 1
    return QueryText(tuple(services), has_from, update_keyword, prefixes)


def _kind(tokens: list[tuple[str | None, str]], index: int) -> str | None:
    return tokens[index][0] if index < len(tokens) else None


def _service(
    tokens: list[tuple[str | None, str]], index: int, base: str, prefixes: dict[str, str]
) -> Service:
    kind = _kind(tokens, index)
    text = tokens[index][1] if kind else ""
    if kind == "iri":
        return Service(_join(base, text[1:-1]), text)
    if kind == "pname":
        prefix, _, local = text.partition(":")
        namespace = prefixes.get(prefix)
        return Service(namespace + local if namespace is not None else None, text)
    return Service(None, text)  # a variable, or something the parser will reject


def _join(base: str, reference: str) -> str | None:
    """The reference resolved against the base; None when urljoin cannot read it ("[" outside an IPv6
    host), which the parser refuses anyway."""
    try:
        return urljoin(base, reference)
    except ValueError:
        return None


def refused_services(query: QueryText, allowlist: frozenset[str]) -> list[Service]:
    """The SERVICE clauses whose endpoint is not on the allow-list (variables are never on it)."""
    return [s for s in query.services if s.endpoint is None or s.endpoint not in allowlist]


def parse_allowlist(setting: str) -> frozenset[str]:
    """The service_allowlist setting: endpoint IRIs separated by spaces or commas."""
    return frozenset(part for part in re.split(r"[\s,]+", setting) if part)


# Rewriting a query for a remote store ------------------------------------------------------------------

_SKIPPED = re.compile(
    r"""\#[^\r\n]*|'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'(?:[^'\\\r\n]|\\.)*'"""
    r"""|"(?:[^"\\\r\n]|\\.)*"|<[^<>"{}|^`\\\x00-\x20]*>""",
    re.DOTALL,
)
_FORM = re.compile(r"(?i)(?<![\w:?$])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])")


def query_form(sparql: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword outside comments, strings and IRIs."""
    found = _FORM.search(_SKIPPED.sub(" ", sparql))
    return found.group(1).upper() if found else None


_FROM_CLAUSE = re.compile(
    rf"(?P<skipped>{_SKIPPED.pattern})"
    r"|(?<![\w:?$])FROM\s+(?:NAMED\s+)?(?:<[^<>\"{}|^`\\\x00-\x20]*>|[A-Za-z_][\w.\-]*:[\w.\-:%]*|:[\w.\-:%]*)",
    re.DOTALL | re.IGNORECASE,
)


def without_from(sparql: str) -> str:
    """The query without its FROM and FROM NAMED clauses (comments, strings and IRIs left as they are)."""
    return _FROM_CLAUSE.sub(lambda m: m.group() if m.group("skipped") is not None else " ", sparql)


_PROLOGUE_TERM = re.compile(
    rf"(?P<skipped>{_SKIPPED.pattern})|(?<![\w:?$])BASE(?![\w:])", re.DOTALL | re.IGNORECASE
)


def with_base(sparql: str, base_iri: str | None, several_bases: bool = True) -> str:
    """The query with the base IRI its relative IRIs resolve against (a later BASE in it still wins).

    For a store that takes one BASE only, and only first (Virtuoso), a query's own BASE is resolved against
    base_iri and moved to the front, the IRIs before it (the prologue's) resolved against base_iri here.
    """
    if not base_iri:
        return sparql
    if not several_bases:
        pieces: list[str] = []
        done, own_base = 0, -1
        for term in _PROLOGUE_TERM.finditer(sparql):
            skipped = term.group("skipped")
            if skipped is None:
                own_base = term.start()
            elif skipped.startswith("<"):
                resolved = _resolve(base_iri, skipped[1:-1])
                if own_base >= 0:
                    before = "".join(pieces) + sparql[done:own_base]
                    return f"BASE <{resolved}>\n{before} {sparql[term.end() :]}"
                pieces += [sparql[done : term.start()], f"<{resolved}>"]
                done = term.end()
    return f"BASE <{base_iri}>\n{sparql}"


def _resolve(base: str, reference: str) -> str:
    """RFC 3986 resolution, keeping an empty fragment (urljoin drops the "#" of `<ontology#>`)."""
    resolved = _join(base, reference)
    if resolved is None:
        return reference
    return resolved + "#" if reference.endswith("#") and not resolved.endswith("#") else resolved
