"""An `application/x-www-form-urlencoded` body's fields, decoded in C (no web imports).

A SPARQL query POSTed as a form has hundreds of `%XX` escapes (spaces, braces, `<`, `?`, newlines); the
standard library decodes them one by one in Python, about 40 us for a 1.5 kB query, a tenth of what cmpkg
adds to a fast query. Here each field is one `codecs.escape_decode` call (the `%XX` escapes become `\\xXX`
ones), with the same result as `urllib.parse.parse_qsl(..., keep_blank_values=True)` on every body it
accepts; a field with a malformed escape or bytes that are not UTF-8 is left to the caller's parser.
"""

from __future__ import annotations

import codecs


def form_fields(body: bytes) -> list[tuple[str, str]] | None:
    """The (name, value) pairs in order, or None when a field is not plain UTF-8 with valid escapes."""
    fields = []
    for pair in body.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name, value = _decoded(raw_name), _decoded(raw_value)
        if name is None or value is None:
            return None
        fields.append((name, value))
    return fields


def _decoded(raw: bytes) -> str | None:
    text = raw.replace(b"+", b" ")
    if b"%" in text:
        try:
            # Backslashes doubled first, so that the only escapes escape_decode sees are those made here.
            text = codecs.escape_decode(text.replace(b"\\", b"\\\\").replace(b"%", b"\\x"))[0]
        except ValueError:  # "%" without two hex digits after it
            return None
    try:
        return text.decode()
    except UnicodeDecodeError:
        return None
