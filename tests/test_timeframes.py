"""Reading the timeframes the action plans print: every form in the source document, and the ones refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest

from publisher.importers.plan_table import read_plan_tables
from publisher.importers.timeframes import Period, TimeframeError, parse_timeframe

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "source" / "cmp-action-plans.txt"


class Expected(NamedTuple):
    """How a reader of the plans understands a timeframe cell."""

    raw: str
    start: Period | None
    end: Period | None
    first_day: date | None  # first day of the start period
    last_day: date | None  # last day of the deadline period
    open_ended: bool = False
    qualifier: str | None = None


# Every timeframe cell of data/source/cmp-action-plans.txt, read as a person reads it.
SEED_TIMEFRAMES = [
    Expected("Dec 2018", None, Period(2018, 12), None, date(2018, 12, 31)),
    Expected("Ongoing", None, None, None, None, open_ended=True),
    Expected("Feb 2019", None, Period(2019, 2), None, date(2019, 2, 28)),
    Expected("Mar 2019", None, Period(2019, 3), None, date(2019, 3, 31)),
    Expected("Sep 2019", None, Period(2019, 9), None, date(2019, 9, 30)),
    Expected("Sep 2020", None, Period(2020, 9), None, date(2020, 9, 30)),
    Expected(
        "Dec 2018 (first issue)", None, Period(2018, 12), None, date(2018, 12, 31), qualifier="first issue"
    ),
    Expected(
        "Dec 2018 (first update)", None, Period(2018, 12), None, date(2018, 12, 31), qualifier="first update"
    ),
    Expected(
        "Oct 2022 – March - 2023", Period(2022, 10), Period(2023, 3), date(2022, 10, 1), date(2023, 3, 31)
    ),
    Expected("Mar 2023", None, Period(2023, 3), None, date(2023, 3, 31)),
    Expected("Sept 2023", None, Period(2023, 9), None, date(2023, 9, 30)),
    Expected("Sep 2023", None, Period(2023, 9), None, date(2023, 9, 30)),
    Expected(
        "Next issue in 2022, then ongoing.",
        None,
        Period(2022),
        None,
        date(2022, 12, 31),
        open_ended=True,
        qualifier="next issue",
    ),
]

# The periods the plans' headings print ("CMP ACTION PLAN – 2018-2020", "CMP ACTION PLAN – OCT 2022-2024").
HEADING_PERIODS = [
    Expected("2018-2020", Period(2018), Period(2020), date(2018, 1, 1), date(2020, 12, 31)),
    Expected("OCT 2022-2024", Period(2022, 10), Period(2024), date(2022, 10, 1), date(2024, 12, 31)),
]


@pytest.mark.parametrize("expected", SEED_TIMEFRAMES + HEADING_PERIODS, ids=lambda e: e.raw)
def test_timeframe_is_read_as_printed(expected: Expected) -> None:
    timeframe = parse_timeframe(expected.raw)

    assert timeframe is not None
    assert timeframe.raw == expected.raw
    assert timeframe.start == expected.start
    assert timeframe.end == expected.end
    assert (timeframe.start.first_day if timeframe.start else None) == expected.first_day
    assert (timeframe.end.last_day if timeframe.end else None) == expected.last_day
    assert timeframe.open_ended is expected.open_ended
    assert timeframe.qualifier == expected.qualifier


@pytest.mark.parametrize("raw", ["", "   "], ids=["empty", "blank"])
def test_an_empty_cell_has_no_timeframe(raw: str) -> None:
    # 2022-2024 sub-task 4.1.3 prints no timeframe.
    assert parse_timeframe(raw) is None


def test_raw_text_is_kept_verbatim_with_its_spacing() -> None:
    raw = "  Dec  2018 (first issue) "

    timeframe = parse_timeframe(raw)

    assert timeframe is not None
    assert timeframe.raw == raw
    assert timeframe.end == Period(2018, 12)
    assert timeframe.qualifier == "first issue"


@pytest.mark.parametrize(
    ("period", "first_day", "last_day"),
    [
        (Period(2020, 2), date(2020, 2, 1), date(2020, 2, 29)),
        (Period(2019, 2), date(2019, 2, 1), date(2019, 2, 28)),
        (Period(2023), date(2023, 1, 1), date(2023, 12, 31)),
    ],
    ids=["leap-february", "february", "whole-year"],
)
def test_period_first_and_last_day(period: Period, first_day: date, last_day: date) -> None:
    assert period.first_day == first_day
    assert period.last_day == last_day


# Malformed cells, and a phrase of the message that tells the editor how to write it instead.
MALFORMED = [
    ("Dec 20", "write it like"),
    ("Smarch 2023", "write e.g. 'Mar'"),
    ("2023 – 2022", "write the earlier date first"),
    ("soon", "write it like"),
    ("Dec 2018 (", "write it like"),
    ("13/2023", "write it like"),
    ("Feb 2019 – Jan 2019", "write the earlier date first"),
]


@pytest.mark.parametrize(("raw", "fix"), MALFORMED, ids=[raw for raw, _ in MALFORMED])
def test_malformed_timeframe_is_refused_with_how_to_write_it(raw: str, fix: str) -> None:
    with pytest.raises(TimeframeError) as caught:
        parse_timeframe(raw)

    message = str(caught.value)
    assert repr(raw) in message, "the message quotes the cell as printed"
    assert fix in message


def test_every_timeframe_in_the_source_document_is_covered() -> None:
    """A timeframe form the tables above do not know fails here, before it reaches the data."""
    known = {expected.raw for expected in SEED_TIMEFRAMES}
    cells = {item.timeframe for section in read_plan_tables(SEED) for item in section.items}

    printed = cells - {""}
    assert printed - known == set(), "a timeframe in the source is not in SEED_TIMEFRAMES; add it there"
    assert known - printed == set(), "SEED_TIMEFRAMES names a timeframe the source no longer prints"
    for raw in cells:
        parse_timeframe(raw)  # raises on a form cmpkg cannot read
