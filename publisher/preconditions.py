"""Conditional and range requests for a GET or HEAD (RFC 9110 §13 and §14); no web imports.

`evaluate` takes the request's headers (`Conditions`, read from a WSGI environ) and the representation's
entity tag, last modification and length, and says how to answer: 200, 206 with a byte range, 304, 412 or
416. The views build that answer; what a 304 or 412 carries is theirs to decide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(" + "|".join(MONTHS) + ")"
_TIME = r"(\d\d):(\d\d):(\d\d)"
# RFC 9110 §5.6.7: IMF-fixdate, then the two obsolete forms a recipient must accept. Names are case-sensitive.
IMF_FIXDATE = re.compile(rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) {_MONTH} (\d{{4}}) {_TIME} GMT")
RFC850_DATE = re.compile(
    rf"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d\d)-{_MONTH}-(\d\d) {_TIME} GMT"
)
ASCTIME_DATE = re.compile(rf"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) {_MONTH} ([ \d]\d) {_TIME} (\d{{4}})")
# One member of an entity-tag list (RFC 9110 §8.8.3): optional whitespace, a tag or nothing, then a comma.
_LIST_MEMBER = re.compile(r'[ \t]*(?:(W/)?("[\x21\x23-\x7e\x80-\xff]*"))?[ \t]*(?:,|\Z)')
_BYTE_RANGE = re.compile(r"[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*")
_HUGE = 10**18  # stands for any position past every representation's end
SAFE_METHODS = ("GET", "HEAD")


@dataclass(frozen=True, slots=True)  # slots: built for every entity request, replayed ones too
class Conditions:
    """A request's method and its precondition and range header fields (None: absent)."""

    method: str = "GET"
    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    if_unmodified_since: str | None = None
    range: str | None = None
    if_range: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any]) -> Conditions:
        """The fields of a WSGI request; an empty one counts as absent (several lines of one field arrive
        joined with commas)."""
        return cls(
            str(environ.get("REQUEST_METHOD") or "GET"),
            environ.get("HTTP_IF_MATCH") or None,
            environ.get("HTTP_IF_NONE_MATCH") or None,
            environ.get("HTTP_IF_MODIFIED_SINCE") or None,
            environ.get("HTTP_IF_UNMODIFIED_SINCE") or None,
            environ.get("HTTP_RANGE") or None,
            environ.get("HTTP_IF_RANGE") or None,
        )

    @property
    def unconditional(self) -> bool:
        """Whether no field here can change the answer (If-Range means nothing without Range)."""
        return (
            self.if_match is None
            and self.if_none_match is None
            and self.if_modified_since is None
            and self.if_unmodified_since is None
            and self.range is None
        )


@dataclass(frozen=True)
class Outcome:
    """How to answer: the status and, for 206 and 416, the byte range and the representation's length."""

    status: int
    first: int = 0
    last: int = -1  # inclusive, as in Content-Range
    length: int = 0

    @property
    def content_range(self) -> str | None:
        """The Content-Range field of a 206 or a 416 (None for the other statuses)."""
        if self.status == 206:
            return f"bytes {self.first}-{self.last}/{self.length}"
        if self.status == 416:
            return f"bytes */{self.length}"
        return None


OK = Outcome(200)


@dataclass(frozen=True)
class EntityTag:
    """An entity tag (RFC 9110 §8.8.3): `"x"` is strong, `W/"x"` weak."""

    opaque: str  # with its quotes
    weak: bool = False


def evaluate(
    conditions: Conditions, etag: str, modified: datetime | None, length: int | None = None
) -> Outcome:
    """RFC 9110 §13.2.2's order for a representation with entity tag `etag` (`"x"` or `W/"x"`), last
    modified at `modified`, of `length` bytes (None: Range is not offered and is ignored)."""
    if conditions.unconditional:  # most requests: answered without parsing anything
        return OK
    current = parse_entity_tag(etag)
    changed = _to_second(modified)
    if conditions.if_match is not None:
        if not _any_matches(conditions.if_match, current, strong=True):
            return Outcome(412)
    elif conditions.if_unmodified_since is not None and changed is not None:
        date = parse_http_date(conditions.if_unmodified_since)
        if date is not None and changed > date:
            return Outcome(412)
    safe = conditions.method in SAFE_METHODS
    if conditions.if_none_match is not None:
        if _any_matches(conditions.if_none_match, current, strong=False):
            return Outcome(304 if safe else 412)
    elif safe and conditions.if_modified_since is not None and changed is not None:
        date = parse_http_date(conditions.if_modified_since)
        if date is not None and changed <= date:
            return Outcome(304)
    if (
        conditions.method == "GET"  # §14.2: the only method range handling is defined for
        and conditions.range is not None
        and length  # an empty representation has no bytes to give a range of
        and _if_range_holds(conditions.if_range, current, changed)
    ):
        return _byte_range(conditions.range, length)
    return OK


