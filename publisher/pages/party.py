"""A party (an IWC body or a role group): the plan items naming it, grouped by plan, with their status,
a page of items at a time, and how it relates to other bodies. No web imports."""

from __future__ import annotations

from dataclasses import dataclass

from publisher.pages.plan import ITEM_PATTERN, ITEM_VARIABLES, PlanItemView, Status, item_view, status_of
from publisher.pages.reader import Day, Link, Reader, iri_ref, month

ITEMS_PER_PAGE = 200
# (label, pattern linking $this and ?other), in the order shown.
RELATIONS = (
    ("Part of", "$this org:subOrganizationOf ?other"),
    ("Has as sub-organisations", "?other org:subOrganizationOf $this"),
    ("Reports to", "$this org:reportsTo ?other"),
    ("Reported to by", "?other org:reportsTo $this"),
    ("Role its members hold", "$this org:role ?other"),
    ("Advises", "$this cmp:advises ?other"),
    ("Coordinator of", "?other cmp:coordinator $this"),
)


@dataclass(frozen=True)
class Responsibility:
    item: PlanItemView
    status: Status  # the progress report's, or "no report"


@dataclass(frozen=True)
class PlanResponsibilities:
    plan: Link
    progress_as_of: Day | None
    items: tuple[Responsibility, ...]  # those on this page, in printed order
    total: int  # items of the plan naming the party, on every page
    first: int  # the position of items[0] among them, from 1

    @property
    def whole(self) -> bool:
        """Every item of the plan naming the party is on this page."""
        return len(self.items) == self.total


@dataclass(frozen=True)
class Relation:
    label: str
    links: tuple[Link, ...]


@dataclass(frozen=True)
class PartyView:
    iri: str
    name: str
    short_names: tuple[str, ...]
    plans: tuple[PlanResponsibilities, ...]  # those with items on this page, by the plans' start dates
    relations: tuple[Relation, ...]
    total: int  # items naming the party, on every page
    plan_count: int  # plans with such items, on every page
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first(self) -> int:
        """The position of this page's first item, from 1."""
        return (self.page - 1) * self.page_size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)


@dataclass(frozen=True)
class _PlanCount:
    plan: str
    items: int
    report_date: Day | None


def party_view(reader: Reader, iri: str, page: int = 1, page_size: int = ITEMS_PER_PAGE) -> PartyView:
    """The party's page `page` of items (`page_size` a page, in plan order then printed order): a party
    of a large programme names thousands of items, more than a page can show."""
    page = max(page, 1)
    counts = _plan_counts(reader, iri)
    start = (page - 1) * page_size
    on_page: list[tuple[int, _PlanCount, int]] = []  # rank, plan, position of its first item shown
    before = 0  # items of the plans before this one
    for rank, count in enumerate(counts):
        if before + count.items > start and before < start + page_size:
            on_page.append((rank, count, max(start - before, 0) + 1))
        before += count.items
    ranks = [(count.plan, rank) for rank, count, _ in on_page]
    rows = _page_rows(reader, iri, ranks, on_page[0][2] - 1, page_size) if on_page else []
    reader.names([iri, *(plan for plan, _ in ranks), *(r["status"] for r in rows if "status" in r)])
    items: dict[str, list[Responsibility]] = {}
    seen: set[tuple[str, str]] = set()
    for row in rows:
        if (row["plan"], row["item"]) in seen:
            continue  # a second value of an optional property
        seen.add((row["plan"], row["item"]))
        items.setdefault(row["plan"], []).append(
            Responsibility(item_view(reader, row), status_of(reader, row.get("status")))
        )
    plans = [
        PlanResponsibilities(
            reader.link(count.plan), count.report_date, tuple(items[count.plan]), count.items, first
        )
        for _, count, first in on_page
        if count.plan in items
    ]
    relations = []
    for label, pattern in RELATIONS:
        others = [r["other"] for r in reader.rows(f"SELECT DISTINCT ?other {{ {pattern} }}", this=iri)]
        if others:
            relations.append(Relation(label, reader.links(others)))
    return PartyView(
        iri=iri,
        name=reader.name(iri),
        short_names=reader.names([iri])[iri].alt,
        plans=tuple(plans),
        relations=tuple(relations),
        total=sum(count.items for count in counts),
        plan_count=len(counts),
        page=page,
        page_size=page_size,
    )


def _plan_counts(reader: Reader, iri: str) -> list[_PlanCount]:
    """The plans with items naming the party, by start date: how many items each, and its report date."""
    rows = reader.rows(
        """SELECT ?plan ?items ?planStart ?planReportDate WHERE {
          { SELECT ?plan (COUNT(DISTINCT ?item) AS ?items) WHERE {
              ?item cmp:responsibleParty $this ; p-plan:isStepOfPlan ?plan } GROUP BY ?plan }
          OPTIONAL { ?plan cmp:period/cmp:startDate ?planStart }
          OPTIONAL { ?plan cmp:progressReportDate ?planReportDate }
        } ORDER BY ?planStart ?plan""",
        this=iri,
    )
    counts: dict[str, _PlanCount] = {}
    for row in rows:  # a plan with two start dates comes twice: the first counts
        counts.setdefault(
            row["plan"], _PlanCount(row["plan"], int(row["items"]), month(row.get("planReportDate")))
        )
    return list(counts.values())


def _page_rows(
    reader: Reader, iri: str, ranks: list[tuple[str, int]], offset: int, limit: int
) -> list[dict[str, str]]:
    """The page's items of the given plans (ranked in page order), from `offset` within them."""
    plans = " ".join(f"({iri_ref(plan)} {rank})" for plan, rank in ranks)
    return reader.rows(
        f"""SELECT {ITEM_VARIABLES} ?plan ?status WHERE {{
          {{ SELECT ?item ?plan ?rank (MIN(?sequence) AS ?order) WHERE {{
              VALUES (?plan ?rank) {{ {plans} }}
              ?item p-plan:isStepOfPlan ?plan ; cmp:responsibleParty $this .
              OPTIONAL {{ ?item cmp:sequence ?sequence }}
            }} GROUP BY ?item ?plan ?rank ORDER BY ?rank ?order ?item OFFSET {offset} LIMIT {limit} }}
          {ITEM_PATTERN}
          OPTIONAL {{ ?item cmp:progressReport/cmp:status ?status }}
        }} ORDER BY ?rank ?order ?item""",
        this=iri,
    )
