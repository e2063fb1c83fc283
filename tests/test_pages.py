"""The purpose-built views (publisher/pages/, templates/views/): what a reader of each page relies on.

Views are computed from the real project store and rendered as the entity page includes them; expected
values are read from the Turtle files with rdflib, independently of the code under test.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import cast

import pytest
from jinja2 import Environment, PackageLoader
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SDO

from publisher.iris import Iris
from publisher.pages import SpecialView, special_view
from publisher.site import Site
from publisher.store import EmbeddedStore, build_store
from tests.conftest import BASE, ROOT

CMP = BASE + "ontology#"
DWC_TAXON = "http://rs.tdwg.org/dwc/terms/Taxon"
PPLAN_STEP_OF = URIRef("http://purl.org/net/p-plan#isStepOfPlan")
SVG = "{http://www.w3.org/2000/svg}"


def cmp_term(name: str) -> URIRef:
    return URIRef(CMP + name)


# A small HTML tree: enough to find tables, rows, cells and links, and to prove the tags balance. ----------

VOID = {"br", "hr", "img", "input", "meta", "link", "col", "wbr", "source", "area", "base", "embed"}
# Elements whose text a browser sets apart from its neighbours'.
BLOCKS = {"br", "caption", "dd", "details", "div", "dl", "dt", "li", "p", "section", "td", "th", "tr", "ul"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def iter(self, tag: str | None = None, cls: str | None = None) -> Iterator[Node]:
        if (tag is None or self.tag == tag) and (cls is None or cls in self.attrs.get("class", "").split()):
            yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter(tag, cls)

    def find(self, tag: str | None = None, cls: str | None = None) -> Node:
        found = next(self.iter(tag, cls), None)
        assert found is not None, f"no <{tag} class={cls}> in <{self.tag}>"
        return found

    @property
    def text(self) -> str:
        parts = [
            c if isinstance(c, str) else f" {c.text} " if c.tag in BLOCKS else c.text for c in self.children
        ]
        return re.sub(r"\s+", " ", "".join(parts)).strip()

    def links(self) -> list[tuple[str, str]]:
        return [(a.text, a.attrs.get("href", "")) for a in self.iter("a")]


class TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], "unclosed tags: " + ", ".join(n.tag for n in builder.stack[1:])
    return builder.root


# Fixtures -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store() -> Iterator[EmbeddedStore]:
    built, _ = build_store(Site(ROOT), Iris(BASE))
    yield built
    built.close()


@pytest.fixture(scope="module")
def env() -> Environment:
    return Environment(loader=PackageLoader("publisher", "templates"), autoescape=True)


@pytest.fixture(scope="module")
def data() -> Graph:
    """The data files a human reads, parsed with rdflib against the public base."""
    graph = Graph()
    for path in sorted((ROOT / "data").rglob("*.ttl")):
        graph.parse(path, format="turtle", publicID=BASE)
    return graph


def plan_graph(period: str) -> Graph:
    return Graph().parse(ROOT / "data" / "plans" / f"{period}.ttl", format="turtle", publicID=BASE)


def view_of(store: EmbeddedStore, path: str, kind: str, **options: object) -> SpecialView:
    types = {DWC_TAXON if kind == "Taxon" else CMP + kind}
    view = special_view(store, Iris(BASE), BASE + path, types, **options)  # type: ignore[arg-type]
    assert view is not None, f"no view for {path}"
    return view


def render(env: Environment, view: SpecialView) -> Node:
    """The fragment as the entity page includes it: `{% include special.template %}` with `special`."""
    return parse_html(env.get_template(view.template).render(special=view))


def href(iri: str) -> str:
    return "/" + iri.removeprefix(BASE)


def label(graph: Graph, node: URIRef) -> str:
    return str(graph.value(node, RDFS.label))


def status_label(graph: Graph, item: URIRef) -> str:
    report = graph.value(item, cmp_term("progressReport"))
    if report is None:
        return "no report"
    status = graph.value(report, cmp_term("status"))
    assert isinstance(status, URIRef)
    return label(graph, status)


def plan_items(graph: Graph, period: str) -> list[URIRef]:
    """The items of a plan in the order printed."""
    plan = URIRef(BASE + f"plan/{period}")
    items = [s for s in graph.subjects(PPLAN_STEP_OF, plan) if isinstance(s, URIRef)]
    return sorted(items, key=lambda item: int(cast(Literal, graph.value(item, cmp_term("sequence")))))


# The action plan ------------------------------------------------------------------------------------------


def test_plan_table_has_every_item_once_in_printed_order(store: EmbeddedStore, env: Environment) -> None:
    graph = plan_graph("2018-2020")
    expected = [str(graph.value(item, cmp_term("printedNumber"))) for item in plan_items(graph, "2018-2020")]
    assert len(expected) == 19  # 4 topics, 6 actions, 9 sub-tasks, as the document prints them
    table = render(env, view_of(store, "plan/2018-2020", "ActionPlan")).find("table", "plan-table")
    numbers = [a.text for a in table.iter("a", "number")]
    assert numbers == expected
    hrefs = [a.attrs["href"] for a in table.iter("a", "number")]
    assert hrefs == [href(str(item)) for item in plan_items(graph, "2018-2020")]
    assert table.find("caption").text.startswith("CMP action plan 2018-2020")
    headers = [th.text for th in table.find("thead").iter("th")]
    assert headers == [
        "Topic",
        "Action",
        "Sub-task",
        "Timeframe",
        "Responsible parties",
        "Progress (July 2022)",
    ]
    assert all(th.attrs.get("scope") == "col" for th in table.find("thead").iter("th"))


def test_plan_rows_show_timeframe_parties_and_status_of_each_sub_task(
    store: EmbeddedStore, env: Environment, data: Graph
) -> None:
    graph = plan_graph("2018-2020")
    table = render(env, view_of(store, "plan/2018-2020", "ActionPlan")).find("table", "plan-table")
    rows = {tr.attrs["id"]: tr for tr in table.iter("tr") if "id" in tr.attrs}
    sub_tasks = [i for i in plan_items(graph, "2018-2020") if (i, RDF.type, cmp_term("SubTask")) in graph]
    assert len(rows) == len(sub_tasks) == 9
    for item in sub_tasks:
        number = str(graph.value(item, cmp_term("number")))
        row = rows[f"row-{number}"]
        assert row.find("th", "subtask").find("a", "number").text == str(
            graph.value(item, cmp_term("printedNumber"))
        )
        timeframe = graph.value(item, cmp_term("timeframe"))
        cell = row.find("td", "timeframe")
        assert cell.find("span", "printed").text == str(graph.value(timeframe, cmp_term("rawText")))
        due = graph.value(timeframe, cmp_term("dueDate"))
        if due is not None:
            assert [t.attrs["datetime"] for t in cell.iter("time")] == [str(due)]
        parties = row.find("td", "parties")
        assert ", ".join(text for text, _ in parties.links()) == str(
            graph.value(item, cmp_term("responsiblePartiesText"))
        )
        assert {link for _, link in parties.links()} == {
            href(str(p)) for p in graph.objects(item, cmp_term("responsibleParty"))
        }
        status = row.find("td", "progress").find("span", "status")
        assert status.text == status_label(data, item)


def test_responsible_parties_are_shown_with_the_short_names_printed(
    store: EmbeddedStore, env: Environment
) -> None:
    table = render(env, view_of(store, "plan/2018-2020", "ActionPlan")).find("table", "plan-table")
    row = next(tr for tr in table.iter("tr") if tr.attrs.get("id") == "row-2.1.1")
    links = list(row.find("td", "parties").iter("a"))
    assert [(a.text, a.attrs["href"]) for a in links] == [
        ("SWG-CMP", "/party/swg-cmp"),
        ("SC-CMP", "/party/sc-cmp"),
    ]
    assert links[0].attrs["title"] == "Standing Working Group on Conservation Management Plans"


def test_topics_and_actions_span_the_rows_of_their_sub_tasks(store: EmbeddedStore, env: Environment) -> None:
    graph = plan_graph("2018-2020")
    table = render(env, view_of(store, "plan/2018-2020", "ActionPlan")).find("table", "plan-table")
    part_of = cmp_term("partOf")
    for level in ("topic", "action"):
        for cell in table.iter("th", level):
            item = URIRef(BASE + cell.find("a", "number").attrs["href"].lstrip("/"))
            under = [
                s
                for s in graph.subjects(RDF.type, cmp_term("SubTask"))
                if item in (graph.value(s, part_of), graph.value(graph.value(s, part_of), part_of))
            ]
            assert int(cell.attrs.get("rowspan", "1")) == len(under), item
    assert len(list(table.iter("tbody"))) == 4  # one per topic
    assert [th.attrs["scope"] for th in table.iter("th", "topic")] == ["rowgroup"] * 4


def test_sub_task_printed_over_two_lines_reads_as_one_text(store: EmbeddedStore, env: Environment) -> None:
    table = render(env, view_of(store, "plan/2018-2020", "ActionPlan")).find("table", "plan-table")
    row = next(tr for tr in table.iter("tr") if tr.attrs.get("id") == "row-3.1.2")
    # The source document breaks both cells of 3.1.2 over two lines with a blank line between.
    assert row.find("th", "subtask").text == (
        "3.1.2. Submit recommendations to the Conservation Committee on whether the initiative should "
        "continue. If appropriate, this should include proposal(s) for commencing the development of new "
        "regional inventories."
    )
    progress = row.find("td", "progress").find("p", "progress-text").text
    assert progress.startswith("The SWG-CMP Chair evaluated the effectiveness of the initiative for CMPs.")
    assert progress.endswith("It may be useful for other CC Programs.")
    assert row.find("td", "progress").find("span", "status").text == "completed"


def test_carry_overs_link_both_plans(store: EmbeddedStore, env: Environment, data: Graph) -> None:
    pages = {
        period: render(env, view_of(store, f"plan/{period}", "ActionPlan")).find("table", "plan-table")
        for period in ("2018-2020", "2022-2024")
    }
    pairs = list(data.subject_objects(cmp_term("continues")))
    assert pairs
    for later, earlier in pairs:
        earlier_number = str(data.value(earlier, cmp_term("number")))
        later_number = str(data.value(later, cmp_term("number")))
        assert (f"continued in 2022-2024 {later_number}", href(str(later))) in pages["2018-2020"].links()
        assert (f"continues 2018-2020 {earlier_number}", href(str(earlier))) in pages["2022-2024"].links()


def test_plan_without_progress_has_the_five_printed_columns(store: EmbeddedStore, env: Environment) -> None:
    graph = plan_graph("2022-2024")
    page = render(env, view_of(store, "plan/2022-2024", "ActionPlan"))
    table = page.find("table", "plan-table")
    assert [th.text for th in table.find("thead").iter("th")] == [
        "Topic",
        "Action",
        "Sub-task",
        "Timeframe",
        "Responsible parties",
    ]
    assert [a.text for a in table.iter("a", "number")] == [
        str(graph.value(item, cmp_term("printedNumber"))) for item in plan_items(graph, "2022-2024")
    ]
    # 4.1.3 is printed with no timeframe and no responsible party; action 2.1 has no sub-task.
    row = next(tr for tr in table.iter("tr") if tr.attrs.get("id") == "row-4.1.3")
    assert row.find("td", "timeframe").text == "none printed"
    assert row.find("td", "parties").text == "none printed"
    row = next(tr for tr in table.iter("tr") if tr.attrs.get("id") == "row-2.1")
    assert row.find("td", "empty").attrs["data-label"] == "Sub-task"
    assert row.find("td", "timeframe").find("span", "printed").text == "Mar 2023"
    assert "No progress has been reported on this plan." in page.text


# The timeline ---------------------------------------------------------------------------------------------


def timeline_of(store: EmbeddedStore, env: Environment, period: str, today: date | None = None) -> ET.Element:
    page = render(env, view_of(store, f"plan/{period}", "ActionPlan", today=today))
    view = special_view(store, Iris(BASE), BASE + f"plan/{period}", {CMP + "ActionPlan"}, today=today)
    assert view is not None, f"no view for plan/{period}"
    svg_text = view.context["view"].timeline_svg
    assert page.find("figure", "timeline-figure").find("svg").attrs["role"] == "img"
    return ET.fromstring(svg_text)


def rows_and_legend(svg: ET.Element) -> tuple[list[str], list[str]]:
    rows = [
        "".join(el.find(f"{SVG}text").itertext())  # type: ignore[union-attr]
        for el in svg.iter()
        if el.get("class") == "row"
    ]
    legend = ["".join(el.find(f"{SVG}text").itertext()) for el in svg.iter() if el.get("class") == "legend"]  # type: ignore[union-attr]
    return rows, legend


def dated_items(graph: Graph, data: Graph, period: str) -> list[tuple[str, str]]:
    """(number, status label) of each item whose timeframe has a date or is open-ended."""
    found = []
    for item in plan_items(graph, period):
        frame = graph.value(item, cmp_term("timeframe"))
        if frame is None:
            continue
        if any(graph.value(frame, cmp_term(p)) is not None for p in ("dueDate", "startDate")) or graph.value(
            frame, cmp_term("openEnded")
        ) == Literal(True):
            found.append((str(graph.value(item, cmp_term("number"))), status_label(data, item)))
    return found


@pytest.mark.parametrize("period", ["2018-2020", "2022-2024"])
def test_timeline_has_one_row_per_dated_item_and_the_status_legend(
    store: EmbeddedStore, env: Environment, data: Graph, period: str
) -> None:
    expected = dated_items(plan_graph(period), data, period)
    svg = timeline_of(store, env, period)
    assert svg.tag == f"{SVG}svg"
    rows, legend = rows_and_legend(svg)
    assert rows == [number for number, _ in expected]
    assert set(legend) == {status for _, status in expected} | {"plan period"}
    title = "".join(svg.find(f"{SVG}title").itertext())  # type: ignore[union-attr]
    assert title.startswith(f"CMP action plan {period}")
    description = "".join(svg.find(f"{SVG}desc").itertext())  # type: ignore[union-attr]
    for number, status in expected:
        assert f"{number}: " in description
        assert status in description


def test_timeline_marks_progress_date_and_today_only_when_given(
    store: EmbeddedStore, env: Environment
) -> None:
    def markers(svg: ET.Element) -> list[str]:
        return ["".join(el.itertext()) for el in svg.iter() if el.get("class") == "marker"]

    assert markers(timeline_of(store, env, "2018-2020")) == ["progress: July 2022"]
    assert markers(timeline_of(store, env, "2018-2020", today=date(2019, 6, 1))) == [
        "progress: July 2022",
        "today",
    ]
    assert markers(timeline_of(store, env, "2022-2024")) == []
    first = view_of(store, "plan/2018-2020", "ActionPlan").context["view"].timeline_svg
    assert view_of(store, "plan/2018-2020", "ActionPlan").context["view"].timeline_svg == first


# The CMP, party, country and taxon views ------------------------------------------------------------------


def test_cmp_page_shows_species_range_states_coordinator_and_sources(
    store: EmbeddedStore, env: Environment, data: Graph
) -> None:
    cmp = URIRef(BASE + "cmp/franciscana")
    page = render(env, view_of(store, "cmp/franciscana", "ConservationManagementPlan"))
    lists = page.find("section", "cmp-species").iter("ul")
    species_list = next(ul for ul in lists if ul.attrs.get("aria-labelledby") == "cmp-taxa-heading")
    species = [i.text for i in species_list.iter("i")]
    assert species == ["Pontoporia blainvillei"]
    range_states = page.find("section", "cmp-range").links()
    expected = sorted((label(data, c), href(str(c))) for c in data.objects(cmp, cmp_term("rangeState")))  # type: ignore[arg-type]
    assert range_states == expected
    assert [name for name, _ in range_states] == ["Argentina", "Brazil", "Uruguay"]
    glance = page.find("section", "cmp-view").text
    assert "Argentina, since 2017" in glance
    assert "active" in glance
    assert "2016" in glance
    sources = {link for _, link in page.find("section", "cmp-sources").links()}
    assert sources == {str(s) for s in data.objects(cmp, URIRef("http://purl.org/dc/terms/source"))}
    assert (str(data.value(cmp, SDO.url)), str(data.value(cmp, SDO.url))) in page.find(
        "section", "cmp-view"
    ).links()


def test_cmp_page_marks_claims_as_claimed(store: EmbeddedStore, env: Environment, data: Graph) -> None:
    page = render(env, view_of(store, "cmp/guiana-dolphin", "ConservationManagementPlan"))
    claimed = [
        li for li in page.find("section", "cmp-range").iter("li") if "is-claimed" in li.attrs.get("class", "")
    ]
    claims = [
        c
        for c in data.subjects(RDF.predicate, cmp_term("rangeState"))
        if data.value(c, RDF.subject) == URIRef(BASE + "cmp/guiana-dolphin")
    ]
    assert len(claimed) == len(claims) == 3
    for li in claimed:
        assert "claimed, unverified" in li.text
    rows = page.find("table", "claims").find("tbody").iter("tr")
    assert {tr.find("th").find("a").attrs["href"] for tr in rows} == {href(str(c)) for c in claims}
    page = render(env, view_of(store, "cmp/south-american-river-dolphins", "ConservationManagementPlan"))
    endorsed = page.find("section", "cmp-view").text
    assert "not asserted" in endorsed
    assert "2021: claimed, inferred" in endorsed
    assert "2022: claimed, seen" in endorsed


def test_party_page_lists_every_item_naming_it_across_both_plans(
    store: EmbeddedStore, env: Environment, data: Graph
) -> None:
    party = URIRef(BASE + "party/swg-cmp")
    page = render(env, view_of(store, "party/swg-cmp", "Body"))
    tables = list(page.iter("table", "responsibilities"))
    assert len(tables) == 2
    for table, period in zip(tables, ("2018-2020", "2022-2024"), strict=True):
        graph = plan_graph(period)
        expected = [i for i in plan_items(graph, period) if (i, cmp_term("responsibleParty"), party) in graph]
        rows = list(table.find("tbody").iter("tr"))
        assert [tr.find("a", "number").attrs["href"] for tr in rows] == [href(str(i)) for i in expected]
        for tr, item in zip(rows, expected, strict=True):
            assert tr.find("span", "status").text == status_label(data, item)
            raw = graph.value(graph.value(item, cmp_term("timeframe")), cmp_term("rawText"))
            assert tr.find("td", "timeframe").find("span", "printed").text == str(raw)
    intro = page.find("section", "party-view").find("p").text
    total = len(list(data.subjects(cmp_term("responsibleParty"), party)))
    assert intro.startswith(f"Named as a responsible party in {total} items of 2 plans")
    relations = page.find("section", "party-relations")
    assert ("Conservation Committee", "/party/conservation-committee") in relations.links()


def test_party_page_shows_its_items_a_page_at_a_time_in_the_same_order(
    store: EmbeddedStore, env: Environment, data: Graph
) -> None:
    party = URIRef(BASE + "party/swg-cmp")
    expected = [
        href(str(item))
        for period in ("2018-2020", "2022-2024")
        for item in plan_items(plan_graph(period), period)
        if (item, cmp_term("responsibleParty"), party) in plan_graph(period)
    ]
    size = 4
    pages = -(-len(expected) // size)
    assert pages >= 3, "the real data should give several pages of 4"
    seen = []
    for page in range(1, pages + 1):
        html = render(env, view_of(store, "party/swg-cmp", "Body", page=page, page_size=size))
        rows = [
            tr.find("a", "number").attrs["href"]
            for table in html.iter("table", "responsibilities")
            for tr in table.find("tbody").iter("tr")
        ]
        assert len(rows) == min(size, len(expected) - (page - 1) * size)
        seen += rows
        pager = html.find("nav", "pager")
        last = min(page * size, len(expected))
        assert (
            f"Items {(page - 1) * size + 1}-{last} of {len(expected)}, page {page} of {pages}" in pager.text
        )
        links = {a.attrs["rel"]: a.attrs["href"] for a in pager.iter("a")}
        assert links == {
            **({"prev": f"?page={page - 1}"} if page > 1 else {}),
            **({"next": f"?page={page + 1}"} if page < pages else {}),
        }
        intro = html.find("section", "party-view").find("p").text
        assert intro.startswith(f"Named as a responsible party in {len(expected)} items of 2 plans")
    assert seen == expected  # every item once, in plan order then printed order
    beyond = render(env, view_of(store, "party/swg-cmp", "Body", page=pages + 1, page_size=size))
    assert f"the {len(expected)} items are on pages 1-{pages}" in beyond.text
    assert {a.attrs["rel"]: a.attrs["href"] for a in beyond.find("nav", "pager").iter("a")} == {
        "prev": f"?page={pages}"
    }


def test_party_page_caption_says_which_items_of_a_plan_split_over_pages(
    store: EmbeddedStore, env: Environment
) -> None:
    whole = render(env, view_of(store, "party/swg-cmp", "Body"))
    first_plan = len(list(next(whole.iter("table", "responsibilities")).find("tbody").iter("tr")))
    assert first_plan > 2
    split = render(env, view_of(store, "party/swg-cmp", "Body", page=2, page_size=first_plan - 1))
    caption = next(split.iter("caption")).text
    assert caption.startswith(f"Items {first_plan}-{first_plan} of the {first_plan} of ")
    assert " naming it, in printed order" in caption


def test_party_page_shows_what_reports_to_it(store: EmbeddedStore, env: Environment, data: Graph) -> None:
    commission = URIRef(BASE + "party/commission")
    page = render(env, view_of(store, "party/commission", "Body"))
    facts = page.find("section", "party-relations").find("dl")
    terms = [dt.text for dt in facts.iter("dt")]
    reported = list(facts.iter("dd"))[terms.index("Reported to by")]
    expected = sorted(
        (label(data, s), href(str(s)))
        for s in data.subjects(URIRef("http://www.w3.org/ns/org#reportsTo"), commission)
        if isinstance(s, URIRef)
    )
    assert reported.links() == expected
    assert "No plan item names it as a responsible party." in page.text


def test_country_page_lists_its_cmps_claims_and_codes(
    store: EmbeddedStore, env: Environment, data: Graph
) -> None:
    brazil = URIRef(BASE + "country/BR")
    page = render(env, view_of(store, "country/BR", "Country"))
    table = page.find("section", "country-view").find("table", "cmps")
    asserted = [tr for tr in table.find("tbody").iter("tr") if "is-claimed" not in tr.attrs.get("class", "")]
    expected = sorted((label(data, c), href(str(c))) for c in data.subjects(cmp_term("rangeState"), brazil))  # type: ignore[arg-type]
    assert [tr.find("th").links()[0] for tr in asserted] == expected
    assert len(expected) == 4
    claimed = [tr for tr in table.find("tbody").iter("tr") if "is-claimed" in tr.attrs.get("class", "")]
    assert [tr.find("th").text for tr in claimed] == ["Guiana Dolphin CMP"]
    coordinator = list(page.find("section", "country-view").iter("table", "cmps"))[1]
    assert coordinator.find("tbody").text.startswith(
        "Southwest Atlantic Southern Right Whale CMP active 2016"
    )
    codes = page.find("section", "country-codes").text
    assert "BR" in codes
    assert "BRA" in codes
    assert "076" in codes
    assert ("http://www.wikidata.org/entity/Q155", "http://www.wikidata.org/entity/Q155") in page.find(
        "section", "country-codes"
    ).links()
    assert page.find("section", "country-claims").find("table", "claims")


def test_taxon_page_lists_cmps_asserted_and_claimed_and_identifiers(
    store: EmbeddedStore, env: Environment, data: Graph
) -> None:
    page = render(env, view_of(store, "taxon/inia-araguaiaensis", "Taxon"))
    rows = list(page.find("section", "taxon-cmps").find("tbody").iter("tr"))
    assert [(tr.find("th").text, "is-claimed" in tr.attrs.get("class", "")) for tr in rows] == [
        ("South American River Dolphin CMP", True)
    ]
    assert "claimed, inferred" in rows[0].text
    taxon = URIRef(BASE + "taxon/inia-geoffrensis")
    page = render(env, view_of(store, "taxon/inia-geoffrensis", "Taxon"))
    assert page.find("section", "taxon-view").find("i").text == "Inia geoffrensis"
    identifiers = list(page.find("table", "identifiers").find("tbody").iter("tr"))
    records = list(data.objects(taxon, cmp_term("identifier")))
    assert len(identifiers) == len(records) == 4
    values = {tr.find("td").find("a").text for tr in identifiers}
    assert values == {str(data.value(r, SDO.value)) for r in records}
    assert all("seen in a secondary source" in tr.text for tr in identifiers)


def every_entity(data: Graph) -> Iterator[tuple[str, str]]:
    # The entities of these types are IRIs (their pages are at their paths), so they sort as IRIs.
    for kind in ("ActionPlan", "ConservationManagementPlan", "Country", "Body", "RoleGroup"):
        for node in sorted(cast("Iterator[URIRef]", data.subjects(RDF.type, cmp_term(kind)))):
            yield str(node).removeprefix(BASE), kind
    for node in sorted(cast("Iterator[URIRef]", data.subjects(RDF.type, URIRef(DWC_TAXON)))):
        yield str(node).removeprefix(BASE), "Taxon"


def test_every_view_renders_for_every_entity_of_its_types(
    store: EmbeddedStore, env: Environment, data: Graph
) -> None:
    seen = 0
    for path, kind in every_entity(data):
        page = render(env, view_of(store, path, kind))
        headings = [h.text for h in page.iter("h2")]
        assert headings, path
        assert not re.search(r"\bNone\b", page.text), path
        seen += 1
    assert seen > 30


def test_other_entities_get_no_special_view(store: EmbeddedStore) -> None:
    iris = Iris(BASE)
    assert special_view(store, iris, BASE + "plan/2018-2020/1.1.1", {CMP + "SubTask"}) is None
    assert special_view(store, iris, BASE + "cmp/franciscana", set()) is None
    assert special_view(store, iris, BASE + "cmp/x> } <y", {CMP + "ConservationManagementPlan"}) is None
    role_group = special_view(store, iris, BASE + "party/range-states", {CMP + "RoleGroup"})
    assert role_group is not None
    assert role_group.template == "views/party.html"


def test_links_point_under_the_link_root(store: EmbeddedStore, env: Environment) -> None:
    page = render(env, view_of(store, "plan/2018-2020", "ActionPlan", link_root="/mirror/"))
    hrefs = [a.attrs["href"] for a in page.find("table", "plan-table").iter("a")]
    assert hrefs
    assert all(h.startswith("/mirror/") for h in hrefs)


# Escaping -------------------------------------------------------------------------------------------------

SCRIPT = "<script>alert('x')</script>"
INJECTED = f"""
@prefix cmp: <ontology#> .
@prefix p-plan: <http://purl.org/net/p-plan#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<party/evil> a cmp:Body ; rdfs:label "{SCRIPT} & co"@en .
<country/ZZ> a cmp:Country ; rdfs:label "{SCRIPT} land"@en .
<cmp/franciscana> cmp:rangeState <country/ZZ> .
<plan/2018-2020/1.1.2> cmp:responsibleParty <party/evil> .
<plan/2018-2020/9.9.9> a cmp:SubTask ; p-plan:isStepOfPlan <plan/2018-2020> ; cmp:sequence 99 ;
  cmp:number "9.9.9" ; cmp:printedNumber "9.9.9." ; cmp:text "{SCRIPT} task"@en ;
  cmp:responsiblePartiesText "{SCRIPT}" ; cmp:responsibleParty <party/evil> ;
  cmp:timeframe <plan/2018-2020/9.9.9/timeframe> .
