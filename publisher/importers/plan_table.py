"""Reading action-plan tables as the source document prints them: sections, header rows, numbered items.

The reader keeps the text exactly as printed and never renumbers. It knows the source's real quirks:
a row split over several lines (continued column by column), numbers with and without a trailing dot,
actions without sub-tasks, and empty cells.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from publisher.importers.timeframes import MONTHS, Period


class TableError(ValueError):
    """Input the reader cannot place; the message names the file, the line and the fix."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = str(path)
        self.line = line


# Column kinds, and the header texts that name them (compared case-insensitively, dashes folded).
TOPIC, ACTION, SUBTASK, TIMEFRAME, PARTIES, PROGRESS = (
    "topic",
    "action",
    "sub-task",
    "timeframe",
    "responsible parties",
    "progress/outcome",
)
ITEM_COLUMNS = (TOPIC, ACTION, SUBTASK)
KNOWN_COLUMNS = (TOPIC, ACTION, SUBTASK, TIMEFRAME, PARTIES, PROGRESS)
LEVELS = {TOPIC: "topic", ACTION: "action", SUBTASK: "sub-task"}

_HEADING = re.compile(r"action\s+plan", re.IGNORECASE)
_MONTH_NAME = "|".join(sorted(MONTHS, key=len, reverse=True))
_PERIOD = re.compile(
    rf"(?:\b(?:{_MONTH_NAME})\.?\s+)?(?P<first>\d{{4}})\s*[-\u2013]\s*(?P<last>\d{{4}})", re.IGNORECASE
)
_NUMBERED = re.compile(r"^(?P<number>\d+(?:\.\d+)*)(?P<dot>\.?)(?:\s+(?P<text>.*\S))?\s*$", re.DOTALL)
_MONTH_YEAR = re.compile(r"(?P<month>[A-Za-z]+)\.?\s+(?P<year>\d{4})")


@dataclass
class Item:
    """A topic, action or sub-task, with the cells of its row."""

    level: str
    number: str
    printed_number: str
    text: str
    parent: Item | None
    lines: list[int]
    timeframe: str = ""
    parties: str = ""
    progress: str = ""


@dataclass
class PlanSection:
    """One action plan: its heading, period, preamble, columns and items in printed order."""

    heading: str
    period: str
    period_text: str  # the period as the heading prints it: "2018-2020", "OCT 2022-2024"
    heading_line: int
    preamble: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    progress_date: Period | None = None
    items: list[Item] = field(default_factory=list)
    joined_lines: list[tuple[int, int]] = field(default_factory=list)


def read_plan_tables(path: Path, dialect: str | None = None) -> list[PlanSection]:
    """Read every plan section of a TSV (or CSV) file. Raises TableError on input it cannot place."""
    dialect = dialect or ("csv" if path.suffix.lower() == ".csv" else "tsv")
    return _Reader(path).read(_rows(path, dialect))


