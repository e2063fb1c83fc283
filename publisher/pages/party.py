"""A party (an IWC body or a role group): every plan item naming it, grouped by plan, with its status, and
how it relates to other bodies. No web imports."""

from __future__ import annotations

from dataclasses import dataclass

from publisher.pages.plan import ITEM_PATTERN, ITEM_VARIABLES, PlanItemView, Status, item_view, status_of
from publisher.pages.reader import Day, Link, Reader, month

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
    items: tuple[Responsibility, ...]  # in printed order


@dataclass(frozen=True)
class Relation:
    label: str
    links: tuple[Link, ...]


@dataclass(frozen=True)
class PartyView:
    iri: str
    name: str
    short_names: tuple[str, ...]
    plans: tuple[PlanResponsibilities, ...]  # by the plans' start dates
    relations: tuple[Relation, ...]

    @property
    def total(self) -> int:
        return sum(len(plan.items) for plan in self.plans)


def party_view(reader: Reader, iri: str) -> PartyView:
    rows = reader.rows(
        f"""SELECT {ITEM_VARIABLES} ?plan ?planStart ?planReportDate ?status WHERE {{
          ?item cmp:responsibleParty $this ; p-plan:isStepOfPlan ?plan .
          OPTIONAL {{ ?plan cmp:period/cmp:startDate ?planStart }}
          OPTIONAL {{ ?plan cmp:progressReportDate ?planReportDate }}
          {ITEM_PATTERN}
          OPTIONAL {{ ?item cmp:progressReport/cmp:status ?status }}
        }} ORDER BY ?planStart ?plan ?seq ?item""",
        this=iri,
    )
    reader.names([iri, *(r["plan"] for r in rows), *(r["status"] for r in rows if "status" in r)])
    plans: dict[str, list[Responsibility]] = {}
    dates: dict[str, Day | None] = {}
    seen: set[str] = set()
    for row in rows:
        if row["item"] in seen:
            continue
        seen.add(row["item"])
        plans.setdefault(row["plan"], []).append(
            Responsibility(item_view(reader, row), status_of(reader, row.get("status")))
        )
        dates[row["plan"]] = month(row.get("planReportDate"))
    relations = []
    for label, pattern in RELATIONS:
        others = [r["other"] for r in reader.rows(f"SELECT DISTINCT ?other {{ {pattern} }}", this=iri)]
        if others:
            relations.append(Relation(label, reader.links(others)))
    return PartyView(
        iri=iri,
        name=reader.name(iri),
        short_names=reader.names([iri])[iri].alt,
        plans=tuple(
            PlanResponsibilities(reader.link(p), dates[p], tuple(items)) for p, items in plans.items()
        ),
        relations=tuple(relations),
    )
