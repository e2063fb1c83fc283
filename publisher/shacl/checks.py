"""Exact value checks, as pySHACL makes them, for the values a SPARQL pre-filter could not decide.

Each returns True when the value violates the constraint. They mirror pySHACL's own tests (rdflib's literal
parsing decides ill-typed literals and comparisons), so the two engines agree on edge cases too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal

from pyshacl.rdfutil.compare import compare_literal
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

ValueCheck = Callable[[Node], bool]

_PYTHON_TYPES: dict[URIRef, type | tuple[type, ...]] = {
    XSD.string: (str, bytes),
    RDF.langString: (str, bytes),
    XSD.integer: int,
    XSD.float: float,
    XSD.decimal: Decimal,
    XSD.boolean: bool,
    XSD.date: date,
    XSD.time: time,
    XSD.dateTime: datetime,
}


def datatype_check(datatype: URIRef) -> ValueCheck:
    def violates(value: Node) -> bool:
        if not isinstance(value, Literal):
            return True
        if value.datatype == datatype:
            if getattr(value, "ill_typed", None) is True:
                return True
            return not _has_python_type(value, datatype)
        if datatype in (RDFS.Literal,) or (datatype == RDFS.Datatype and value.datatype):
            return False
        if value.datatype is None and value.language is None and datatype == XSD.string:
            return not _has_python_type(value, datatype)
        if datatype == RDF.langString and value.language:
            return not _has_python_type(value, datatype)
        return True

    return violates


def _has_python_type(value: Literal, datatype: URIRef) -> bool:
    expected = _PYTHON_TYPES.get(datatype)
    return expected is None or isinstance(value.value, expected)


def pattern_check(pattern: str, flags: str | None) -> ValueCheck:
    re_flags = 0
    if flags:
        re_flags |= re.I if "i" in flags.lower() else 0
        re_flags |= re.M if "m" in flags.lower() else 0
    matcher = re.compile(pattern, re_flags)

    def violates(value: Node) -> bool:
        if isinstance(value, BNode):
            return True
        text = _string_of(value)
        return not (matcher.match(text) or matcher.search(text))

    return violates


def _string_of(value: Node) -> str:
    if isinstance(value, Literal) and value.datatype in (None, RDF.langString, XSD.string):
        return str(value.value) if value.value is not None else str(value)
    return str(value)


def language_check(languages: list[str]) -> ValueCheck:
    needed = {language.lower() for language in languages}

    def violates(value: Node) -> bool:
        if not isinstance(value, Literal) or not value.language:
            return True
        language = str(value.language).lower()
        return not ("*" in needed or language in needed or language.split("-")[0] in needed)

    return violates


def range_check(bound: Literal, accepts: Callable[[int], bool]) -> ValueCheck:
    """sh:minInclusive and friends: `accepts` gets compare(value, bound) (-1, 0 or 1)."""
    bound_is_string = isinstance(bound.value, str)

    def violates(value: Node) -> bool:
        if not isinstance(value, Literal):
            return True
        value_is_string = isinstance(value.value, str)
        if bound_is_string != value_is_string:
            return True
        try:
            return not accepts(compare_literal(value, bound))  # type: ignore[no-untyped-call]
        except (TypeError, NotImplementedError):
            return True

    return violates


def length_check(limit: int, minimum: bool) -> ValueCheck:
    def violates(value: Node) -> bool:
        if isinstance(value, BNode):
            return True
        length = len(_string_of(value))
        return length < limit if minimum else length > limit

    return violates
