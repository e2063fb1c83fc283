"""Where a link to an IRI points in the HTML cmpkg serves (no web imports).

IRIs under the public base link to the same path on this server, so a local instance is fully browsable;
other web IRIs link out; anything else (javascript:, data:, urn:) is shown but never becomes a link.
"""

from __future__ import annotations


def local_path(iri: str, base: str) -> str | None:
    """The path of an IRI under the base ("plan/2018-2020/1.1"), or None for an IRI elsewhere."""
    return iri[len(base) :] if iri.startswith(base) else None


def href_for(iri: str, base: str, link_root: str = "/") -> str | None:
    local = local_path(iri, base)
    if local is not None:
        return link_root.rstrip("/") + "/" + local
    return iri if iri.lower().startswith(("http://", "https://")) else None