<plan/2018-2020/9.9.9/timeframe> a cmp:Timeframe ; cmp:rawText "{SCRIPT}" ;
  cmp:dueDate "2020-06-30"^^xsd:date .
"""


def test_markup_in_the_data_shows_as_text(tmp_path: Path, env: Environment) -> None:
    extra = tmp_path / "injected.ttl"
    extra.write_text(INJECTED)
    injected, _ = build_store(Site(ROOT), Iris(BASE), extra=[extra])
    try:
        for path, kind in (
            ("plan/2018-2020", "ActionPlan"),
            ("cmp/franciscana", "ConservationManagementPlan"),
            ("party/evil", "Body"),
            ("country/ZZ", "Country"),
        ):
            view = view_of(injected, path, kind)
            html = env.get_template(view.template).render(special=view)
            assert "<script" not in html, path
            assert "&lt;script&gt;" in html, path
            assert SCRIPT in parse_html(html).text, path
        plan = view_of(injected, "plan/2018-2020", "ActionPlan").context["view"]
        svg = ET.fromstring(plan.timeline_svg)
        assert any(SCRIPT in "".join(el.itertext()) for el in svg.iter(f"{SVG}title"))
        assert "9.9.9" in rows_and_legend(svg)[0]
    finally:
        injected.close()
