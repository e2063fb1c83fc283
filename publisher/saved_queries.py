"""Saved SPARQL queries (queries/*.rq): header parsing, start-up validation, typed parameters, execution.

A saved query is a SELECT query whose file opens with comment lines (see docs/queries.md):

    # title: Items overdue as of a date
    # description: Plan items whose due date falls before the given date ...
    #   (a line starting with "#" and two or more spaces continues the field above)
    # param: as_of (date, default 2022-07-31): the date to judge by

Parameters are bound as typed RDF terms in a VALUES block placed first in the outermost WHERE group; a
value never becomes query text of its own. No web imports.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pyoxigraph as ox

from publisher.formats import CSV, HTML, JSON, Format
from publisher.store import Store

XSD = "http://www.w3.org/2001/XMLSchema#"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
PARAM_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
HEADER_KEYS = ("title", "description", "param")
MAX_VALUE_LENGTH = 2000
# The formats a saved query answers in, by the suffix of its URL, in order of preference.
QUERY_FORMATS: Mapping[str, Format] = {"html": HTML, "json": JSON, "csv": CSV}

Term = ox.NamedNode | ox.Literal


class SavedQueryError(ValueError):
    """A saved query file cmpkg cannot serve: the message is `file:line: what is wrong`."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line = str(path), line


class ParameterError(ValueError):
    """A request gave a saved query a parameter it cannot use (a client error)."""


# --- parameter types --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamType:
    """A parameter type: how a value is written, the RDF term it becomes, its OpenAPI schema."""

    name: str
    written: str  # how a value is written, for messages and docs
    example: str  # a valid value, for checks and docs
    schema: Mapping[str, Any]  # JSON Schema for OpenAPI
    convert: Callable[[str, str], Term]  # (value, base IRI) -> term; ValueError when malformed
    json_value: Callable[[str], Any] = str  # a valid value as a JSON value (OpenAPI defaults)


def _typed(lexical: str, datatype: str) -> ox.Literal:
    return ox.Literal(lexical, datatype=ox.NamedNode(XSD + datatype))


def _string(value: str, base: str) -> Term:
    return ox.Literal(value)


def _integer(value: str, base: str) -> Term:
    if not re.fullmatch(r"[+-]?[0-9]+", value):
        raise ValueError
    return _typed(str(int(value)), "integer")


def _decimal(value: str, base: str) -> Term:
    if not re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", value):
        raise ValueError
    return _typed(value, "decimal")


def _boolean(value: str, base: str) -> Term:
    if value not in {"true", "false", "1", "0"}:
        raise ValueError
    return _typed("true" if value in {"true", "1"} else "false", "boolean")


def _date(value: str, base: str) -> Term:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError
    datetime.date.fromisoformat(value)  # rejects 2019-02-30
    return _typed(value, "date")


def _year(value: str, base: str) -> Term:
    if not re.fullmatch(r"[0-9]{4}", value):
        raise ValueError
    return _typed(value, "gYear")


def _iri(value: str, base: str) -> Term:
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if not value or re.search(r"[\s<>\"{}|^`\\]", value):
        raise ValueError
    resolved = value if urlsplit(value).scheme else urljoin(base, value)
    return ox.NamedNode(resolved)  # raises ValueError on an invalid IRI


