"""Reading the timeframes printed in action plans ("Dec 2018 (first issue)", "Oct 2022 – March - 2023")."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

MONTHS: dict[str, int] = {}
for _number in range(1, 13):
    MONTHS[calendar.month_name[_number].lower()] = _number
    MONTHS[calendar.month_abbr[_number].lower()] = _number
MONTHS["sept"] = 9

_DASH = r"\s*[-\u2013\u2014]\s*"
_QUALIFIER_IN = re.compile(r"^(?P<qualifier>[A-Za-z][A-Za-z ]*?)\s+in\s+(?P<rest>.+)$", re.IGNORECASE)
_PAREN_QUALIFIER = re.compile(r"^(?P<rest>.*?)\s*\((?P<qualifier>[^()]+)\)$")
_THEN_ONGOING = re.compile(r"^(?P<rest>.+?),?\s+then\s+ongoing$", re.IGNORECASE)
_ONGOING = re.compile(r"^ongoing$", re.IGNORECASE)


def _date_pattern(name: str) -> str:
    """An optional month name (a stray hyphen allowed before the year) and a four-digit year."""
    return rf"(?:(?P<{name}month>[A-Za-z]+)\.?\s*-?\s*)?(?P<{name}year>\d{{4}})"


_SINGLE = re.compile(rf"^{_date_pattern('')}$")
_RANGE = re.compile(rf"^{_date_pattern('s_')}{_DASH}{_date_pattern('e_')}$")

EXAMPLES = "'Mar 2023', 'Dec 2018 (first issue)', 'Oct 2022 – Mar 2023', '2018-2020', 'Ongoing'"


class TimeframeError(ValueError):
    """A timeframe cell cmpkg cannot read."""


@dataclass(frozen=True, order=True)
class Period:
    """A calendar year or month, as precise as the plan printed it."""

    year: int
    month: int | None = None

    @property
    def first_day(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def last_day(self) -> date:
        month = self.month or 12
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def xsd_lexical(self) -> str:
        """The gYear or gYearMonth lexical form: "2018" or "2018-12"."""
        return f"{self.year:04d}" if self.month is None else f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Timeframe:
    """A timeframe as printed (`raw`) and normalised: a start, a deadline, or open-ended."""

    raw: str
    start: Period | None = None
    end: Period | None = None
    open_ended: bool = False
    qualifier: str | None = None


def parse_timeframe(raw: str) -> Timeframe | None:
    """Read a timeframe cell; None for an empty cell. Raises TimeframeError for text it cannot read."""
    text = " ".join(raw.split()).rstrip(".").strip()
    if not text:
        return None
    if _ONGOING.match(text):
        return Timeframe(raw=raw, open_ended=True)
    open_ended = False
    then_ongoing = _THEN_ONGOING.match(text)
    if then_ongoing:
        open_ended, text = True, then_ongoing["rest"]
    qualifier = None
    for pattern in (_PAREN_QUALIFIER, _QUALIFIER_IN):
        match = pattern.match(text)
        if match:
            qualifier, text = match["qualifier"].strip().lower(), match["rest"].strip()
            break
    start, end = _parse_dates(text, raw)
    return Timeframe(raw=raw, start=start, end=end, open_ended=open_ended, qualifier=qualifier)


def _parse_dates(text: str, raw: str) -> tuple[Period | None, Period]:
    single = _SINGLE.match(text)
    if single:
        return None, _period(single["month"], single["year"], raw)
    span = _RANGE.match(text)
    if span:
        start = _period(span["s_month"], span["s_year"], raw)
        end = _period(span["e_month"], span["e_year"], raw)
        if end.last_day < start.first_day:
            raise TimeframeError(f"timeframe {raw!r} ends before it starts; write the earlier date first")
        return start, end
    raise TimeframeError(f"cannot read timeframe {raw!r}; write it like {EXAMPLES}")


def _period(month: str | None, year: str, raw: str) -> Period:
    if month is None:
        return Period(int(year))
    number = MONTHS.get(month.lower())
    if number is None:
        raise TimeframeError(f"timeframe {raw!r}: {month!r} is not a month name; write e.g. 'Mar' or 'March'")
    return Period(int(year), number)
