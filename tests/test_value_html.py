"""An entity page's values as HTML: links, literals, notes and lists, with every data string escaped."""

from __future__ import annotations

import pytest
from markupsafe import escape as markupsafe_escape

from publisher.entity_page import PropertyRow, Value
from publisher.value_html import escape, rows_html, value_html


@pytest.mark.parametrize(
    "text", ["plain", "<script>alert('x')</script>", 'a "quoted" & <b>bold</b>', "it's", "&amp; already", ""]
)
def test_escaping_is_exactly_autoescaping(text: str) -> None:
    assert escape(text) == str(markupsafe_escape(text))


def test_a_linked_value_shows_its_label_with_the_iri_as_title() -> None:
    value = Value("Brazil <BR>", href="/country/BR?a=1&b=2", iri="https://example.org/country/BR")
    assert value_html(value) == (
        '<a href="/country/BR?a=1&amp;b=2" title="https://example.org/country/BR">Brazil &lt;BR&gt;</a>'
    )


def test_a_value_named_by_its_iri_has_no_title() -> None:
    assert value_html(Value("x:y", href="/y", iri="x:y")) == '<a href="/y">x:y</a>'


def test_a_literal_shows_its_language_discreetly() -> None:
    assert value_html(Value("<i>Franciscana</i>", note="en")) == (
        '<span class="literal">&lt;i&gt;Franciscana&lt;/i&gt;</span> <small class="note">en</small>'
    )


def test_a_list_shows_its_members_in_order() -> None:
    members = (Value("one"), Value("two", href="/two"))
    assert value_html(Value("one, two", members=members)) == (
        '<ol class="list"><li><span class="literal">one</span></li><li><a href="/two">two</a></li></ol>'
    )


def test_property_rows_list_several_values_and_read_inbound_links_as_of() -> None:
    predicate = Value("part of", href="/ontology#partOf", iri="x:partOf")
    one = PropertyRow(predicate, (Value("1.1"),))
    several = PropertyRow(predicate, (Value("a"), Value("b")))
    assert rows_html([one, several]) == (
        '\n    <dt><a href="/ontology#partOf" title="x:partOf">part of</a></dt>'
        '\n    <dd><span class="literal">1.1</span></dd>'
        '\n    <dt><a href="/ontology#partOf" title="x:partOf">part of</a></dt>'
        '\n    <dd><ul><li><span class="literal">a</span></li>'
        '<li><span class="literal">b</span></li></ul></dd>'
    )
    inbound = rows_html([one], inbound=True)
    assert '<a href="/ontology#partOf" title="x:partOf">part of</a> of</dt>' in inbound
    assert '<dd><ul><li><span class="literal">1.1</span></li></ul></dd>' in inbound