PARAM_TYPES: Mapping[str, ParamType] = {
    t.name: t
    for t in (
        ParamType("string", "any text", "gray whale", {"type": "string"}, _string),
        ParamType("integer", "a whole number, e.g. 3", "3", {"type": "integer"}, _integer, int),
        ParamType(
            "decimal",
            "a decimal number, e.g. 2.5",
            "2.5",
            {"type": "string", "pattern": r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"},
            _decimal,
        ),
        ParamType(
            "boolean", "true or false", "true", {"type": "boolean"}, _boolean, lambda v: v in {"true", "1"}
        ),
        ParamType(
            "date", "a date written YYYY-MM-DD", "2019-06-30", {"type": "string", "format": "date"}, _date
        ),
        ParamType("year", "a year written YYYY", "2016", {"type": "string", "pattern": "^[0-9]{4}$"}, _year),
        ParamType(
            "iri",
            "an IRI, absolute or relative to the base (e.g. plan/2018-2020)",
            "plan/2018-2020",
            {"type": "string", "format": "iri-reference"},
            _iri,
        ),
    )
}


# --- the model ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    name: str
    type: ParamType
    meaning: str
    default: str | None = None  # as written in the header
    optional: bool = False  # no default: left unbound when not given
    line: int = 0  # where the header declares it

    @property
    def required(self) -> bool:
        return self.default is None and not self.optional

    def term(self, value: str, base: str) -> Term:
        """The value as the RDF term it binds, or a ParameterError saying what was expected."""
        if len(value) > MAX_VALUE_LENGTH:
            raise ParameterError(f"parameter {self.name!r}: value longer than {MAX_VALUE_LENGTH} characters")
        try:
            return self.type.convert(value, base)
        except ValueError:
            raise ParameterError(
                f"parameter {self.name!r} must be {self.type.written}, got {value!r}"
            ) from None


@dataclass(frozen=True)
class SavedQuery:
    name: str
    path: Path
    title: str
    description: str
    parameters: tuple[Parameter, ...]
    text: str  # the whole file, header included (SPARQL comments), so positions are the file's
    where_offset: int  # index just after the "{" opening the outermost WHERE group
    variables: tuple[str, ...] = field(default=())  # the projected variables, without "?"

    def bindings(self, values: Mapping[str, str | Sequence[str]], base: str) -> dict[str, Term]:
        """The terms the given values (defaults filling in) bind; ParameterError on bad input."""
        unknown = sorted(set(values) - {p.name for p in self.parameters})
        if unknown:
            takes = ", ".join(p.name for p in self.parameters) or "no parameters"
            raise ParameterError(f"unknown parameter {unknown[0]!r}; query {self.name!r} takes: {takes}")
        bound: dict[str, Term] = {}
        for parameter in self.parameters:
            raw = values.get(parameter.name)
            if raw is not None and not isinstance(raw, str):
                if len(raw) > 1:
                    raise ParameterError(f"parameter {parameter.name!r} given {len(raw)} times; give it once")
                raw = raw[0] if raw else None
            if raw is None or raw == "":  # an empty form field counts as not given
                if parameter.default is not None:
                    raw = parameter.default
                elif parameter.optional:
                    continue
                else:
                    raise ParameterError(
                        f"parameter {parameter.name!r} is required: {parameter.type.written}"
                    )
            bound[parameter.name] = parameter.term(raw, base)
        return bound

    def bind(self, values: Mapping[str, str | Sequence[str]], base: str) -> str:
        """The query text with the parameters bound in a VALUES block, on the line of the WHERE brace."""
        return inject_values(self.text, self.where_offset, self.bindings(values, base))


def inject_values(text: str, offset: int, bindings: Mapping[str, Term]) -> str:
    """Put `VALUES (?a ?b) { (term term) }` at offset, written from the terms by pyoxigraph."""
    if not bindings:
        return text
    variables = " ".join(str(ox.Variable(name)) for name in bindings)
    terms = " ".join(str(term) for term in bindings.values())
    return f"{text[:offset]} VALUES ({variables}) {{ ({terms}) }} {text[offset:]}"


# --- loading and validation -----------------------------------------------------------------------


@dataclass(frozen=True)
class SavedQueries(Mapping[str, SavedQuery]):
    """The saved queries of a project, by name, in name order."""

    queries: Mapping[str, SavedQuery]

    def __getitem__(self, name: str) -> SavedQuery:
        return self.queries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.queries)

    def __len__(self) -> int:
        return len(self.queries)


def load_saved_queries(directory: Path, base: str) -> SavedQueries:
    """Parse and check every queries/*.rq once; a bad file raises SavedQueryError naming file:line."""
    paths = sorted(directory.glob("*.rq")) if directory.is_dir() else []
    return SavedQueries({path.stem: load_saved_query(path, base) for path in paths})


