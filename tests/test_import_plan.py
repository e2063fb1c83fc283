"""`cmpkg import-plan`: the action-plan tables of the source document as RDF, and the input it refuses.

Expected values come from reading data/source/cmp-action-plans.txt as a person would, not from the output.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import cast

import pytest
from click.testing import CliRunner, Result
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, TIME, XSD
from rdflib.term import Node

from publisher.cli import main
from publisher.generate import plan_files
from publisher.importers.plan_table import TableError
from publisher.iris import Iris
from publisher.namespaces import PPLAN
from publisher.site import Site

BASE = "https://w3id.org/iwc-cmp/"
OTHER_BASE = "https://example.org/elsewhere/"
ROOT = Path(__file__).resolve().parent.parent
SITE = Site(ROOT)
IRIS = Iris(BASE)
CMP = IRIS.cmp
SEED = ROOT / "data" / "source" / "cmp-action-plans.txt"
STATUS_TABLE = ROOT / "data" / "source" / "progress-status-2018-2020.tsv"
OLD, NEW = "2018-2020", "2022-2024"
HEADER = ["Topic", "Action", "Sub-task", "Timeframe", "Responsible parties"]


# ---------------------------------------------------------------------------------------------------------
# The seed, imported in memory


def import_texts(
    source: Path, status_table: Path | None = None, out_dir: Path = Path("plans")
) -> dict[Path, str]:
    return plan_files(SITE, IRIS, source, out_dir, status_table)


def parse(text: str, base: str = BASE) -> Graph:
    return Graph().parse(data=text, format="turtle", publicID=base)


@pytest.fixture(scope="module")
def seed_texts() -> dict[str, str]:
    return {path.stem: text for path, text in import_texts(SEED, STATUS_TABLE).items()}


@pytest.fixture(scope="module")
def plans(seed_texts: dict[str, str]) -> dict[str, Graph]:
    return {period: parse(text) for period, text in seed_texts.items()}


@pytest.fixture(scope="module")
def graph(plans: dict[str, Graph]) -> Graph:
    merged = Graph()
    for plan_graph in plans.values():
        merged += plan_graph
    return merged


def one(graph: Graph, subject: Node, predicate: URIRef) -> Node:
    values = list(graph.objects(subject, predicate))
    assert len(values) == 1, f"{subject} has {len(values)} {predicate}, expected one"
    return values[0]


def none_of(graph: Graph, subject: Node, predicate: URIRef) -> None:
    values = list(graph.objects(subject, predicate))
    assert values == [], f"{subject} has {predicate} {values}, expected none"


def party(slug: str) -> URIRef:
    return IRIS.party(slug)


def status(slug: str) -> URIRef:
    return IRIS.vocab("progress-status", slug)


# ---------------------------------------------------------------------------------------------------------
# Every item, as the document prints it


@dataclass(frozen=True)
class Row:
    plan: str
    number: str
    printed: str
    kind: str  # Topic, Action, SubTask
    parent: str | None
    text: str  # the first words of the item's text
    timeframe: str | None = None  # the cell as printed; None for an empty cell
    start: date | None = None
    due: date | None = None
    open_ended: bool = False
    qualifier: str | None = None
    parties: frozenset[str] = frozenset()
    progress: str | None = None  # the first words of the progress text
    status: str | None = None


SWG = frozenset({"swg-cmp"})
SWG_SEC = frozenset({"swg-cmp", "secretariat"})

ITEMS = [
    # CMP ACTION PLAN – 2018-2020 (lines 3-18), progress column "Progress/outcome – July 2022"
    Row(OLD, "1", "1.", "Topic", None, "Strengthened support for range states"),
    Row(OLD, "1.1", "1.1.", "Action", "1", "As required, work with range states of current CMPs"),
    Row(
        OLD, "1.1.1", "1.1.1.", "SubTask", "1.1", "Highlight the services the Commission can provide",
        "Dec 2018", due=date(2018, 12, 31), parties=SWG_SEC,
        progress="A concept note for the CMP program was developed in 2020", status="carried-over",
    ),
    Row(
        OLD, "1.1.2", "1.1.2.", "SubTask", "1.1", "If approached by range states, work together",
        "Ongoing", open_ended=True,
        parties=frozenset({"swg-cmp", "secretariat", "icg-sf", "coordinators", "range-states"}),
    ),
    Row(OLD, "1.2", "1.2.", "Action", "1", "Facilitate greater in-person support for participating range"),
    Row(
        OLD, "1.2.1", "1.2.1.", "SubTask", "1.2", "Compile a list of skills and experience of CMP actors",
        "Feb 2019", due=date(2019, 2, 28), parties=SWG,
        progress="CMP coordinators are collaborative", status="not-started",
    ),
    Row(OLD, "2", "2.", "Topic", None, "Priority species for CMP development"),
    Row(OLD, "2.1", "2.1.", "Action", "2", "Ensure the Commission's list of priority species"),
    Row(
        OLD, "2.1.1", "2.1.1.", "SubTask", "2.1", "Develop a formal process and timeframes",
        "Mar 2019", due=date(2019, 3, 31), parties=frozenset({"swg-cmp", "sc-cmp"}),
        progress="The SWG-CMP chair maintains a list.", status="carried-over",
    ),
    Row(OLD, "2.2", "2.2.", "Action", "2", "Conduct outreach activities to prospective CMP proponents"),
    Row(
        OLD, "2.1.2", "2.1.2.", "SubTask", "2.2", "Write to relevant range states within two months",
        "Ongoing", open_ended=True, parties=SWG_SEC,
        progress="To be carried over to new workplan", status="carried-over",
    ),
    Row(OLD, "3", "3.", "Topic", None, "Regional Inventories"),
    Row(OLD, "3.1", "3.1.", "Action", "3", "Evaluate the regional inventory initiative"),
    Row(
        OLD, "3.1.1", "3.1.1.", "SubTask", "3.1", "Review the usefulness of the Pacific inventory.",
        "Sep 2019", due=date(2019, 9, 30), parties=SWG_SEC,
    ),
    Row(
        OLD, "3.1.2", "3.1.2.", "SubTask", "3.1", "Submit recommendations to the Conservation Committee",
        "Sep 2020", due=date(2020, 9, 30), parties=SWG,
        progress="The SWG-CMP Chair evaluated the effectiveness", status="completed",
    ),
    Row(OLD, "4", "4.", "Topic", None, "Better promotion of the CMP program and its achievements"),
    Row(OLD, "4.1", "4.1.", "Action", "4", "Develop and improve communication materials for CMPs"),
    Row(
        OLD, "4.1.1", "4.1.1.", "SubTask", "4.1", "Develop a six monthly newsletter",
        "Dec 2018 (first issue)", due=date(2018, 12, 31), qualifier="first issue", parties=SWG_SEC,
        progress="First issue published in 2020.", status="carried-over",
    ),
    Row(
        OLD, "4.1.2", "4.1.2", "SubTask", "4.1", "Update CMP website to include achievements to date",
        "Dec 2018 (first update)", due=date(2018, 12, 31), qualifier="first update", parties=SWG_SEC,
        progress="Underway", status="underway",
    ),
    # CMP ACTION PLAN – OCT 2022-2024 (lines 20-30), no progress column
    Row(NEW, "1", "1.", "Topic", None, "Seek a co-chair or program lead (for term 2022-24)"),
    Row(NEW, "1.1", "1.1.", "Action", "1", "Seek interest from the SWG-CMP and SC CMP Sub-committee"),
    Row(
        NEW, "1.1.1", "1.1.1.", "SubTask", "1.1", "Discuss and record roles and responsibilities",
        "Oct 2022 – March - 2023", start=date(2022, 10, 1), due=date(2023, 3, 31), parties=SWG_SEC,
    ),
    Row(NEW, "2", "2.", "Topic", None, "Priority species for CMP development"),
    Row(
        NEW, "2.1", "2.1.", "Action", "2", "Publish an up-to-date list of CMP priority species",
        "Mar 2023", due=date(2023, 3, 31), parties=SWG,
    ),
    Row(NEW, "2.2", "2.2.", "Action", "2", "Conduct outreach activities to prospective CMP proponents"),
    Row(
        NEW, "2.2.1", "2.2.1.", "SubTask", "2.2", "Write to relevant range states to provide the CMP",
        "Ongoing", open_ended=True, parties=SWG_SEC,
    ),
    Row(NEW, "3", "3.", "Topic", None, "Progress fundraising"),
    Row(NEW, "3.1", "3.1.", "Action", "3", "Work with the Secretariat's fundraising officer"),
    Row(
        NEW, "3.1.1", "3.1.1.", "SubTask", "3.1", "Update the concept note",
        "Sept 2023", due=date(2023, 9, 30), parties=SWG_SEC,
    ),
    Row(
        NEW, "3.1.2", "3.1.2.", "SubTask", "3.1", "Identify discrete projects from existing CMPs",
        "Sep 2023", due=date(2023, 9, 30), parties=SWG,
    ),
    Row(NEW, "4", "4.", "Topic", None, "Better promotion of the CMP program and its achievements"),
    Row(NEW, "4.1", "4.1.", "Action", "4", "Develop and improve communication materials for CMPs"),
    Row(
        NEW, "4.1.1", "4.1.1.", "SubTask", "4.1", "Continue an at-least annual newsletter",
        "Next issue in 2022, then ongoing.", due=date(2022, 12, 31), open_ended=True,
        qualifier="next issue", parties=SWG_SEC,
    ),
    Row(
        NEW, "4.1.2", "4.1.2", "SubTask", "4.1", "Update CMP website to include achievements to date",
        "Ongoing", open_ended=True, parties=SWG_SEC,
    ),
    Row(NEW, "4.1.3", "4.1.3", "SubTask", "4.1", "Identify opportunities for social media promotion"),
]  # fmt: skip


def test_the_document_has_8_topics_11_actions_16_subtasks(graph: Graph) -> None:
    counts = {kind: len(set(graph.subjects(RDF.type, CMP[kind]))) for kind in ("Topic", "Action", "SubTask")}
    assert counts == {"Topic": 8, "Action": 11, "SubTask": 16}


@pytest.mark.parametrize(
    ("period", "topics", "actions", "subtasks"), [(OLD, 4, 6, 9), (NEW, 4, 5, 7)], ids=[OLD, NEW]
)
def test_each_plan_file_holds_its_own_items(
    plans: dict[str, Graph], period: str, topics: int, actions: int, subtasks: int
) -> None:
    plan_graph = plans[period]
    counts = [len(set(plan_graph.subjects(RDF.type, CMP[kind]))) for kind in ("Topic", "Action", "SubTask")]
    assert counts == [topics, actions, subtasks]
    for kind in ("Topic", "Action", "SubTask"):
        for item in plan_graph.subjects(RDF.type, CMP[kind]):
            assert one(plan_graph, item, PPLAN.isStepOfPlan) == IRIS.plan(period)


def test_the_item_table_matches_the_graph_exactly(graph: Graph) -> None:
    """The table below names every item; the graph has no item it does not name."""
    in_graph = {
        item for kind in ("Topic", "Action", "SubTask") for item in graph.subjects(RDF.type, CMP[kind])
    }
    assert in_graph == {IRIS.item(row.plan, row.number) for row in ITEMS}


@pytest.mark.parametrize("row", ITEMS, ids=lambda row: f"{row.plan}/{row.number}")
def test_item(graph: Graph, row: Row) -> None:
    node = IRIS.item(row.plan, row.number)

    assert (node, RDF.type, CMP[row.kind]) in graph
    assert one(graph, node, CMP.number) == Literal(row.number)
    assert one(graph, node, CMP.printedNumber) == Literal(row.printed)
    assert one(graph, node, PPLAN.isStepOfPlan) == IRIS.plan(row.plan)
    if row.parent is None:
        none_of(graph, node, CMP.partOf)
    else:
        assert one(graph, node, CMP.partOf) == IRIS.item(row.plan, row.parent)
    text = one(graph, node, CMP.text)
    assert isinstance(text, Literal)
    assert text.language == "en"
    assert str(text).startswith(row.text)

    assert set(graph.objects(node, CMP.responsibleParty)) == {party(slug) for slug in row.parties}

    if row.timeframe is None:
        none_of(graph, node, CMP.timeframe)
    else:
        frame = one(graph, node, CMP.timeframe)
        assert (frame, RDF.type, CMP.Timeframe) in graph
        assert one(graph, frame, CMP.rawText) == Literal(row.timeframe)
        if row.due is None:
            none_of(graph, frame, CMP.dueDate)
        else:
            assert one(graph, frame, CMP.dueDate) == Literal(row.due)
        if row.start is None:
            none_of(graph, frame, CMP.startDate)
        else:
            assert one(graph, frame, CMP.startDate) == Literal(row.start)
        if row.open_ended:
            assert one(graph, frame, CMP.openEnded) == Literal(True)
        else:
            assert (frame, CMP.openEnded, Literal(True)) not in graph
        if row.qualifier is None:
            none_of(graph, frame, CMP.qualifier)
        else:
            assert one(graph, frame, CMP.qualifier) == Literal(row.qualifier, lang="en")

    if row.progress is None:
        none_of(graph, node, CMP.progressReport)
    else:
        report = one(graph, node, CMP.progressReport)
        assert (report, RDF.type, CMP.ProgressReport) in graph
        assert str(one(graph, report, CMP.text)).startswith(row.progress)
        assert one(graph, report, DCTERMS.date) == Literal("2022-07", datatype=XSD.gYearMonth)
        assert one(graph, report, CMP.status) == status(row.status or "")


# Texts checked in full, as a reader joins them from the document.
FULL_TEXTS = [
    pytest.param(
        IRIS.item(OLD, "3.1.2"),
        "Submit recommendations to the Conservation Committee on whether the initiative should continue. "
        "If appropriate, this should include proposal(s) for commencing the development of new regional "
        "inventories.",
        id="2018-2020/3.1.2 split over lines 14 and 16",
    ),
    pytest.param(
        IRIS.progress(OLD, "3.1.2"),
        "The SWG-CMP Chair evaluated the effectiveness of the initiative for CMPs. It advised the CC in 2020 "
        "that the process for recommending a population/species be treated as a priority for CMP development "
        "is sufficient. If/when there is funding to scale up the CMP program and there is capacity to keep "
        "inventories up to date, the idea could be revisited. It may be useful for other CC Programs.",
        id="2018-2020/3.1.2 progress split over lines 14 and 16",
    ),
    pytest.param(
        IRIS.item(OLD, "1.1.1"),
        "Highlight the services the Commission can provide to help participating range states overcome "
        "impediments to effective CMP implementation (e.g. help identifying and approaching external "
        "donors, outreach to key stakeholders etc.) in the CMP newsletter and on the CMP website. Invite "
        "range states to approach the SWG-CMP to develop a strategy for overcoming barriers to effective "
        "implementation.",
        id="2018-2020/1.1.1",
    ),
    pytest.param(
        IRIS.item(OLD, "4.1.2"),
        "Update CMP website to include achievements to date, case studies, pictures, events etc.",
        id="2018-2020/4.1.2 printed without dot",
    ),
    pytest.param(
        IRIS.progress(OLD, "2.1.2"), "To be carried over to new workplan", id="2018-2020/2.1.2 progress"
    ),
    pytest.param(IRIS.item(NEW, "1"), "Seek a co-chair or program lead (for term 2022-24)", id="2022-2024/1"),
    pytest.param(
        IRIS.item(NEW, "4.1.3"), "Identify opportunities for social media promotion", id="2022-2024/4.1.3"
    ),
]


@pytest.mark.parametrize(("node", "text"), FULL_TEXTS)
def test_text_is_verbatim(graph: Graph, node: URIRef, text: str) -> None:
    assert one(graph, node, CMP.text) == Literal(text, lang="en")


# ---------------------------------------------------------------------------------------------------------
# The quirks of the document


def test_subtask_printed_2_1_2_under_action_2_2_is_not_renumbered(graph: Graph) -> None:
    subtask = IRIS.item(OLD, "2.1.2")
    assert one(graph, subtask, CMP.partOf) == IRIS.item(OLD, "2.2")
    assert one(graph, subtask, CMP.number) == Literal("2.1.2")
    assert IRIS.item(OLD, "2.2.1") not in set(graph.subjects())
    # 2.1 keeps only the sub-task printed under it
    assert set(graph.subjects(CMP.partOf, IRIS.item(OLD, "2.1"))) == {IRIS.item(OLD, "2.1.1")}


def test_action_without_subtask_carries_timeframe_and_party_itself(graph: Graph) -> None:
    action = IRIS.item(NEW, "2.1")
    assert set(graph.subjects(CMP.partOf, action)) == set()
    frame = one(graph, action, CMP.timeframe)
    assert one(graph, frame, CMP.rawText) == Literal("Mar 2023")
    assert set(graph.objects(action, CMP.responsibleParty)) == {party("swg-cmp")}


def test_subtask_with_empty_cells_has_no_timeframe_and_no_parties(graph: Graph) -> None:
    subtask = IRIS.item(NEW, "4.1.3")
    assert (subtask, RDF.type, CMP.SubTask) in graph
    none_of(graph, subtask, CMP.timeframe)
    none_of(graph, subtask, CMP.responsibleParty)
    none_of(graph, subtask, CMP.responsiblePartiesText)
    assert IRIS.item_timeframe(NEW, "4.1.3") not in set(graph.subjects())


def test_the_2022_2024_plan_has_no_progress_reports(plans: dict[str, Graph]) -> None:
    assert set(plans[NEW].subjects(RDF.type, CMP.ProgressReport)) == set()
    assert set(plans[NEW].subject_objects(CMP.progressReport)) == set()
    none_of(plans[NEW], IRIS.plan(NEW), CMP.progressReportDate)


def test_2018_2020_progress_reports_are_the_non_empty_progress_cells(plans: dict[str, Graph]) -> None:
    with_report = {row.number for row in ITEMS if row.plan == OLD and row.progress}
    assert set(plans[OLD].subjects(RDF.type, CMP.ProgressReport)) == {
        IRIS.progress(OLD, number) for number in with_report
    }
    assert one(plans[OLD], IRIS.plan(OLD), CMP.progressReportDate) == Literal(
        "2022-07", datatype=XSD.gYearMonth
    )


def test_the_2022_2024_plan_follows_the_2018_2020_plan(graph: Graph) -> None:
    assert one(graph, IRIS.plan(NEW), CMP.follows) == IRIS.plan(OLD)
    none_of(graph, IRIS.plan(OLD), CMP.follows)


@pytest.mark.parametrize(
    ("period", "raw", "start", "due"),
    [
        (OLD, "2018-2020", date(2018, 1, 1), date(2020, 12, 31)),
        (NEW, "OCT 2022-2024", date(2022, 10, 1), date(2024, 12, 31)),
    ],
    ids=[OLD, NEW],
)
def test_plan_period(graph: Graph, period: str, raw: str, start: date, due: date) -> None:
    plan = IRIS.plan(period)
    assert (plan, RDF.type, CMP.ActionPlan) in graph
    frame = one(graph, plan, CMP.period)
    assert frame == IRIS.plan_timeframe(period)
    assert one(graph, frame, CMP.rawText) == Literal(raw)
    assert one(graph, frame, CMP.startDate) == Literal(start)
    assert one(graph, frame, CMP.dueDate) == Literal(due)


@pytest.mark.parametrize(
    ("frame", "link", "precision", "lexical"),
    [
        (IRIS.item_timeframe(OLD, "1.1.1"), TIME.hasEnd, TIME.inXSDgYearMonth, "2018-12"),
        (IRIS.item_timeframe(NEW, "1.1.1"), TIME.hasBeginning, TIME.inXSDgYearMonth, "2022-10"),
        (IRIS.item_timeframe(NEW, "4.1.1"), TIME.hasEnd, TIME.inXSDgYear, "2022"),
        (IRIS.plan_timeframe(OLD), TIME.hasBeginning, TIME.inXSDgYear, "2018"),
    ],
    ids=["Dec 2018", "Oct 2022 –", "Next issue in 2022", "2018-"],
)
def test_instants_are_as_precise_as_printed(
    graph: Graph, frame: URIRef, link: URIRef, precision: URIRef, lexical: str
) -> None:
    instant = one(graph, frame, link)
    datatype = XSD.gYearMonth if precision == TIME.inXSDgYearMonth else XSD.gYear
    assert one(graph, instant, precision) == Literal(lexical, datatype=datatype)


@pytest.mark.parametrize("period", [OLD, NEW])
def test_sequence_gives_the_printed_order(graph: Graph, period: str) -> None:
    printed_order = [row.number for row in ITEMS if row.plan == period]
    by_sequence = sorted(
        (int(cast(Literal, one(graph, IRIS.item(period, number), CMP.sequence))), number)
        for number in printed_order
    )
    assert [sequence for sequence, _ in by_sequence] == list(range(1, len(printed_order) + 1))
    assert [number for _, number in by_sequence] == printed_order


# ---------------------------------------------------------------------------------------------------------
# IRIs


def test_no_blank_nodes(graph: Graph) -> None:
    blank = [triple for triple in graph if any(isinstance(term, BNode) for term in triple)]
    assert blank == []


_PERIOD = r"\d{4}-\d{4}"
_NUMBER = r"\d+(?:\.\d+)*"
_SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
IRI_PATTERNS = [  # docs/iris.md
    r"ontology#[A-Za-z]+",
    r"programme",
    rf"plan/{_PERIOD}",
    rf"plan/{_PERIOD}/timeframe",
    # the plan period's start and end, minted like an item timeframe's (docs/iris.md lists only the latter)
    rf"plan/{_PERIOD}/timeframe/(?:start|end)",
    rf"plan/{_PERIOD}/{_NUMBER}",
    rf"plan/{_PERIOD}/{_NUMBER}/timeframe",
    rf"plan/{_PERIOD}/{_NUMBER}/timeframe/(?:start|end)",
    rf"plan/{_PERIOD}/{_NUMBER}/progress",
    rf"party/{_SLUG}",
    rf"vocab/{_SLUG}/{_SLUG}",
    rf"source/{_SLUG}",
]
IRI_PATTERN = re.compile("|".join(f"(?:{pattern})" for pattern in IRI_PATTERNS))


def test_every_iri_under_the_base_follows_the_documented_patterns(graph: Graph) -> None:
    iris = {term for triple in graph for term in triple if isinstance(term, URIRef)}
    under_base = {str(iri) for iri in iris if str(iri).startswith(BASE)}
    assert len(under_base) > 100
    strays = sorted(iri for iri in under_base if not IRI_PATTERN.fullmatch(iri.removeprefix(BASE)))
    assert strays == []


def test_item_iris_are_plan_and_number_without_trailing_dot(graph: Graph) -> None:
    for kind in ("Topic", "Action", "SubTask"):
        for item in graph.subjects(RDF.type, CMP[kind]):
            plan = one(graph, item, PPLAN.isStepOfPlan)
            number = one(graph, item, CMP.number)
            assert re.fullmatch(_NUMBER, str(number))
            assert item == URIRef(f"{plan}/{number}")


def test_output_is_relative_to_the_base(seed_texts: dict[str, str]) -> None:
    """Parsed against another base, every minted IRI moves there: the files never name the base."""
    for text in seed_texts.values():
        moved = parse(text, OTHER_BASE)
        iris = {str(term) for triple in moved for term in triple if isinstance(term, URIRef)}
        assert not [iri for iri in iris if iri.startswith(BASE)]
        assert any(iri.startswith(OTHER_BASE + "plan/") for iri in iris)


# ---------------------------------------------------------------------------------------------------------
# Input the importer refuses: file, line and fix


def write_table(directory: Path, rows: list[list[str]], dialect: str, stem: str = "plans") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}.{dialect}"
    if dialect == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    else:
        path.write_text("".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")
    return path


HEADING = ["CMP ACTION PLAN – 2018-2020"]
GOOD_ROW = ["1. Topic one", "1.1. Action one", "1.1.1. Sub-task one", "Mar 2019", "SWG-CMP, Secretariat"]

# (id, rows, line of the error, phrases the message must contain: what is wrong and how to fix it)
BAD_TABLES = [
    (
        "unknown column",
        [HEADING, [], ["Topic", "Action", "Sub-task", "Deadline", "Responsible parties"], GOOD_ROW],
        3,
        ["'Deadline'", "the columns are", "Timeframe"],
    ),
    (
        "sub-task with no action above it",
        [HEADING, [], HEADER, GOOD_ROW, ["2. Topic two", "", "2.1.1. Orphan", "Mar 2019", "SWG-CMP"]],
        5,
        ["sub-task 2.1.1", "no action above it"],
    ),
    (
        "action with no topic",
        [HEADING, [], HEADER, ["", "1.1. Action one", "1.1.1. Sub-task one", "Mar 2019", "SWG-CMP"]],
        4,
        ["action 1.1", "no topic above it"],
    ),
    (
        "duplicate number",
        [HEADING, [], HEADER, GOOD_ROW, ["", "", "1.1.1. Again", "Mar 2019", "SWG-CMP"]],
        5,
        ["1.1.1", "first on line 4", "must be unique"],
    ),
    (
        "unknown responsible party",
        [HEADING, [], HEADER, GOOD_ROW, ["", "", "1.1.2. Two", "Mar 2019", "SWG-CMP, Whale Police"]],
        5,
        ["'Whale Police'", "skos:altLabel", "data/parties.ttl"],
    ),
    (
        "malformed timeframe",
        [HEADING, [], HEADER, GOOD_ROW, ["", "", "1.1.2. Two", "Smarch 2023", "SWG-CMP"]],
        5,
        ["'Smarch 2023'", "not a month name", "write e.g. 'Mar'"],
    ),
    (
        "text before any heading",
        [["Draft for comment"], HEADING, HEADER, GOOD_ROW],
        1,
        ["before the first plan heading", "start the file with a heading"],
    ),
    (
        "heading with no period",
        [HEADING, HEADER, GOOD_ROW, [], ["CMP ACTION PLAN – next"], HEADER, GOOD_ROW],
        5,
        ["names no period", "write it like 'CMP ACTION PLAN – 2018-2020'"],
    ),
    (
        "more cells than the header",
        [HEADING, [], HEADER, GOOD_ROW, ["", "", "1.1.2. Two", "Mar 2019", "SWG-CMP", "Stray note"]],
        5,
        ["6 cells", "5 columns", "'Stray note'"],
    ),
    (
        "continuation row with nothing above it",
        [HEADING, [], HEADER, ["", "", "continued text", "", ""], GOOD_ROW],
        4,
        ["follows no row it could continue", "start it with an item number"],
    ),
]


@pytest.mark.parametrize("dialect", ["tsv", "csv"])
@pytest.mark.parametrize(
    ("rows", "line", "phrases"),
    [pytest.param(rows, line, phrases, id=name) for name, rows, line, phrases in BAD_TABLES],
)
def test_bad_input_names_file_line_and_fix(
    tmp_path: Path, dialect: str, rows: list[list[str]], line: int, phrases: list[str]
) -> None:
    source = write_table(tmp_path, rows, dialect)

    with pytest.raises(TableError) as caught:
        import_texts(source)

    error = caught.value
    assert error.line == line
    assert str(error).startswith(f"{source}:{line}: ")
    for phrase in phrases:
        assert phrase in str(error)


def test_good_row_of_the_bad_tables_imports(tmp_path: Path) -> None:
    """The bad tables differ from a good one only by the fault each names."""
    source = write_table(tmp_path, [HEADING, [], HEADER, GOOD_ROW], "tsv")
    plan_graph = parse(import_texts(source)[Path("plans") / f"{OLD}.ttl"])
    subtask = IRIS.item(OLD, "1.1.1")
    assert set(plan_graph.objects(subtask, CMP.responsibleParty)) == {party("swg-cmp"), party("secretariat")}


def test_heading_with_en_dash_between_years_keeps_the_start(tmp_path: Path) -> None:
    source = write_table(tmp_path, [["CMP ACTION PLAN – 2018–2020"], HEADER, GOOD_ROW], "tsv")
    plan_graph = parse(import_texts(source)[Path("plans") / f"{OLD}.ttl"])
    frame = one(plan_graph, IRIS.plan(OLD), CMP.period)
    assert one(plan_graph, frame, CMP.startDate) == Literal(date(2018, 1, 1))
    assert one(plan_graph, frame, CMP.dueDate) == Literal(date(2020, 12, 31))


def test_heading_without_dash_before_the_period_imports(tmp_path: Path) -> None:
    source = write_table(tmp_path, [["CMP ACTION PLAN 2018-2020"], HEADER, GOOD_ROW], "tsv")
    plan_graph = parse(import_texts(source)[Path("plans") / f"{OLD}.ttl"])
    frame = one(plan_graph, IRIS.plan(OLD), CMP.period)
    assert one(plan_graph, frame, CMP.startDate) == Literal(date(2018, 1, 1))


def test_csv_error_in_a_multi_line_row_names_its_first_line(tmp_path: Path) -> None:
    source = tmp_path / "plans.csv"
    source.write_text(
        "CMP ACTION PLAN – 2018-2020\n"
        "Topic,Action,Sub-task,Timeframe,Responsible parties\n"
        '1. Topic one,1.1. Action one,"1.1.1. Sub-task one,\ncontinued",Mar 2019,Whale Police\n',
        encoding="utf-8",
    )
    with pytest.raises(TableError) as caught:
        import_texts(source)
    assert caught.value.line == 3


def test_tsv_form_feed_in_a_cell_does_not_split_the_row(tmp_path: Path) -> None:
    source = tmp_path / "plans.tsv"
    source.write_text(
        "CMP ACTION PLAN – 2018-2020\n"
        "Topic\tAction\tSub-task\tTimeframe\tResponsible parties\n"
        "1. Topic one\t1.1. Action one\t1.1.1. Sub-task\fone\tMar 2019\tSWG-CMP\n"
        "\t\t1.1.2. Sub-task two\tSmarch 2023\tSWG-CMP\n",
        encoding="utf-8",
    )
    with pytest.raises(TableError) as caught:
        import_texts(source)
    assert caught.value.line == 4


# ---------------------------------------------------------------------------------------------------------
# CSV and TSV give the same graph

SMALL_PLAN = [
    ["CMP ACTION PLAN – 2018-2020"],
    [],
    ["- A preamble, with a comma."],
    [],
    [*HEADER, "Progress/outcome – July 2022"],
    [
        "1. Topic one",
        "1.1. Action one, with a comma",
        "1.1.1. Sub-task split",
        "Dec 2018 (first issue)",
        "SWG-CMP",
        "Half of",
    ],
    [],
    ["", "", "over two lines", "", "", "the progress"],
    ["", "", "1.1.2 Sub-task without dot", "Oct 2022 – March - 2023", "SWG-CMP, Secretariat", ""],
    ["", "1.2. Action without sub-task", "", "Ongoing", "Range States; Coordinators", ""],
]


def test_csv_imports_to_the_same_graph_as_tsv(tmp_path: Path) -> None:
    tsv = write_table(tmp_path / "tsv", SMALL_PLAN, "tsv")
    csv_ = write_table(tmp_path / "csv", SMALL_PLAN, "csv")

    from_tsv = parse(import_texts(tsv)[Path("plans") / f"{OLD}.ttl"])
    from_csv = parse(import_texts(csv_)[Path("plans") / f"{OLD}.ttl"])

    assert len(set(from_tsv.subjects(RDF.type, CMP.SubTask))) == 2
    joined = Literal("Sub-task split over two lines", lang="en")
    assert one(from_tsv, IRIS.item(OLD, "1.1.1"), CMP.text) == joined
    assert isomorphic(from_tsv, from_csv)


# ---------------------------------------------------------------------------------------------------------
# The editorial status table


def status_table(tmp_path: Path, edit: dict[int, str | None], append: tuple[str, ...] = ()) -> Path:
    """A copy of the real status table with lines replaced (or removed, for None) and lines appended."""
    lines = STATUS_TABLE.read_text(encoding="utf-8").splitlines()
    edited = [edit.get(number, line) for number, line in enumerate(lines, start=1)]
    path = tmp_path / "status.tsv"
    path.write_text("\n".join([line for line in edited if line is not None] + list(append)) + "\n", "utf-8")
    return path


def test_the_real_status_table_is_consistent_with_the_plans() -> None:
    import_texts(SEED, STATUS_TABLE)  # raises on any mismatch


def test_status_for_an_item_without_progress_text_names_the_status_line(tmp_path: Path) -> None:
    # 2018-2020 sub-task 1.1.2 has an empty progress cell (source line 9)
    path = status_table(tmp_path, {}, ("2018-2020\t1.1.2\tunderway\tA guess.",))
    with pytest.raises(TableError) as caught:
        import_texts(SEED, path)
    assert caught.value.line == 9
    assert str(caught.value).startswith(f"{path}:9: ")
    assert "remove this row" in str(caught.value)


def test_unknown_status_slug_names_the_status_line(tmp_path: Path) -> None:
    # line 8 assesses 4.1.2 "underway"
    path = status_table(tmp_path, {8: "2018-2020\t4.1.2\tfinished\tThe progress column says so."})
    with pytest.raises(TableError) as caught:
        import_texts(SEED, path)
    assert caught.value.line == 8
    assert str(caught.value).startswith(f"{path}:8: ")
    assert "'finished'" in str(caught.value)
    assert "underway" in str(caught.value), "the message lists the statuses to use"


def test_progress_text_without_a_status_names_the_source_line(tmp_path: Path) -> None:
    # drop the row for 4.1.2, whose progress cell "Underway" is on source line 18
    path = status_table(tmp_path, {8: None})
    with pytest.raises(TableError) as caught:
        import_texts(SEED, path)
    assert caught.value.line == 18
    assert str(caught.value).startswith(f"{SEED}:18: ")
    assert "4.1.2" in str(caught.value)
    assert str(path) in str(caught.value), "the message names the status table to add the row to"


def test_status_for_an_item_the_plan_lacks_names_the_status_line(tmp_path: Path) -> None:
    path = status_table(tmp_path, {}, ("2018-2020\t9.9.9\tcompleted\tNo such item.",))
    with pytest.raises(TableError) as caught:
        import_texts(SEED, path)
    assert caught.value.line == 9
    assert str(caught.value).startswith(f"{path}:9: ")


# ---------------------------------------------------------------------------------------------------------
# The command


def cmpkg(*args: str) -> Result:
    return CliRunner().invoke(main, ["--site", str(ROOT), "--base-iri", BASE, *args])


def test_cli_writes_one_file_per_plan(tmp_path: Path) -> None:
    out = tmp_path / "out"

    result = cmpkg("import-plan", str(SEED), "--out-dir", str(out))

    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == [f"{OLD}.ttl", f"{NEW}.ttl"]
    for period in (OLD, NEW):
        written = Graph().parse(out / f"{period}.ttl", format="turtle", publicID=BASE)
        plans_in_file = set(written.subjects(RDF.type, CMP.ActionPlan))
        assert plans_in_file == {IRIS.plan(period)}


def test_cli_status_option_adds_statuses(tmp_path: Path) -> None:
    out = tmp_path / "out"

    result = cmpkg("import-plan", str(SEED), "--out-dir", str(out), "--status", str(STATUS_TABLE))

    assert result.exit_code == 0, result.output
    written = Graph().parse(out / f"{OLD}.ttl", format="turtle", publicID=BASE)
    assert one(written, IRIS.progress(OLD, "3.1.2"), CMP.status) == status("completed")


def test_cli_bad_input_exits_2_names_file_line_and_writes_nothing(tmp_path: Path) -> None:
    # plan 2018-2020 is fine; the error is in plan 2022-2024, on line 8
    source = write_table(
        tmp_path,
        [
            HEADING,
            HEADER,
            GOOD_ROW,
            [],
            ["CMP ACTION PLAN – 2022-2024"],
            HEADER,
            GOOD_ROW,
            ["", "", "1.1.2. Two", "Mar 2023", "Whale Police"],
        ],
        "tsv",
    )
    out = tmp_path / "out"
    out.mkdir()
    kept = out / f"{OLD}.ttl"
    kept.write_text("# kept by hand\n", encoding="utf-8")

    result = cmpkg("import-plan", str(source), "--out-dir", str(out))

    assert result.exit_code == 2, result.output
    assert f"{source}:8: " in result.stderr
    assert "Whale Police" in result.stderr
    assert "Traceback" not in result.output
    assert sorted(path.name for path in out.iterdir()) == [kept.name], "no file written, no temporary left"
    assert kept.read_text(encoding="utf-8") == "# kept by hand\n"


def test_cli_check_exits_0_when_equal_and_1_when_a_file_differs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cmpkg("import-plan", str(SEED), "--out-dir", str(out)).exit_code == 0

    equal = cmpkg("import-plan", str(SEED), "--out-dir", str(out), "--check")
    assert equal.exit_code == 0, equal.output

    edited = out / f"{NEW}.ttl"
    edited_text = edited.read_text(encoding="utf-8") + "# a hand edit\n"
    edited.write_text(edited_text, encoding="utf-8")

    differs = cmpkg("import-plan", str(SEED), "--out-dir", str(out), "--check")
    assert differs.exit_code == 1, differs.output
    assert str(edited) in differs.stderr
    assert str(out / f"{OLD}.ttl") not in differs.stderr
    assert edited.read_text(encoding="utf-8") == edited_text, "--check writes nothing"


def test_cli_check_exits_1_when_a_file_is_missing(tmp_path: Path) -> None:
    out = tmp_path / "out"

    result = cmpkg("import-plan", str(SEED), "--out-dir", str(out), "--check")

    assert result.exit_code == 1, result.output
    assert not out.exists() or list(out.iterdir()) == []
