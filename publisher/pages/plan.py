"""An action plan as the table people know from the document, and its timeline. No web imports.

Rows come in printed order (cmp:sequence); a topic's cell spans its rows and an action's the rows of its
sub-tasks, as in the document. Each row shows the timeframe as printed with its normalised dates, the
responsible parties as printed (each linked to its party), and the progress report with its status.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from publisher.pages.reader import Day, Link, Reader, day, is_true, month, segment, to_date
from publisher.timeline import NO_REPORT, Marker, TimelineItem, timeline_svg

KINDS = {"Topic": "topic", "Action": "action", "SubTask": "sub-task"}
# The variables and patterns that describe a plan item (bound to ?item), shared with the party view.
ITEM_VARIABLES = "?item ?kind ?seq ?number ?printed ?text ?partiesText ?raw ?start ?due ?open ?qualifier"
ITEM_PATTERN = """
  OPTIONAL { ?item a ?kind FILTER (?kind IN (cmp:Topic, cmp:Action, cmp:SubTask)) }
  OPTIONAL { ?item cmp:sequence ?seq }
  OPTIONAL { ?item cmp:number ?number }
  OPTIONAL { ?item cmp:printedNumber ?printed }
  OPTIONAL { ?item cmp:text ?text }
  OPTIONAL { ?item cmp:responsiblePartiesText ?partiesText }
  OPTIONAL { ?item cmp:timeframe ?timeframe
    OPTIONAL { ?timeframe cmp:rawText ?raw } OPTIONAL { ?timeframe cmp:startDate ?start }
    OPTIONAL { ?timeframe cmp:dueDate ?due } OPTIONAL { ?timeframe cmp:openEnded ?open }
    OPTIONAL { ?timeframe cmp:qualifier ?qualifier } }
