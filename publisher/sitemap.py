"""The sitemap (https://www.sitemaps.org/protocol.html): every entity page, from the store (no web imports).

An entity page is the local path of a subject IRI under the base; a hash IRI (`ontology#Topic`) is served by
its document's page (`ontology`), listed once. A sitemap holds at most 50,000 URLs, so a larger list is
split into numbered sitemaps named by a sitemap index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote
from xml.sax.saxutils import escape

from publisher.packed import PackedStrings
from publisher.store import Store

MAX_URLS = 50_000
NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Characters a URL path may keep as they are (RFC 3986 pchar and '/'); '%' keeps escapes the IRI has.
_SAFE = "/:@!$&'()*+,;=-._~%"


def entity_paths(store: Store, base: str) -> PackedStrings:
    """The local path of every entity page, each once, sorted."""
    literal = '"' + base.replace("\\", "\\\\").replace('"', '\\"') + '"'
    rows = store.query(
        f"SELECT DISTINCT ?s {{ ?s ?p ?o FILTER (isIRI(?s) && STRSTARTS(STR(?s), {literal})) }}"
    )
    return PackedStrings(sorted({row["s"].value[len(base) :].split("#", 1)[0] for row in rows}))


def chunks(paths: Sequence[str], size: int = MAX_URLS) -> list[Sequence[str]]:
    """The paths in sitemaps of at most `size` URLs (one, possibly empty, when they fit)."""
    return [paths[start : start + size] for start in range(0, len(paths), size)] or [paths]


def url_for_path(root: str, path: str) -> str:
    """An absolute URL on this server for a local path (root ends with '/'), percent-encoded."""
    return root + quote(path, safe=_SAFE)


def urlset(urls: Iterable[str]) -> str:
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NAMESPACE}">']
    lines += [f"<url><loc>{escape(url)}</loc></url>" for url in urls]
    lines.append("</urlset>\n")
    return "\n".join(lines)


def sitemap_index(urls: Iterable[str]) -> str:
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NAMESPACE}">']
    lines += [f"<sitemap><loc>{escape(url)}</loc></sitemap>" for url in urls]
    lines.append("</sitemapindex>\n")
    return "\n".join(lines)