def load_saved_query(path: Path, base: str) -> SavedQuery:
    if not NAME_PATTERN.fullmatch(path.stem):
        raise SavedQueryError(
            path, 1, "a saved query's file name must be lower-case words joined by '_' (verb_noun.rq)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise SavedQueryError(path, 1, f"not UTF-8 text: {error.reason}") from None
    title, description, parameters = parse_header(path, text)
    code = blank_non_code(text)
    where_offset = where_brace_offset(path, text, code)
    for parameter in parameters:
        if not re.search(rf"[?$]{parameter.name}\b", code):
            raise SavedQueryError(
                path,
                parameter.line,
                f"parameter {parameter.name!r} is declared but the query never uses ?{parameter.name}",
            )
    variables = check_parses(path, text, base)
    query = SavedQuery(path.stem, path, title, description, parameters, text, where_offset, variables)
    # The defaults must be valid values, and the query must still parse with every parameter bound.
    sample: dict[str, Term] = {}
    for parameter in parameters:
        try:
            sample[parameter.name] = parameter.term(parameter.default or parameter.type.example, base)
        except ParameterError as error:
            raise SavedQueryError(path, parameter.line, f"bad default: {error}") from None
    check_parses(path, inject_values(text, where_offset, sample), base)
    return query


def check_parses(path: Path, text: str, base: str) -> tuple[str, ...]:
    """Parse (by running on an empty store) and insist on a SELECT; the projected variables."""
    try:
        result = ox.Store().query(text, base_iri=base)
    except SyntaxError as error:
        line, message = _syntax_position(str(error), text)
        raise SavedQueryError(path, line, f"SPARQL syntax error: {message}") from None
    if not isinstance(result, ox.QuerySolutions):
        raise SavedQueryError(path, 1, "a saved query must be a SELECT query (its results are a table)")
    return tuple(variable.value for variable in result.variables)


def _syntax_position(message: str, text: str) -> tuple[int, str]:
    """The line the parser names, and its message; a failure noticed at the end is put on the last line."""
    found = re.match(r"error at (\d+):(\d+): (.*)", message, re.DOTALL)
    if not found:
        return 1, message
    line, column = int(found.group(1)), int(found.group(2))
    last = len(text.rstrip().splitlines())
    if line > last:
        return last, f"at the end of the query: {found.group(3)}"
    return line, f"column {column}: {found.group(3)}"


HEADER_LINE = re.compile(r"# (?P<key>[a-z]+): (?P<value>\S.*)")
CONTINUATION_LINE = re.compile(r"#\s{2,}(?P<value>\S.*)")
PARAM_VALUE = re.compile(
    r"(?P<name>[^\s(]+) \((?P<type>[a-z]+)(?:, (?:(?P<optional>optional)|default (?P<default>[^)]+)))?\): "
    r"(?P<meaning>\S.*)"
)


def parse_header(path: Path, text: str) -> tuple[str, str, tuple[Parameter, ...]]:
    """The title, description and parameters from the comment lines that open the file."""
    fields: list[tuple[int, str, str]] = []  # line, key, value
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.rstrip()
        if not line.startswith("#"):
            break
        if line == "#":
            continue
        if (match := HEADER_LINE.fullmatch(line)) is not None:
            key = match["key"]
            if key not in HEADER_KEYS:
                raise SavedQueryError(
                    path, number, f"unknown header field {key!r}; known: {', '.join(HEADER_KEYS)}"
                )
            fields.append((number, key, match["value"]))
        elif (match := CONTINUATION_LINE.fullmatch(line)) is not None and fields:
            start, key, value = fields[-1]
            fields[-1] = (start, key, f"{value} {match['value']}")
        else:
            raise SavedQueryError(
                path,
                number,
                "header lines are '# title: ...', '# description: ...', '# param: ...', or continue the "
                "field above with '#' and two or more spaces",
            )
    titles = [(n, v) for n, k, v in fields if k == "title"]
    descriptions = [(n, v) for n, k, v in fields if k == "description"]
    for key, found in (("title", titles), ("description", descriptions)):
        if not found:
            raise SavedQueryError(path, 1, f"the header has no '# {key}: ...' line")
        if len(found) > 1:
            raise SavedQueryError(path, found[1][0], f"a second '# {key}:' line; give one")
    parameters: list[Parameter] = []
    for number, key, value in fields:
        if key == "param":
            parameter = _parse_param(path, number, value)
            if any(p.name == parameter.name for p in parameters):
                raise SavedQueryError(path, number, f"parameter {parameter.name!r} is declared twice")
            parameters.append(parameter)
    return titles[0][1], descriptions[0][1], tuple(parameters)


def _parse_param(path: Path, number: int, value: str) -> Parameter:
    match = PARAM_VALUE.fullmatch(value)
    if match is None:
        raise SavedQueryError(
            path, number, "write a parameter as '# param: NAME (TYPE[, default VALUE | , optional]): MEANING'"
        )
    if not PARAM_NAME_PATTERN.fullmatch(match["name"]):
        raise SavedQueryError(
            path, number, f"parameter name {match['name']!r} must be a SPARQL variable name (letters, _)"
        )
    param_type = PARAM_TYPES.get(match["type"])
    if param_type is None:
        raise SavedQueryError(
            path, number, f"unknown parameter type {match['type']!r}; known: {', '.join(PARAM_TYPES)}"
        )
    default = match["default"].strip() if match["default"] else None
    return Parameter(match["name"], param_type, match["meaning"], default, bool(match["optional"]), number)


def blank_non_code(text: str) -> str:
    """The text with comments, strings and IRIs replaced by spaces (same length, same lines)."""
    token = re.compile(
        r"#[^\n]*"
        r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
        r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
        r'|"(?:[^"\\\n]|\\.)*"'
        r"|'(?:[^'\\\n]|\\.)*'"
        r"|<[^<>\"{}|^`\\\x00-\x20]*>",
        re.DOTALL,
    )
    return token.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def where_brace_offset(path: Path, text: str, code: str) -> int:
    """Where the outermost WHERE group opens: the first "{" of the query, which must follow WHERE."""
    brace = code.find("{")
    if brace < 0 or not re.search(r"\bWHERE\s*$", code[:brace], re.IGNORECASE):
        line = line_of(text, brace) if brace >= 0 else 1
        raise SavedQueryError(
            path,
            line,
            "write the query's group as 'WHERE { ... }', with no '{' before it (parameters "
            "are bound at the start of that group)",
        )
    return brace + 1


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# --- execution -------------------------------------------------------------------------------------


def run_saved_query(
    store: Store, query: SavedQuery, values: Mapping[str, str | Sequence[str]], base: str
) -> Any:
    """Bind the values and run the query on the store, relative IRIs resolving against base."""
    return store.query(query.bind(values, base), base_iri=base)
