"""An entity page's values (publisher/entity_page.py `Value`: a link, a literal, a list) and property rows
as HTML.

The entity page shows dozens of values; this renders them with f-strings instead of Jinja macro calls and
loops (a tenth of the time). Every string from the data is escaped exactly as autoescaping (markupsafe)
escapes it.
"""

from __future__ import annotations

import functools

from markupsafe import Markup

from publisher.entity_page import PropertyRow, Value

# Values recur from page to page (predicates, types, plans, parties, statuses): their HTML is kept, a few MB.
HTML_CACHE_ENTRIES = 16384


def value_html(value: Value) -> Markup:
    """The value's HTML: `<a>` when it links somewhere, a `<span class="literal">` otherwise, an `<ol>` for
    an RDF list; its note (language, datatype) in a discreet `<small>` after it."""
    return Markup(_html(value))


def rows_html(rows: list[PropertyRow], inbound: bool = False) -> Markup:
    """The `<dt>`/`<dd>` pairs of a definition list: each row's predicate and its values (a list when there
    are several); `inbound` rows read "<predicate> of" and always list their subjects."""
    parts = []
    for row in rows:
        values = [_html(value) for value in row.values]
        if inbound:
            term, shown = f"{_html(row.predicate)} of", _list(values)
        else:
            term, shown = _html(row.predicate), values[0] if len(values) == 1 else _list(values)
        parts.append(f"\n    <dt>{term}</dt>\n    <dd>{shown}</dd>")
    return Markup("".join(parts))


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def escape(text: str) -> str:
    """markupsafe.escape's result as a plain string, without building a Markup per string."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


@functools.lru_cache(maxsize=HTML_CACHE_ENTRIES)
def _html(value: Value) -> str:
    if value.members:
        shown = "".join(f"<li>{_html(member)}</li>" for member in value.members)
        html = f'<ol class="list">{shown}</ol>'
    elif value.href:
        title = f' title="{escape(value.iri)}"' if value.iri and value.iri != value.text else ""
        html = f'<a href="{escape(value.href)}"{title}>{escape(value.text)}</a>'
    else:
        html = f'<span class="literal">{escape(value.text)}</span>'
    if value.note:
        html += f' <small class="note">{escape(value.note)}</small>'
    return html
