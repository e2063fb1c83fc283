"""A plan's timeline as SVG, drawn on the server: one row per dated item, coloured by status.

Pure and deterministic: the same arguments give the same bytes, every value is XML-escaped, and the chart
carries a title, a description (every row in words) and a legend, so it reads without colour. It is meant to
be inlined in an HTML page, so its style rules are scoped to `svg.timeline` and its ids take a prefix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape, quoteattr

ROW_HEIGHT = 22
LABEL_WIDTH = 70
CHART_WIDTH = 560
TOP = 34
LEGEND_ROW = 20
NO_REPORT = "no report"

# Status -> fill colour; all meet 3:1 contrast against white for graphical objects (WCAG 1.4.11).
STATUS_COLOURS: dict[str, str] = {
    "completed": "#1a7f37",
    "underway": "#0969da",
    "ongoing": "#8250df",
    "carried-over": "#9a6700",
    "not-started": "#cf222e",
    NO_REPORT: "#57606a",
}
# What the legend and the description call a status (the vocabulary's labels).
STATUS_LABELS: dict[str, str] = {"carried-over": "carried over", "not-started": "not started"}
PERIOD_FILL = "#eef2f6"
MARKER_COLOUR = "#1f2328"


@dataclass(frozen=True)
class TimelineItem:
    number: str
    label: str
    due: date | None
    start: date | None = None
    open_ended: bool = False
    status: str = NO_REPORT  # a key of STATUS_COLOURS; anything else is drawn as "no report" would be
    href: str | None = None


@dataclass(frozen=True)
class Marker:
    """A labelled vertical line: "today", "progress as of July 2022"."""

    day: date
    label: str


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def timeline_svg(
    title: str,
    items: list[TimelineItem],
    today: date | None = None,
    *,
    period: tuple[date, date] | None = None,
    markers: Sequence[Marker] = (),
    ident: str = "timeline",
) -> str:
    """An SVG chart of the dated items; items with neither date nor open end are left out (and said so).

    `period` (the plan's) is shaded and widens the axis; an open-ended item with no date starts at its
    beginning. `today` and `markers` draw labelled lines; nothing here reads the clock.
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", ident):
        raise ValueError(f"a timeline's ident must be a plain XML name: {ident!r}")
    dated = [item for item in items if item.due or item.start or item.open_ended]
    undated = [item for item in items if item not in dated]
    days = [d for item in dated for d in (item.start, item.due) if d is not None]
    days += list(period or ()) + [marker.day for marker in markers]  # today is drawn only if it falls inside
    if not dated or not days:
        return _empty(title, undated, ident)
    first, last = min(days), max(days)
    first = date(first.year, 1, 1)
    last = date(last.year + (1 if any(i.open_ended for i in dated) else 0), 12, 31)
    span = (last - first).days or 1
    extra = [Marker(today, "today")] if today is not None else []
    shown_markers = [marker for marker in [*markers, *extra] if first <= marker.day <= last]

    def x(day: date) -> float:
        return LABEL_WIDTH + (day - first).days / span * CHART_WIDTH

    bottom = TOP + ROW_HEIGHT * len(dated)
    statuses = sorted({_known(item.status) for item in dated}, key=list(STATUS_COLOURS).index)
    legend = [(STATUS_COLOURS[status], status_label(status)) for status in statuses]
    if period is not None:
        legend.append((PERIOD_FILL, "plan period"))
    height = bottom + 24 + LEGEND_ROW * len(legend)
    width = LABEL_WIDTH + CHART_WIDTH + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(_description(dated, undated, period, shown_markers))}</desc>',
        "<style>svg.timeline text{font:12px system-ui,sans-serif;fill:#1f2328}"
        "svg.timeline .grid{stroke:#d0d7de;stroke-dasharray:2 3}</style>",
    ]
    if period is not None:
        left, right = x(period[0]), x(period[1])
        parts.append(
            f'<rect class="period" x="{left:.1f}" y="{TOP - 6}" width="{max(right - left, 1):.1f}" '
            f'height="{bottom - TOP + 6}" fill="{PERIOD_FILL}"/>'
        )
    for year in range(first.year, last.year + 1):
        left = x(date(year, 1, 1))
        parts.append(f'<line class="grid" x1="{left:.1f}" y1="{TOP - 6}" x2="{left:.1f}" y2="{bottom}"/>')
        parts.append(f'<text x="{left + 3:.1f}" y="{TOP - 12}">{year}</text>')
    for row, item in enumerate(dated):
        parts.append(_row(item, TOP + row * ROW_HEIGHT, x, period[0] if period else first, last))
    for marker in shown_markers:
        at = x(marker.day)
        anchor = "end" if at > width - 80 else "start" if at < LABEL_WIDTH + 80 else "middle"
        parts.append(
            f'<g class="marker"><line x1="{at:.1f}" y1="{TOP - 6}" x2="{at:.1f}" y2="{bottom + 4}" '
            f'stroke="{MARKER_COLOUR}" stroke-width="1.5"/>'
            f'<text x="{at:.1f}" y="{bottom + 16}" text-anchor="{anchor}">{escape(marker.label)}</text></g>'
        )
    legend_top = bottom + 24
    for index, (colour, text) in enumerate(legend):
        y = legend_top + index * LEGEND_ROW
        parts.append(
            f'<g class="legend"><rect x="{LABEL_WIDTH}" y="{y}" width="12" height="12" fill="{colour}" '
            f'stroke="#57606a" stroke-width="0.5"/>'
            f'<text x="{LABEL_WIDTH + 18}" y="{y + 10}">{escape(text)}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _known(status: str) -> str:
    return status if status in STATUS_COLOURS else NO_REPORT


def _row(item: TimelineItem, top: int, x: Callable[[date], float], begin: date, last: date) -> str:
    colour = STATUS_COLOURS[_known(item.status)]
    middle = top + ROW_HEIGHT / 2
    label = f'<text x="4" y="{middle + 4:.1f}">{escape(item.number)}</text>'
    shapes = []
    if item.start is not None and item.due is not None:
        left, right = x(item.start), x(item.due)
        shapes.append(
            f'<rect x="{left:.1f}" y="{top + 5}" width="{max(right - left, 3):.1f}" height="12" '
            f'rx="2" fill="{colour}"/>'
        )
    elif item.due is not None or item.start is not None:
        centre = x(item.due or item.start or begin)
        shapes.append(f'<path d="M{centre:.1f} {top + 4} l7 7 l-7 7 l-7 -7 z" fill="{colour}"/>')
    if item.open_ended:
        start = x(item.due or item.start or begin)
        end = x(last)
        shapes.append(
            f'<line x1="{start:.1f}" y1="{middle:.1f}" x2="{end - 6:.1f}" y2="{middle:.1f}" '
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="5 3"/>'
        )
        shapes.append(f'<path d="M{end:.1f} {middle:.1f} l-8 -5 v10 z" fill="{colour}"/>')
    tooltip = f"<title>{escape(item.label)} ({escape(status_label(item.status))})</title>"
    body = label + "".join(shapes)
    if item.href:
        return f'<a class="row" href={quoteattr(item.href)}>{tooltip}{body}</a>'
    return f'<g class="row">{tooltip}{body}</g>'


def _description(
    dated: list[TimelineItem],
    undated: list[TimelineItem],
    period: tuple[date, date] | None,
    markers: Sequence[Marker],
) -> str:
    rows = []
    if period is not None:
        rows.append(f"plan period {period[0].isoformat()} to {period[1].isoformat()}")
    for item in dated:
        when = []
        if item.start:
            when.append(f"from {item.start.isoformat()}")
        if item.due:
            when.append(f"due {item.due.isoformat()}")
        if item.open_ended:
            when.append("then ongoing" if item.due else "ongoing")
        rows.append(f"{item.number}: {' '.join(when)}, {status_label(item.status)}")
    if undated:
        rows.append("without a date: " + ", ".join(item.number for item in undated))
    rows += [f"{marker.label}: {marker.day.isoformat()}" for marker in markers]
    return "; ".join(rows)


def _empty(title: str, undated: list[TimelineItem], ident: str) -> str:
    said = "No dated items." + (
        " Without a date: " + ", ".join(item.number for item in undated) + "." if undated else ""
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 400 40" '
        'width="400" height="40" role="img" '
        f'aria-labelledby="{ident}-title"><title id="{ident}-title">{escape(title)}</title>'
        f'<text x="4" y="24" font-family="sans-serif" font-size="12">{escape(said)}</text></svg>\n'
    )
