"""Action-plan tables -> RDF: plans, topics, actions, sub-tasks, timeframes, parties and progress reports."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, TIME, XSD

from publisher.importers.plan_table import Item, PlanSection, TableError
from publisher.importers.timeframes import Period, Timeframe, TimeframeError, parse_timeframe
from publisher.iris import Iris
from publisher.namespaces import PPLAN

LABEL_LENGTH = 80
PROGRESS_STATUS_SCHEME = "progress-status"


@dataclass(frozen=True)
class PartyDirectory:
    """Responsible-party names (labels and alt labels, case-folded) -> party IRIs."""

    by_name: Mapping[str, URIRef]

    @classmethod
    def from_graph(cls, graph: Graph, party_class: URIRef) -> PartyDirectory:
        """Every resource typed as a party (or a sub-class of it), by each of its labels."""
        classes = set(graph.transitive_subjects(RDFS.subClassOf, party_class))
        by_name: dict[str, URIRef] = {}
        owners: dict[str, set[URIRef]] = {}
        for cls_ in classes:
            for party in graph.subjects(RDF.type, cls_):
                for predicate in (RDFS.label, SKOS.prefLabel, SKOS.altLabel):
                    for label in graph.objects(party, predicate):
                        owners.setdefault(str(label).casefold(), set()).add(URIRef(str(party)))
        for key, parties in owners.items():
            if len(parties) == 1:
                by_name[key] = next(iter(parties))
        return cls(by_name=by_name)

    def resolve(self, name: str) -> URIRef | None:
        return self.by_name.get(name.casefold())


@dataclass(frozen=True)
class StatusAssessment:
    status: str
    basis: str
    line: int


def read_status_table(path: Path) -> dict[tuple[str, str], StatusAssessment]:
    """The editorial status table: (plan, number) -> status slug and its basis."""
    assessments: dict[tuple[str, str], StatusAssessment] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        expected = ["plan", "number", "status", "basis"]
        if reader.fieldnames != expected:
            raise TableError(path, 1, f"the header must be {' / '.join(expected)}, got {reader.fieldnames}")
        for row in reader:
            line = reader.line_num
            if not all(row.get(column) for column in expected):
                raise TableError(path, line, "every row needs a plan, a number, a status and a basis")
            key = (row["plan"], row["number"])
            if key in assessments:
                raise TableError(
                    path, line, f"{key[0]} {key[1]} is assessed twice (first on line {assessments[key].line})"
                )
            assessments[key] = StatusAssessment(row["status"], row["basis"], line)
    return assessments


@dataclass
class PlanImporter:
    """Builds one graph per plan section; refuses input it cannot place, naming file and line."""

    iris: Iris
    parties: PartyDirectory
    source: URIRef
    source_path: Path
    statuses: Mapping[tuple[str, str], StatusAssessment] | None = None
    status_path: Path | None = None
    known_statuses: frozenset[URIRef] | None = None

    def build(self, sections: list[PlanSection]) -> dict[str, Graph]:
        graphs = {}
        previous: PlanSection | None = None
        for section in sections:
            graphs[section.period] = self.plan_graph(section, previous)
            previous = section
        self.check_statuses_used(sections)
        return graphs

    def plan_graph(self, section: PlanSection, previous: PlanSection | None) -> Graph:
        cmp = self.iris.cmp
        graph = Graph()
        plan = self.iris.plan(section.period)
        graph.add((plan, RDF.type, cmp.ActionPlan))
        graph.add((plan, RDFS.label, Literal(f"CMP action plan {section.period}", lang="en")))
        graph.add((plan, DCTERMS.title, Literal(section.heading, lang="en")))
        graph.add((plan, cmp.partOfProgramme, self.iris.programme))
        graph.add((plan, DCTERMS.source, self.source))
        for text in section.preamble:
            graph.add((plan, cmp.preamble, Literal(text, lang="en")))
        if previous is not None:
            graph.add((plan, cmp.follows, self.iris.plan(previous.period)))
        if section.progress_date is not None:
            graph.add(
                (
                    plan,
                    cmp.progressReportDate,
                    Literal(section.progress_date.xsd_lexical, datatype=XSD.gYearMonth),
                )
            )
        period = self.timeframe(section.heading_line, section.period_text)
        if period is not None:
            self.add_timeframe(
                graph,
                self.iris.plan_timeframe(section.period),
                period,
                f"Period of the CMP action plan {section.period}",
            )
            graph.add((plan, cmp.period, self.iris.plan_timeframe(section.period)))
        for sequence, item in enumerate(section.items, start=1):
            self.add_item(graph, section, item, sequence)
        return graph

    def add_item(self, graph: Graph, section: PlanSection, item: Item, sequence: int) -> None:
        cmp = self.iris.cmp
        node = self.iris.item(section.period, item.number)
        kind = {"topic": cmp.Topic, "action": cmp.Action, "sub-task": cmp.SubTask}[item.level]
        graph.add((node, RDF.type, kind))
        graph.add((node, RDFS.label, Literal(_label(item), lang="en")))
        graph.add((node, cmp.number, Literal(item.number)))
        graph.add((node, cmp.printedNumber, Literal(item.printed_number)))
        graph.add((node, cmp.text, Literal(item.text, lang="en")))
        graph.add((node, cmp.sequence, Literal(sequence)))
        graph.add((node, PPLAN.isStepOfPlan, self.iris.plan(section.period)))
        graph.add((node, DCTERMS.source, self.source))
        if item.parent is not None:
            graph.add((node, cmp.partOf, self.iris.item(section.period, item.parent.number)))
        line = item.lines[0]
        timeframe = self.timeframe(line, item.timeframe)
        if timeframe is not None:
            frame = self.iris.item_timeframe(section.period, item.number)
            self.add_timeframe(
                graph, frame, timeframe, f"Timeframe of {item.level} {item.number} ({section.period})"
            )
            graph.add((node, cmp.timeframe, frame))
        if item.parties:
            graph.add((node, cmp.responsiblePartiesText, Literal(item.parties)))
            for party in self.resolve_parties(line, item.parties):
                graph.add((node, cmp.responsibleParty, party))
        self.add_progress(graph, section, item, node)

    def add_progress(self, graph: Graph, section: PlanSection, item: Item, node: URIRef) -> None:
        cmp = self.iris.cmp
        assessment = (self.statuses or {}).get((section.period, item.number))
        if not item.progress:
            if assessment is not None:
                raise TableError(
                    self.status_path or "",
                    assessment.line,
                    f"{section.period} {item.number} has no progress text to assess; remove this row",
                )
            return
        report = self.iris.progress(section.period, item.number)
        graph.add((node, cmp.progressReport, report))
        graph.add((report, RDF.type, cmp.ProgressReport))
        graph.add(
            (
                report,
                RDFS.label,
                Literal(f"Progress on {item.level} {item.number} ({section.period})", lang="en"),
            )
        )
        graph.add((report, cmp.text, Literal(item.progress, lang="en")))
        graph.add((report, DCTERMS.source, self.source))
        if section.progress_date is not None:
            graph.add(
                (report, DCTERMS.date, Literal(section.progress_date.xsd_lexical, datatype=XSD.gYearMonth))
            )
        if self.statuses is None:
            return
        if assessment is None:
            raise TableError(
                self.source_path,
                item.lines[0],
                f"{section.period} {item.number} has progress text "
                f"but no status; add a row for it to {self.status_path}",
            )
        status = self.iris.vocab(PROGRESS_STATUS_SCHEME, assessment.status)
        if self.known_statuses is not None and status not in self.known_statuses:
            known = ", ".join(sorted(str(s).rsplit("/", 1)[-1] for s in self.known_statuses))
            raise TableError(
                self.status_path or "",
                assessment.line,
                f"unknown status {assessment.status!r}; use one of: {known}",
            )
        graph.add((report, cmp.status, status))
        graph.add((report, cmp.statusBasis, Literal(assessment.basis, lang="en")))

    def check_statuses_used(self, sections: list[PlanSection]) -> None:
        numbers = {(section.period, item.number) for section in sections for item in section.items}
        for key, assessment in (self.statuses or {}).items():
            if key not in numbers:
                raise TableError(
                    self.status_path or "",
                    assessment.line,
                    f"{key[0]} {key[1]} is not an item of {self.source_path}",
                )

    def timeframe(self, line: int, raw: str) -> Timeframe | None:
        try:
            return parse_timeframe(raw)
        except TimeframeError as error:
            raise TableError(self.source_path, line, str(error)) from None

    def add_timeframe(self, graph: Graph, node: URIRef, timeframe: Timeframe, label: str) -> None:
        cmp = self.iris.cmp
        graph.add((node, RDF.type, cmp.Timeframe))
        graph.add((node, RDFS.label, Literal(label, lang="en")))
        graph.add((node, cmp.rawText, Literal(timeframe.raw)))
        if timeframe.open_ended:
            graph.add((node, cmp.openEnded, Literal(True)))
        if timeframe.qualifier:
            graph.add((node, cmp.qualifier, Literal(timeframe.qualifier, lang="en")))
        if timeframe.start is not None:
            graph.add((node, cmp.startDate, Literal(timeframe.start.first_day)))
            self.add_instant(graph, node, TIME.hasBeginning, "start", timeframe.start)
        if timeframe.end is not None:
            graph.add((node, cmp.dueDate, Literal(timeframe.end.last_day)))
            self.add_instant(graph, node, TIME.hasEnd, "end", timeframe.end)

    def add_instant(self, graph: Graph, frame: URIRef, link: URIRef, name: str, period: Period) -> None:
        instant = URIRef(f"{frame}/{name}")
        graph.add((frame, link, instant))
        graph.add((instant, RDF.type, TIME.Instant))
        graph.add((instant, RDFS.label, Literal(period.xsd_lexical)))
        if period.month is None:
            graph.add((instant, TIME.inXSDgYear, Literal(period.xsd_lexical, datatype=XSD.gYear)))
        else:
            graph.add((instant, TIME.inXSDgYearMonth, Literal(period.xsd_lexical, datatype=XSD.gYearMonth)))

    def resolve_parties(self, line: int, cell: str) -> list[URIRef]:
        parties = []
        for name in (part.strip() for part in cell.replace(";", ",").split(",")):
            if not name:
                continue
            party = self.parties.resolve(name)
            if party is None:
                raise TableError(
                    self.source_path,
                    line,
                    f"unknown responsible party {name!r}; add it as the "
                    "rdfs:label or a skos:altLabel of one party in data/parties.ttl",
                )
            parties.append(party)
        return parties


def _label(item: Item) -> str:
    text = f"{item.printed_number} {item.text}"
    if len(text) <= LABEL_LENGTH:
        return text
    return text[: LABEL_LENGTH - 1].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"