def parse_http_date(value: str) -> datetime | None:
    """An HTTP-date in any of its three forms (RFC 9110 §5.6.7), in UTC; None when it is not one."""
    text = value.strip(" \t")
    if found := IMF_FIXDATE.fullmatch(text):
        day, month, year, hour, minute, second = found.groups()
    elif found := RFC850_DATE.fullmatch(text):
        day, month, two_digits, hour, minute, second = found.groups()
        year = str(_full_year(int(two_digits)))
    elif found := ASCTIME_DATE.fullmatch(text):
        month, day, hour, minute, second, year = found.groups()
    else:
        return None
    try:
        return datetime(
            int(year), MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError:  # 31 Feb, 25:00, year 0000
        return None


def parse_entity_tag(value: str) -> EntityTag:
    """One entity tag, `"x"` or `W/"x"` (ValueError when it is not one)."""
    tags = entity_tags(value)
    if len(tags) != 1:
        raise ValueError(f"not one entity tag: {value!r}")
    return tags[0]


def entity_tags(value: str) -> list[EntityTag]:
    """The entity tags of a list field such as If-Match; none when the value is not such a list."""
    tags, position = [], 0
    while position < len(value):
        member = _LIST_MEMBER.match(value, position)
        if member is None:
            return []
        if member.group(2):
            tags.append(EntityTag(member.group(2), weak=member.group(1) is not None))
        position = member.end()
    return tags


def _any_matches(field: str, current: EntityTag, strong: bool) -> bool:
    """§13.1.1-2: `*` matches any current representation; else a listed tag, strongly or weakly compared."""
    if field.strip(" \t") == "*":
        return True
    return any(
        tag.opaque == current.opaque and not (strong and (tag.weak or current.weak))
        for tag in entity_tags(field)
    )


def _if_range_holds(field: str | None, current: EntityTag, changed: datetime | None) -> bool:
    """§13.1.5: no If-Range, a strong tag strongly matching, or exactly the last modification date."""
    if field is None:
        return True
    text = field.strip(" \t")
    if text.startswith(('"', 'W/"')):
        tags = entity_tags(text)
        return len(tags) == 1 and not tags[0].weak and not current.weak and tags[0].opaque == current.opaque
    date = parse_http_date(text)
    return date is not None and date == changed


def _byte_range(field: str, length: int) -> Outcome:
    """§14.2: one range of bytes, 206 when satisfiable and 416 when not; other units, several ranges and
    malformed ranges are ignored (200 with the whole representation)."""
    unit, equals, ranges = field.partition("=")
    if not equals or unit.strip(" \t").lower() != "bytes":
        return OK
    members = [member for member in ranges.split(",") if member.strip(" \t")]
    found = _BYTE_RANGE.fullmatch(members[0]) if len(members) == 1 else None
    if found is None or not (found.group(1) or found.group(2)):
        return OK
    first_text, last_text = found.groups()
    if not first_text:  # bytes=-N: the last N bytes
        suffix = _number(last_text)
        if suffix == 0:
            return Outcome(416, length=length)
        return Outcome(206, max(0, length - suffix), length - 1, length)
    first = _number(first_text)
    last = _number(last_text) if last_text else _HUGE
    if last < first:
        return OK  # not a valid range
    if first >= length:
        return Outcome(416, length=length)
    return Outcome(206, first, min(last, length - 1), length)


def _number(digits: str) -> int:
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) < 18 else _HUGE


def _full_year(two_digits: int) -> int:
    """§5.6.7: an RFC 850 year more than 50 years ahead is the latest past year ending in those digits."""
    now = datetime.now(UTC).year
    year = now + (two_digits - now) % 100
    return year - 100 if year > now + 50 else year


def _to_second(moment: datetime | None) -> datetime | None:
    """The time as an HTTP-date gives it: whole seconds, UTC (a naive time is taken to be UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)