def _rows(path: Path, dialect: str) -> Iterator[tuple[int, list[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise TableError(
            path, text_line(path, error.start), "not UTF-8 text; save the table as UTF-8"
        ) from None
    # Only \n ends a line: str.splitlines() would also split rows at form feeds and other separators.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if dialect == "csv":
        reader = csv.reader(line + "\n" for line in lines)
        row_start = 1
        for cells in reader:
            yield row_start, cells  # a quoted cell may span lines: report the line the row starts on
            row_start = reader.line_num + 1
    else:
        for number, line in enumerate(lines, start=1):
            yield number, line.split("\t")


def text_line(path: Path, offset: int) -> int:
    return path.read_bytes()[:offset].count(b"\n") + 1


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.sections: list[PlanSection] = []
        self.section: PlanSection | None = None
        self.current: dict[str, Item] = {}
        self.last_row: tuple[int, Item, list[str]] | None = None
        self.first_line: dict[tuple[str, str], int] = {}

    def error(self, line: int, message: str) -> TableError:
        return TableError(self.path, line, message)

    def read(self, rows: Iterator[tuple[int, list[str]]]) -> list[PlanSection]:
        for line, cells in rows:
            cells = [cell.strip() for cell in cells]
            filled = [cell for cell in cells if cell]
            if not filled:
                continue
            if len(filled) == 1 and cells[0] and _HEADING.search(cells[0]):
                self.start_section(line, cells[0])
            elif self.section is None:
                raise self.error(
                    line,
                    "text before the first plan heading; start the file with a heading "
                    "such as 'CMP ACTION PLAN – 2018-2020'",
                )
            elif not self.section.columns:
                if len(filled) == 1:
                    self.section.preamble.append(filled[0].removeprefix("- ").strip())
                else:
                    self.read_header(line, cells)
            else:
                self.read_row(line, cells)
        for section in self.sections:
            if not section.columns:
                raise self.error(
                    section.heading_line,
                    f"plan {section.heading!r} has no header row "
                    "(Topic, Action, Sub-task, Timeframe, Responsible parties)",
                )
            if not section.items:
                raise self.error(section.heading_line, f"plan {section.heading!r} has no items")
        if not self.sections:
            raise self.error(
                1, "no plan heading found; a plan starts with a line such as 'CMP ACTION PLAN – 2018-2020'"
            )
        return self.sections

    def start_section(self, line: int, heading: str) -> None:
        match = _PERIOD.search(heading)
        if not match:
            raise self.error(
                line, f"plan heading {heading!r} names no period; write it like 'CMP ACTION PLAN – 2018-2020'"
            )
        period = f"{match['first']}-{match['last']}"
        if any(section.period == period for section in self.sections):
            raise self.error(line, f"a second plan for {period}; each period may appear once")
        self.section = PlanSection(heading=heading, period=period, period_text=match[0], heading_line=line)
        self.sections.append(self.section)
        self.current = {}
        self.last_row = None

    def read_header(self, line: int, cells: list[str]) -> None:
        assert self.section is not None
        columns = []
        for cell in cells:
            kind = _column_kind(cell)
            if kind is None:
                raise self.error(
                    line,
                    f"unknown column {cell!r}; the columns are: Topic, Action, Sub-task, "
                    "Timeframe, Responsible parties, Progress/outcome – <Month Year>",
                )
            if kind in columns:
                raise self.error(line, f"column {cell!r} appears twice")
            columns.append(kind)
            if kind == PROGRESS:
                self.section.progress_date = self.progress_date(line, cell)
        missing = [c for c in (TOPIC, ACTION) if c not in columns]
        if missing:
            raise self.error(line, f"the header row lacks the column(s) {', '.join(missing)}")
        self.section.columns = columns

    def progress_date(self, line: int, cell: str) -> Period:
        match = _MONTH_YEAR.search(cell)
        month = MONTHS.get(match["month"].lower()) if match else None
        if match is None or month is None:
            raise self.error(
                line,
                f"the progress column {cell!r} names no date; write it like 'Progress/outcome – July 2022'",
            )
        return Period(int(match["year"]), month)

    def read_row(self, line: int, cells: list[str]) -> None:
        assert self.section is not None
        columns = self.section.columns
        extra = [cell for cell in cells[len(columns) :] if cell]
        if extra:
            raise self.error(
                line,
                f"this row has {len(cells)} cells but the header names {len(columns)} "
                f"columns; the extra text begins {extra[0][:40]!r}",
            )
        row = dict(zip(columns, cells + [""] * (len(columns) - len(cells)), strict=False))
        if not any(_NUMBERED.match(row.get(column, "")) for column in ITEM_COLUMNS):
            self.continue_row(line, row)
            return
        deepest: Item | None = None
        for column in ITEM_COLUMNS:
            if row.get(column):
                deepest = self.new_item(line, column, row[column])
        assert deepest is not None
        deepest.timeframe = row.get(TIMEFRAME, "")
        deepest.parties = row.get(PARTIES, "")
        deepest.progress = row.get(PROGRESS, "")
        self.last_row = (line, deepest, [row.get(column, "") for column in columns])

    def new_item(self, line: int, column: str, cell: str) -> Item:
        assert self.section is not None
        match = _NUMBERED.match(cell)
        if not match or not match["text"]:
            raise self.error(
                line,
                f"the {column} cell {cell[:40]!r} does not start with an item number and "
                "text (like '1.1. Facilitate ...'); number it, or move it to the row it continues",
            )
        level_index = ITEM_COLUMNS.index(column)
        parent = None
        if level_index > 0:
            parent = self.current.get(ITEM_COLUMNS[level_index - 1])
            if parent is None:
                raise self.error(
                    line,
                    f"{LEVELS[column]} {match['number']} has no "
                    f"{LEVELS[ITEM_COLUMNS[level_index - 1]]} above it",
                )
        key = (self.section.period, match["number"])
        if key in self.first_line:
            raise self.error(
                line,
                f"number {match['number']} is used twice in plan {self.section.period} "
                f"(first on line {self.first_line[key]}); numbers must be unique within a plan",
            )
        self.first_line[key] = line
        item = Item(
            level=LEVELS[column],
            number=match["number"],
            printed_number=match["number"] + match["dot"],
            text=match["text"],
            parent=parent,
            lines=[line],
        )
        self.section.items.append(item)
        self.current[column] = item
        for deeper in ITEM_COLUMNS[level_index + 1 :]:
            self.current.pop(deeper, None)
        return item

    def continue_row(self, line: int, row: dict[str, str]) -> None:
        """A row that numbers nothing continues the row above it, column by column."""
        assert self.section is not None
        if self.last_row is None:
            raise self.error(
                line,
                "this row numbers no topic, action or sub-task and follows no row it could "
                "continue; start it with an item number",
            )
        first_line, item, cells = self.last_row
        for index, column in enumerate(self.section.columns):
            if row[column]:
                cells[index] = f"{cells[index]} {row[column]}".strip()
        joined = dict(zip(self.section.columns, cells, strict=True))
        item_cell = joined.get(_item_column(item))
        if item_cell:
            match = _NUMBERED.match(item_cell)
            if match and match["text"]:
                item.text = match["text"]
        item.timeframe = joined.get(TIMEFRAME, "")
        item.parties = joined.get(PARTIES, "")
        item.progress = joined.get(PROGRESS, "")
        item.lines.append(line)
        self.section.joined_lines.append((line, first_line))


def _item_column(item: Item) -> str:
    return next(column for column, level in LEVELS.items() if level == item.level)


def _column_kind(cell: str) -> str | None:
    folded = re.sub(r"[\u2013\u2014-]", "-", cell).strip().lower()
    for kind in KNOWN_COLUMNS:
        if folded == kind or (kind == PROGRESS and folded.startswith(PROGRESS)):
            return kind
    if folded in {"subtask", "sub task"}:
        return SUBTASK
    return None
