"""Checks of values a request carries (its Host header, a page number), with the reason when one is bad.
No web imports: the views and the WSGI layers in front of them call these."""

from __future__ import annotations

import functools
import ipaddress
import re

# RFC 3986 §3.2.2 host [":" port]: a reg-name as DNS writes one (letters, digits, "-", "."; IPv4 is one too)
# or a bracketed IPv6 address. Other reg-name characters ("_", "~", "%", "!", ...) are refused with them:
# werkzeug builds no URL from such a host, so the sitemap's and robots.txt's would lose it.
HOST = re.compile(r"(?:([a-z0-9.-]+)|\[([0-9a-f:.]+)\])(?::([0-9]{1,5}))?", re.ASCII | re.IGNORECASE)
HOST_SHAPE = "a host name, an IPv4 address or an [IPv6 address], then optionally :port"
MAX_PAGE = 999_999_999  # past any page of any answer; keeps int() and the store's OFFSET small


@functools.lru_cache(maxsize=64)  # a server sees few hosts, checked on every request
def host_problem(host: str | None) -> str | None:
    """Why a Host header value is not a host[:port] URLs can be made from; None when it is, or is absent
    (an HTTP/1.0 request, answered with the server's own name)."""
    if host is None:
        return None
    shown = repr(host[:100])
    found = HOST.fullmatch(host)
    if found is None:
        return f"{shown} is not {HOST_SHAPE}"
    name, literal, port = found.groups()
    if port is not None and not 1 <= int(port) <= 65535:
        return f"{shown}: the port is not from 1 to 65535"
    if literal is not None:
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return f"{shown}: {literal!r} is not an IPv6 address"
        return None
    try:
        name.lower().encode("ascii").decode("idna")  # "xn--" labels must be Punycode (RFC 5891)
    except UnicodeError:
        return f"{shown} is not a valid internationalized domain name (an xn-- label is not Punycode)"
    return None


def page_number(text: str) -> int:
    """The page a request's `page=` names: a whole number from 1, in ASCII digits (str.isdigit and int()
    also take "²", "①" or Arabic-Indic digits). ValueError, saying what is wrong, for anything else."""
    digits = text.lstrip("0")
    if not (text.isascii() and text.isdigit()) or not digits or len(digits) > len(str(MAX_PAGE)):
        raise ValueError(f"page must be a whole number from 1 to {MAX_PAGE}, not {text[:100]!r}")
    return int(text)