"""


@dataclass(frozen=True)
class TimeframeView:
    raw: str | None  # the cell as printed
    start: Day | None
    due: Day | None
    open_ended: bool = False
    qualifier: str | None = None


@dataclass(frozen=True)
class Status:
    key: str  # the status concept's last path segment ("carried-over"), or "no report"
    label: str
    href: str | None = None


NO_REPORT_STATUS = Status(NO_REPORT, "no report")


@dataclass(frozen=True)
class Progress:
    status: Status
    text: str | None = None
    basis: str | None = None  # why the status was assigned (editorial)
    date: Day | None = None
    href: str | None = None  # the progress report's own page


@dataclass(frozen=True)
class CarryLink:
    """A carry-over between plans: "continues 2018-2020 2.1.1" or "continued in 2022-2024 2.2.1"."""

    text: str
    href: str | None
    confidence: str | None  # the confidence's label; None for plain "seen"
    basis: str | None
    basis_kind: str | None
    record_href: str | None  # the cmp:CarryOver resource


@dataclass(frozen=True)
class PlanItemView:
    iri: str
    href: str | None
    kind: str  # "topic", "action", "sub-task" ("item" if untyped)
    number: str  # as printed ("1.1.1.", "4.1.2")
    text: str
    timeframe: TimeframeView | None = None
    parties: tuple[Link, ...] = ()  # in the order printed
    parties_text: str | None = None
    progress: Progress | None = None
    carry: tuple[CarryLink, ...] = ()


@dataclass(frozen=True)
class Spanning:
    """A topic or action cell, shown once and spanning rows; item None: an empty cell."""

    item: PlanItemView | None
    rows: int


@dataclass(frozen=True)
class PlanRow:
    topic: Spanning | None  # None: the cell of a row above covers it
    action: Spanning | None
    subtask: PlanItemView | None
    leaf: PlanItemView  # the item whose timeframe, parties and progress the row shows


@dataclass(frozen=True)
class PlanView:
    iri: str
    name: str
    period: str  # "2018-2020", from the plan's IRI (docs/iris.md)
    has_progress: bool
    progress_as_of: Day | None
    groups: tuple[tuple[PlanRow, ...], ...]  # one per topic, a <tbody> each
    items: tuple[PlanItemView, ...]  # every item, in printed order
    status_counts: tuple[tuple[Status, int], ...]
    timeline_svg: str  # XML-escaped by publisher.timeline
    follows: tuple[Link, ...] = ()
    followed_by: tuple[Link, ...] = ()

    @property
    def rows(self) -> tuple[PlanRow, ...]:
        return tuple(row for group in self.groups for row in group)


def item_view(reader: Reader, row: dict[str, str]) -> PlanItemView:
    """An item from a solution of ITEM_PATTERN (without parties, progress or carry-overs)."""
    iri = row["item"]
    timeframe = None
    if any(key in row for key in ("raw", "start", "due", "open")):
        timeframe = TimeframeView(
            row.get("raw"),
            day(row.get("start")),
            day(row.get("due")),
            is_true(row.get("open")),
            row.get("qualifier"),
        )
    return PlanItemView(
        iri=iri,
        href=reader.href(iri),
        kind=KINDS.get(row.get("kind", "").rsplit("#", 1)[-1], "item"),
        number=row.get("printed") or row.get("number") or segment(iri),
        text=row.get("text", ""),
        timeframe=timeframe,
        parties_text=row.get("partiesText"),
    )


def status_of(reader: Reader, iri: str | None) -> Status:
    return Status(segment(iri), reader.name(iri), reader.href(iri)) if iri else NO_REPORT_STATUS


def plan_view(reader: Reader, plan: str, today: date | None = None) -> PlanView:
    """The plan as its table (rows in printed order, topics and actions spanning) and its timeline."""
    info = reader.first(
        """SELECT ?reportDate ?start ?due WHERE {
          OPTIONAL { $plan cmp:progressReportDate ?reportDate }
          OPTIONAL { $plan cmp:period ?period OPTIONAL { ?period cmp:startDate ?start }
                     OPTIONAL { ?period cmp:dueDate ?due } }
        } LIMIT 1""",
        plan=plan,
    )
    follows = [r["other"] for r in reader.rows("SELECT ?other { $plan cmp:follows ?other }", plan=plan)]
    followed_by = [r["other"] for r in reader.rows("SELECT ?other { ?other cmp:follows $plan }", plan=plan)]
    rows = reader.rows(
        f"""SELECT {ITEM_VARIABLES} ?report ?status ?reportText ?basis ?reportDate WHERE {{
          ?item p-plan:isStepOfPlan $plan ; cmp:sequence ?order .
          {ITEM_PATTERN}
          OPTIONAL {{ ?item cmp:progressReport ?report
            OPTIONAL {{ ?report cmp:status ?status }} OPTIONAL {{ ?report cmp:text ?reportText }}
            OPTIONAL {{ ?report cmp:statusBasis ?basis }} OPTIONAL {{ ?report dct:date ?reportDate }} }}
        }} ORDER BY ?order ?item""",
        plan=plan,
    )
    parties = reader.values((r["item"] for r in rows), "cmp:responsibleParty")
    reader.names(
        [*(p for found in parties.values() for p in found), *(r["status"] for r in rows if "status" in r)]
    )
    has_progress = "reportDate" in info or any("report" in r for r in rows)
    items = _items(reader, rows, parties, _carry_overs(reader, plan), has_progress)
    progress_as_of = month(info.get("reportDate"))
    name = reader.name(plan)
    counts: dict[Status, int] = {}
    for item in items:
        if item.progress is not None:
            counts[item.progress.status] = counts.get(item.progress.status, 0) + 1
    return PlanView(
        iri=plan,
        name=name,
        period=segment(plan),
        has_progress=has_progress,
        progress_as_of=progress_as_of,
        groups=_groups(items),
        items=tuple(items),
        status_counts=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].label))),
        timeline_svg=_timeline(
            name, items, progress_as_of, (to_date(info.get("start")), to_date(info.get("due"))), today
        ),
        follows=reader.links(follows),
        followed_by=reader.links(followed_by),
    )


def _items(
    reader: Reader,
    rows: list[dict[str, str]],
    parties: dict[str, list[str]],
    carry: dict[str, list[CarryLink]],
    has_progress: bool,
) -> list[PlanItemView]:
    items: list[PlanItemView] = []
    seen: set[str] = set()
    for row in rows:
        if row["item"] in seen:  # a second type or value repeats the item; the first row has it all
            continue
        seen.add(row["item"])
        item = item_view(reader, row)
        progress = None
        if "report" in row:
            progress = Progress(
                status_of(reader, row.get("status")),
                row.get("reportText"),
                row.get("basis"),
                month(row.get("reportDate")),
                reader.href(row["report"]),
            )
        elif has_progress and (item.kind == "sub-task" or (item.kind != "topic" and item.timeframe)):
            progress = Progress(NO_REPORT_STATUS)  # the document's progress cell is empty
        items.append(
            replace(
                item,
                parties=printed_parties(reader, item.parties_text, parties.get(item.iri, [])),
                progress=progress,
                carry=tuple(carry.get(item.iri, ())),
            )
        )
    return items


def printed_parties(reader: Reader, printed: str | None, linked: list[str]) -> tuple[Link, ...]:
    """The names as printed, each linked to the party it names (by its label or an alt label, as the
    importer resolves them); a linked party the text does not name is added after them."""
    by_name: dict[str, str] = {}
    for party, names in reader.names(linked).items():
        for name in (names.label, *names.alt):
            if name:
                by_name.setdefault(name.casefold(), party)
    shown: list[Link] = []
    named: set[str] = set()
    for name in (part.strip() for part in (printed or "").replace(";", ",").split(",")):
        if not name:
            continue
        found = by_name.get(name.casefold())
        if found is None:
            shown.append(Link(name, None))
            continue
        named.add(found)
        shown.append(reader.link(found, name))
    shown += [reader.link(party) for party in sorted(set(linked) - named)]
    return tuple(shown)


def _carry_overs(reader: Reader, plan: str) -> dict[str, list[CarryLink]]:
    """item -> its carry-over links, both ways ("continues ..." and "continued in ...")."""
    # The link is inside each branch: joined after the UNION, Oxigraph read every cmp:continues in the store.
    rows = reader.rows(
        """SELECT ?later ?earlier ?laterPlan ?earlierPlan ?laterNumber ?earlierNumber ?record ?confidence
                  ?kind ?basis WHERE {
          { ?later p-plan:isStepOfPlan $plan ; cmp:continues ?earlier }
          UNION { ?earlier p-plan:isStepOfPlan $plan . ?later cmp:continues ?earlier }
          OPTIONAL { ?later p-plan:isStepOfPlan ?laterPlan }
          OPTIONAL { ?earlier p-plan:isStepOfPlan ?earlierPlan }
          OPTIONAL { ?later cmp:number ?laterNumber }
          OPTIONAL { ?earlier cmp:number ?earlierNumber }
          OPTIONAL { ?later prov:qualifiedDerivation ?record . ?record prov:entity ?earlier
            OPTIONAL { ?record cmp:confidence ?confidence } OPTIONAL { ?record cmp:basisKind ?kind }
            OPTIONAL { ?record cmp:basis ?basis } }
        } ORDER BY ?later ?earlier""",
        plan=plan,
    )
    reader.names([r[k] for r in rows for k in ("confidence", "kind") if k in r])
    found: dict[str, list[CarryLink]] = {}
    done: set[tuple[str, str, str]] = set()
    for row in rows:
        confidence = row.get("confidence")
        shown_confidence = reader.name(confidence) if confidence and segment(confidence) != "seen" else None
        for words, (near, far) in (
            ("continues", ("later", "earlier")),
            ("continued in", ("earlier", "later")),
        ):
            here, there = row[near], row[far]
            here_plan, there_plan, there_number = (
                row.get(near + "Plan"),
                row.get(far + "Plan"),
                row.get(far + "Number"),
            )
            if here_plan != plan or (here, there, words) in done:
                continue
            done.add((here, there, words))
            number = there_number or segment(there)
            record = row.get("record")
            found.setdefault(here, []).append(
                CarryLink(
                    f"{words} {segment(there_plan)} {number}" if there_plan else f"{words} {number}",
                    reader.href(there),
                    shown_confidence,
                    row.get("basis"),
                    reader.name(row["kind"]) if "kind" in row else None,
                    reader.href(record) if record else None,
                )
            )
    return found


def _groups(items: list[PlanItemView]) -> tuple[tuple[PlanRow, ...], ...]:
    """The rows of the table in printed order, grouped by topic, with the cells that span rows.

    A sub-task makes a row; so does a topic or action with nothing under it, or with a timeframe, parties
    or progress of its own (shown on its own row before its children's).
    """
    groups: list[list[dict[str, Any]]] = []
    topic: PlanItemView | None = None
    action: PlanItemView | None = None
    for index, item in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        own_row = item.timeframe is not None or bool(item.parties) or item.progress is not None
        if item.kind == "topic" or not groups:
            groups.append([])
        if item.kind == "topic":
            topic, action = item, None
            if own_row or following is None or following.kind == "topic":
                groups[-1].append({"topic": topic, "action": None, "subtask": None, "leaf": item})
        elif item.kind == "action":
            action = item
            if own_row or following is None or following.kind not in ("sub-task", "item"):
                groups[-1].append({"topic": topic, "action": action, "subtask": None, "leaf": item})
        else:
            groups[-1].append({"topic": topic, "action": action, "subtask": item, "leaf": item})
    return tuple(_spanned(group) for group in groups if group)


def _spanned(group: list[dict[str, Any]]) -> tuple[PlanRow, ...]:
    """The topic cell spans the whole group; an action cell spans the rows of its sub-tasks."""
    rows: list[PlanRow] = []
    for index, row in enumerate(group):
        topic = Spanning(row["topic"], len(group)) if index == 0 else None
        action = None
        if index == 0 or row["action"] is not group[index - 1]["action"]:
            span = 1
            while index + span < len(group) and group[index + span]["action"] is row["action"]:
                span += 1
            action = Spanning(row["action"], span)
        rows.append(PlanRow(topic, action, row["subtask"], row["leaf"]))
    return tuple(rows)


def _timeline(
    name: str,
    items: list[PlanItemView],
    progress_as_of: Day | None,
    period: tuple[date | None, date | None],
    today: date | None,
) -> str:
    """Every sub-task and every other item with a timeframe (an undated one is named in the description)."""
    entries = []
    for item in items:
        frame = item.timeframe
        if frame is None and item.kind != "sub-task":
            continue
        entries.append(
            TimelineItem(
                number=item.number.rstrip("."),
                label=f"{item.number} {item.text}",
                due=to_date(frame.due.iso) if frame and frame.due else None,
                start=to_date(frame.start.iso) if frame and frame.start else None,
                open_ended=bool(frame and frame.open_ended),
                status=item.progress.status.key if item.progress else NO_REPORT,
                href=item.href,
            )
        )
    markers = []
    if progress_as_of is not None:
        markers.append(
            Marker(date.fromisoformat(progress_as_of.iso + "-01"), f"progress: {progress_as_of.text}")
        )
        title = f"{name}: due dates, coloured by progress status as of {progress_as_of.text}"
    else:
        title = f"{name}: due dates (no progress has been reported on this plan)"
    start, end = period
    return timeline_svg(
        title,
        entries,
        today,
        period=(start, end) if start and end else None,
        markers=markers,
        ident="plan-timeline",
    )
