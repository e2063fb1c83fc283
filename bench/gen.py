"""Deterministic synthetic programme data in the cmp ontology, written as N-Triples, for benchmarks.

    python -m bench.gen --triples 1m --out bench/data/1m.nt [--seed 1] [--base IRI]

The data has the shape of the real data (docs/model.md): series ("tracks") of consecutive action plans,
each following the one before, with topics, actions and sub-tasks, timeframes normalised exactly as the
importer does (cmp:startDate/dueDate/openEnded, time: instants), responsible parties (the real IWC bodies
and role groups, synthetic working groups and real countries) with the cell text they were read from,
progress reports with the real progress statuses, and carry-over links (cmp:continues plus a qualified
cmp:CarryOver) from items of one plan to the items of the previous plan they continue; the first plan of
each track follows the latest real plan and continues some of its items. Besides plans: CMPs with real
range states, real and synthetic taxa, populations, coordinators, endorsement years, claims, and synthetic
taxa with external identifiers. Everything synthetic says so in its label or IRI (`synthetic-...`).

Output is one line per triple with absolute IRIs under the base (N-Triples, so also valid Turtle), written
as it is generated; the same seed, size and base give the same bytes. Generation stops at the first
complete unit (an item with its timeframe and progress, a CMP with its populations, a taxon) at which the
requested number of triples is reached, so the size is met to within a few dozen triples.

Deliberate defects, the same two the real data has (see README, validation): in the first plan and every
DEFECT_EVERY-th plan after it, a sub-task of action 1.2 is numbered as if under action 1.1 (like 2018-2020
sub-task 2.1.2 under action 2.2), and the plan's last sub-task has no timeframe and no responsible party
(like 2022-2024 sub-task 4.1.3). Validation reports both as warnings; nothing else should be reported.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bench.reference import MissingReferenceData, Party, Reference, load_reference
from publisher.config import SETTINGS_BY_NAME
from publisher.importers.timeframes import Period, parse_timeframe
from publisher.namespaces import CMP_PATH

ROOT = Path(__file__).resolve().parents[1]
XSD = "http://www.w3.org/2001/XMLSchema#"
PLANS_PER_TRACK = 8
DEFECT_EVERY = 100
FIRST_YEAR = 2025
LABEL_LENGTH = 80

NAMESPACES = {
    "dct": "http://purl.org/dc/terms/",
    "dwc": "http://rs.tdwg.org/dwc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "p-plan": "http://purl.org/net/p-plan#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "https://schema.org/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "time": "http://www.w3.org/2006/time#",
}
_TERMS = """
rdf:type rdf:subject rdf:predicate rdf:object rdfs:label
cmp:ActionPlan cmp:Topic cmp:Action cmp:SubTask cmp:Timeframe cmp:ProgressReport cmp:CarryOver
cmp:ConservationManagementPlan cmp:Population cmp:Claim cmp:ExternalIdentifier cmp:SourceDocument
cmp:Body cmp:Deliverable
cmp:partOfProgramme cmp:follows cmp:period cmp:progressReportDate cmp:preamble cmp:number cmp:printedNumber
cmp:text cmp:sequence cmp:partOf cmp:timeframe cmp:responsibleParty cmp:responsiblePartiesText
cmp:progressReport cmp:rawText cmp:startDate cmp:dueDate cmp:openEnded cmp:qualifier cmp:status
cmp:statusBasis cmp:continues cmp:basis cmp:basisKind cmp:deliverable cmp:advises cmp:targetTaxon
cmp:targetPopulation cmp:rangeState cmp:coordinator cmp:coordinatorSince cmp:yearEndorsed cmp:ofTaxon
cmp:identifier cmp:confidence
dct:source dct:title dct:description dct:date dct:created
p-plan:isStepOfPlan prov:qualifiedDerivation prov:entity
time:Instant time:hasBeginning time:hasEnd time:inXSDgYear time:inXSDgYearMonth
dwc:Taxon dwc:scientificName dwc:taxonRank dwc:vernacularName
foaf:name org:subOrganizationOf org:reportsTo
schema:propertyID schema:value schema:url skos:altLabel skos:exactMatch skos:note
"""
TERMS = tuple(_TERMS.split())

_WORDS = (
    "range states coordinators bycatch entanglement strandings habitat monitoring surveys acoustic "
    "photo-identification abundance estimates threats mitigation fisheries shipping noise tourism "
    "capacity funding donors stakeholders workshop guidelines handbook newsletter website inventory "
    "priority species populations review report recommendations database outreach training mentoring "
    "steering committee secretariat network partners data sharing protocols calves feeding grounds "
    "breeding areas migration corridors vessel strikes pollution prey climate indicators"
)
WORDS = tuple(_WORDS.split())
_VERBS = (
    "Develop Review Compile Update Publish Coordinate Identify Support Assess Facilitate Promote Establish "
    "Evaluate Circulate Organise Prepare Strengthen Invite Record Share"
)
VERBS = tuple(_VERBS.split())
REGIONS = (
    "North Atlantic",
    "South Atlantic",
    "Eastern Pacific",
    "Western Pacific",
    "Indian Ocean",
    "Southern Ocean",
    "Arctic",
    "Mediterranean",
    "Caribbean",
    "Coral Triangle",
)
MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "March",
    "Apr",
    "May",
    "June",
    "July",
    "Aug",
    "Sep",
    "Sept",
    "Oct",
    "Nov",
    "Dec",
)
QUALIFIERS = ("first issue", "first update", "draft")
SYLLABLES = ("ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ru", "sa", "te", "vi", "zo")
IDENTIFIER_SCHEMES = (  # scheme slug, schema:propertyID, page URL pattern, first synthetic value
    ("worms", "WoRMS AphiaID", "https://www.marinespecies.org/aphia.php?p=taxdetails&id={}", 9_000_000),
    (
        "itis",
        "ITIS TSN",
        "https://www.itis.gov/servlet/SingleRpt/SingleRpt?search_topic=TSN&search_value={}",
        900_000,
    ),
    ("eol", "EoL page ID", "https://eol.org/pages/{}", 90_000_000),
)
PROGRESS_WEIGHTS = {
    "completed": 3.0,
    "underway": 2.0,
    "ongoing": 1.5,
    "not-started": 1.5,
    "carried-over": 2.0,
}
CMP_STATUS_WEIGHTS = {
    "active": 3.0,
    "endorsed": 2.0,
    "provisionally-endorsed": 0.5,
    "proposed": 1.0,
    "draft": 1.0,
}
ENDORSED = {"active", "endorsed", "provisionally-endorsed"}
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


class TargetReached(Exception):
    """Raised at a checkpoint once enough triples are written."""


def lit(text: str) -> str:
    return '"' + text.translate(_ESCAPES) + '"'


def en(text: str) -> str:
    return lit(text) + "@en"


def typed(value: object, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def parse_size(text: str) -> int:
    """'10k' -> 10000, '1m' -> 1000000, '2500' -> 2500."""
    raw = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(raw[-1:], 1)
    number = raw[:-1] if scale > 1 else raw
    try:
        value = int(float(number) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}; write e.g. 10k, 100k, 1m or 25000") from None
    if value < 100:
        raise argparse.ArgumentTypeError(f"size {text!r} is too small; ask for at least 100 triples")
    return value


def default_base() -> str:
    return str(SETTINGS_BY_NAME["base_iri"].default)


class Out:
    """A buffered N-Triples writer that counts what it writes and stops the generator at the target."""

    def __init__(self, handle: TextIO, target: int) -> None:
        self.handle, self.target = handle, target
        self.lines: list[str] = []
        self.written = 0

    def add(self, s: str, p: str, o: str) -> None:
        self.lines.append(f"{s} {p} {o} .\n")

    @property
    def count(self) -> int:
        return self.written + len(self.lines)

    def checkpoint(self) -> None:
        if len(self.lines) > 20_000:
            self.flush()
        if self.count >= self.target:
            raise TargetReached

    def flush(self) -> None:
        self.handle.write("".join(self.lines))
        self.written += len(self.lines)
        self.lines.clear()


@dataclass
class Earlier:
    """An item a later plan may continue."""

    iri: str
    key: str  # "{period}/{number}"
    text: str | None
    stated: bool  # its progress report says it is carried over


@dataclass
class PlanState:
    iri: str
    carried: list[Earlier] = field(default_factory=list)


class Generator:
    def __init__(self, reference: Reference, out: Out, base: str, seed: int) -> None:
        self.ref, self.out, self.base, self.seed = reference, out, base, seed
        self.rng = random.Random(seed)
        self.t = {term: self._term(term) for term in TERMS}
        self.plans = self.cmps = self.taxa_made = 0
        self.taxa: list[str] = list(reference.taxa)
        self.party_weights = [p.weight for p in reference.parties]
        self.register = self.iri("source/synthetic-cmp-register")

    def _term(self, curie: str) -> str:
        prefix, local = curie.split(":", 1)
        namespace = self.base + CMP_PATH if prefix == "cmp" else NAMESPACES[prefix]
        return f"<{namespace}{local}>"

    def iri(self, path: str) -> str:
        return f"<{self.base}{path}>"

    def add(self, s: str, p: str, o: str) -> None:
        self.out.add(s, self.t[p], o)

    def typed_as(self, s: str, cls: str) -> None:
        self.out.add(s, self.t["rdf:type"], self.t[cls])

    # text ---------------------------------------------------------------------------------------------
    def words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(WORDS, k=self.rng.randint(low, high)))

    def sentence(self, low: int = 8, high: int = 24) -> str:
        return f"{self.rng.choice(VERBS)} {self.words(low, high)}."

    # the whole run --------------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self.source_document(self.register, "Synthetic CMP register", "CMPs, taxa and claims")
            for track in itertools.count():
                self.track(track)
        except TargetReached:
            pass
        self.out.flush()

    def source_document(self, node: str, title: str, what: str) -> None:
        self.typed_as(node, "cmp:SourceDocument")
        self.add(node, "dct:title", en(title))
        self.add(node, "dct:description", en(f"A synthetic source of {what}, made up for benchmarks."))
        self.add(node, "rdfs:label", en(title))
        self.add(
            node, "skos:note", en(f"Generated by bench/gen.py with seed {self.seed}; not a real document.")
        )

    def track(self, track: int) -> None:
        source = self.iri(f"source/synthetic-action-plans-{track}")
        self.source_document(source, f"Synthetic CMP action plans, series {track}", "action plans")
        bodies = [self.body(track, k, source) for k in (1, 2)]
        deliverables = [self.deliverable(track, k, source) for k in (1, 2, 3)]
        self.out.checkpoint()
        year = FIRST_YEAR + track % 4
        previous: PlanState | None = None
        for index in range(PLANS_PER_TRACK):
            end = year + self.rng.choice((1, 2, 2))
            last = index == PLANS_PER_TRACK - 1
            previous = self.plan(track, year, end, previous, last, source, bodies, deliverables)
            year = end + self.rng.choice((1, 2))
            for _ in range(self.rng.choice((1, 1, 2))):
                self.cmp()

    def body(self, track: int, k: int, source: str) -> Party:
        node = self.iri(f"party/synthetic-working-group-{track}-{k}")
        parent = self.rng.choice(self.ref.bodies) if self.ref.bodies else None
        short = f"SWG-S{track}.{k}"
        self.typed_as(node, "cmp:Body")
        self.add(node, "dct:description", en(f"A synthetic working group that {self.words(6, 14)}."))
        self.add(node, "dct:source", source)
        self.add(node, "foaf:name", en(f"Synthetic Working Group {track}.{k} on CMP action plans"))
        if parent:
            self.add(node, "org:subOrganizationOf", f"<{parent}>")
            self.add(node, "org:reportsTo", f"<{parent}>")
        self.add(node, "rdfs:label", en(f"Synthetic Working Group {track}.{k}"))
        self.add(node, "skos:altLabel", en(short))
        return Party(node[1:-1], short, 3)

    def deliverable(self, track: int, k: int, source: str) -> str:
        node = self.iri(f"deliverable/synthetic-{track}-{k}")
        kind = self.rng.choice(("newsletter", "handbook", "website", "inventory", "concept note"))
        self.typed_as(node, "cmp:Deliverable")
        if self.rng.random() < 0.5:
            self.add(node, "dct:created", typed(FIRST_YEAR + self.rng.randint(0, 20), "gYear"))
        self.add(node, "dct:description", en(f"A synthetic {kind}: {self.words(8, 20)}."))
        self.add(node, "dct:source", source)
        self.add(node, "rdfs:label", en(f"Synthetic {kind} {track}.{k}"))
        return node

    # plans ----------------------------------------------------------------------------------------------
    def plan(
        self,
        track: int,
        start: int,
        end: int,
        previous: PlanState | None,
        last: bool,
        source: str,
        bodies: list[Party],
        deliverables: list[str],
    ) -> PlanState:
        defective = self.plans % DEFECT_EVERY == 0
        self.plans += 1
        period = f"synthetic-{track}-{start}-{end}"
        plan = self.iri(f"plan/{period}")
        progress_date = None if last else f"{end + 1}-07"
        self.typed_as(plan, "cmp:ActionPlan")
        self.add(plan, "cmp:follows", previous.iri if previous else f"<{self.ref.latest_plan}>")
        self.add(plan, "cmp:partOfProgramme", f"<{self.ref.programme}>")
        self.add(plan, "cmp:period", self.iri(f"plan/{period}/timeframe"))
        self.add(plan, "cmp:preamble", en(f"The table below identifies {self.words(8, 16)}."))
        if progress_date:
            self.add(plan, "cmp:progressReportDate", typed(progress_date, "gYearMonth"))
        self.add(plan, "dct:source", source)
        self.add(plan, "dct:title", en(f"SYNTHETIC CMP ACTION PLAN {track} – {start}-{end}"))
        self.add(plan, "rdfs:label", en(f"CMP action plan {period}"))
        self.timeframe(
            self.iri(f"plan/{period}/timeframe"), f"{start}-{end}", f"Period of the CMP action plan {period}"
        )
        if previous is not None:
            earlier = previous.carried
        else:
            leaves = [i for i in self.ref.real_items if i.leaf]
            picks = self.rng.sample(leaves, min(2, len(leaves)))
            earlier = [Earlier(f"<{i.iri}>", i.key, None, False) for i in picks]
        state = PlanState(plan)
        context = PlanContext(period, plan, source, progress_date, bodies, deliverables, earlier, state)
        topics = self.rng.randint(3, 6)
        sequence = itertools.count(1)
        for topic in range(1, topics + 1):
            actions = self.rng.randint(2 if defective and topic == 1 else 1, 3)
            counts = [self.rng.choice((0, 1, 2, 2, 3, 3, 4)) for _ in range(actions)]
            if defective and topic == 1:
                counts[1] = max(counts[1], 1)
            if defective and topic == topics:
                counts[-1] = max(counts[-1], 1)
            topic_node = self.item(
                context, str(topic), "topic", None, self.words(3, 7).capitalize(), next(sequence)
            )
            for action in range(1, actions + 1):
                number = f"{topic}.{action}"
                subtasks = counts[action - 1]
                action_node = self.item(
                    context, number, "action", topic_node, self.sentence(), next(sequence)
                )
                if subtasks == 0:
                    self.leaf(context, action_node, number, "action", bare=False)
                    self.out.checkpoint()
                    continue
                for sub in range(1, subtasks + 1):
                    sub_number = f"{number}.{sub}"
                    if defective and topic == 1 and action == 2 and sub == subtasks:
                        sub_number = f"{topic}.1.{counts[0] + 1}"  # printed under the wrong action
                    bare = defective and topic == topics and action == actions and sub == subtasks
                    continues = context.take_earlier(self.rng)
                    text = (
                        continues.text if continues and continues.text and self.rng.random() < 0.3 else None
                    )
                    node = self.item(
                        context, sub_number, "sub-task", action_node, text or self.sentence(), next(sequence)
                    )
                    self.leaf(
                        context, node, sub_number, "sub-task", bare, continues, same_text=text is not None
                    )
                    self.out.checkpoint()
        return state

    def item(self, ctx: PlanContext, number: str, level: str, parent: str | None, text: str, seq: int) -> str:
        node = self.iri(f"plan/{ctx.period}/{number}")
        kind = {"topic": "cmp:Topic", "action": "cmp:Action", "sub-task": "cmp:SubTask"}[level]
        printed = number if self.rng.random() < 0.05 else number + "."
        label = f"{printed} {text}"
        if len(label) > LABEL_LENGTH:
            label = label[: LABEL_LENGTH - 1].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"
        self.typed_as(node, kind)
        self.add(node, "cmp:number", lit(number))
        if parent:
            self.add(node, "cmp:partOf", parent)
        self.add(node, "cmp:printedNumber", lit(printed))
        self.add(node, "cmp:sequence", typed(seq, "integer"))
        self.add(node, "cmp:text", en(text))
        self.add(node, "dct:source", ctx.source)
        self.add(node, "p-plan:isStepOfPlan", ctx.plan)
        self.add(node, "rdfs:label", en(label))
        ctx.texts[node] = text
        return node

    def leaf(
        self,
        ctx: PlanContext,
        node: str,
        number: str,
        level: str,
        bare: bool,
        continues: Earlier | None = None,
        same_text: bool = False,
    ) -> None:
        """What a sub-task (or an action without sub-tasks) has: timeframe, parties, progress, links."""
        if continues is not None:
            self.carry_over(ctx, node, number, continues, same_text)
        if bare:
            return
        frame = self.iri(f"plan/{ctx.period}/{number}/timeframe")
        self.timeframe(
            frame, self.raw_timeframe(ctx.start, ctx.end), f"Timeframe of {level} {number} ({ctx.period})"
        )
        self.add(node, "cmp:timeframe", frame)
        parties = self.pick_parties(ctx.bodies)
        self.add(node, "cmp:responsiblePartiesText", lit(", ".join(p.name for p in parties)))
        for party in parties:
            self.add(node, "cmp:responsibleParty", f"<{party.iri}>")
        if self.rng.random() < 0.08:
            self.add(node, "cmp:deliverable", self.rng.choice(ctx.deliverables))
        if ctx.progress_date and self.rng.random() < 0.85:
            self.progress(ctx, node, number, level)

    def pick_parties(self, bodies: list[Party]) -> list[Party]:
        pool = list(self.ref.parties) + bodies
        weights = self.party_weights + [b.weight for b in bodies]
        chosen = self.rng.choices(pool, weights, k=self.rng.choice((1, 1, 2, 2, 3, 4, 5)))
        if self.rng.random() < 0.15:
            chosen.append(self.rng.choice(self.ref.countries))
        unique: dict[str, Party] = {}
        for party in chosen:
            unique.setdefault(party.iri, party)
        return list(unique.values())

    def progress(self, ctx: PlanContext, node: str, number: str, level: str) -> None:
        report = self.iri(f"plan/{ctx.period}/{number}/progress")
        slug = self.weighted(self.ref.progress_statuses, PROGRESS_WEIGHTS)
        text = self.sentence(10, 30)
        self.add(node, "cmp:progressReport", report)
        self.typed_as(report, "cmp:ProgressReport")
        self.add(report, "cmp:status", f"<{self.ref.progress_statuses[slug]}>")
        self.add(report, "cmp:statusBasis", en(f"Synthetic assessment ({slug}): {self.words(5, 12)}."))
        self.add(report, "cmp:text", en(text))
        self.add(report, "dct:date", typed(ctx.progress_date, "gYearMonth"))
        self.add(report, "dct:source", ctx.source)
        self.add(report, "rdfs:label", en(f"Progress on {level} {number} ({ctx.period})"))
        stated = slug == "carried-over"
        if stated or self.rng.random() < 0.05:
            ctx.state.carried.append(Earlier(node, f"{ctx.period}/{number}", ctx.texts.get(node), stated))

    def carry_over(self, ctx: PlanContext, node: str, number: str, earlier: Earlier, same_text: bool) -> None:
        link = self.iri(f"plan/{ctx.period}/{number}/continues/{earlier.key}")
        if same_text:
            basis, confidence = "same-wording", "seen"
            words = "The later item's text is the same as the earlier item's text."
        elif earlier.stated:
            basis, confidence = "stated-in-progress-report", "seen"
            words = "The earlier item's progress report says it is carried over; this is the matching item."
        else:
            basis, confidence = "editorial-inference", "inferred"
            words = f"Inferred from the content of the two items: both {self.words(4, 10)}."
        self.add(node, "cmp:continues", earlier.iri)
        self.add(node, "prov:qualifiedDerivation", link)
        self.typed_as(link, "cmp:CarryOver")
        self.add(link, "cmp:basis", en(words))
        self.add(link, "cmp:basisKind", f"<{self.concept(self.ref.carry_over_bases, basis)}>")
        self.add(link, "cmp:confidence", f"<{self.concept(self.ref.confidences, confidence)}>")
        self.add(link, "dct:source", ctx.source)
        self.add(link, "prov:entity", earlier.iri)
        self.add(link, "rdfs:label", en(f"Item {number} of plan {ctx.period} continues item {earlier.key}"))

    # timeframes --------------------------------------------------------------------------------------
    def raw_timeframe(self, start: int, end: int) -> str:
        r = self.rng.random()
        year = self.rng.randint(start, end)
        month = self.rng.choice(MONTHS)
        if r < 0.12:
            return "Ongoing"
        if r < 0.57:
            return f"{month} {year}"
        if r < 0.62:
            return f"{month} {year} ({self.rng.choice(QUALIFIERS)})"
        if r < 0.77:
            first = self.rng.randint(start, end)
            second = self.rng.randint(first, end)
            months = sorted(self.rng.sample(range(len(MONTHS)), 2))
            return f"{MONTHS[months[0]]} {first} – {MONTHS[months[1]]} {second}"
        if r < 0.90:
            return str(year)
        if r < 0.95:
            return f"Next issue in {year}, then ongoing."
        return f"{start}-{end}"

    def timeframe(self, node: str, raw: str, label: str) -> None:
        """The same triples the importer writes for a timeframe cell (see importers/action_plan.py)."""
        frame = parse_timeframe(raw)
        assert frame is not None
        self.typed_as(node, "cmp:Timeframe")
        self.add(node, "rdfs:label", en(label))
        self.add(node, "cmp:rawText", lit(frame.raw))
        if frame.open_ended:
            self.add(node, "cmp:openEnded", typed("true", "boolean"))
        if frame.qualifier:
            self.add(node, "cmp:qualifier", en(frame.qualifier))
        if frame.start is not None:
            self.add(node, "cmp:startDate", typed(frame.start.first_day.isoformat(), "date"))
            self.instant(node, "time:hasBeginning", "start", frame.start)
        if frame.end is not None:
            self.add(node, "cmp:dueDate", typed(frame.end.last_day.isoformat(), "date"))
            self.instant(node, "time:hasEnd", "end", frame.end)

    def instant(self, frame: str, link: str, name: str, period: Period) -> None:
        instant = f"{frame[:-1]}/{name}>"
        self.add(frame, link, instant)
        self.typed_as(instant, "time:Instant")
        self.add(instant, "rdfs:label", lit(period.xsd_lexical))
        if period.month is None:
            self.add(instant, "time:inXSDgYear", typed(period.xsd_lexical, "gYear"))
        else:
            self.add(instant, "time:inXSDgYearMonth", typed(period.xsd_lexical, "gYearMonth"))

    # CMPs, taxa, claims -------------------------------------------------------------------------------
    def cmp(self) -> None:
        if self.taxa_made == 0 or self.rng.random() < 0.35:
            self.taxon()
            self.out.checkpoint()
        n = self.cmps
        self.cmps += 1
        node = self.iri(f"cmp/synthetic-{n}")
        taxa = self.rng.sample(self.taxa, self.rng.choice((1, 1, 1, 2)))
        countries = self.rng.sample(self.ref.countries, min(len(self.ref.countries), self.rng.randint(2, 7)))
        status = self.weighted(self.ref.cmp_statuses, CMP_STATUS_WEIGHTS)
        region = self.rng.choice(REGIONS)
        self.typed_as(node, "cmp:ConservationManagementPlan")
        endorsed = self.rng.randint(2010, 2030) if status in ENDORSED else None
        if self.rng.random() < 0.4:
            self.add(node, "cmp:coordinator", f"<{countries[0].iri}>")
            self.add(
                node, "cmp:coordinatorSince", typed((endorsed or 2015) + self.rng.randint(0, 5), "gYear")
            )
        self.add(node, "cmp:partOfProgramme", f"<{self.ref.programme}>")
        for country in countries:
            self.add(node, "cmp:rangeState", f"<{country.iri}>")
        self.add(node, "cmp:status", f"<{self.ref.cmp_statuses[status]}>")
        for taxon in taxa:
            self.add(node, "cmp:targetTaxon", f"<{taxon}>")
        if endorsed is not None:
            self.add(node, "cmp:yearEndorsed", typed(endorsed, "gYear"))
        self.add(node, "dct:source", self.register)
        for k in range(self.rng.randint(0, 2)):
            self.add(node, "dct:source", f"<https://example.org/iwc-cmp-synthetic/cmp-{n}/source-{k}>")
        self.add(node, "rdfs:label", en(f"Synthetic {region} CMP {n}"))
        self.add(node, "schema:url", f"<https://example.org/iwc-cmp-synthetic/cmp-{n}>")
        self.add(node, "skos:note", en(f"Synthetic: {self.words(8, 20)}."))
        for adviser in self.ref.advisers:
            self.out.add(f"<{adviser}>", self.t["cmp:advises"], node)
        for k, taxon in enumerate(taxa):
            population = self.iri(f"population/synthetic-{n}-{k}")
            self.add(node, "cmp:targetPopulation", population)
            self.typed_as(population, "cmp:Population")
            self.add(population, "cmp:ofTaxon", f"<{taxon}>")
            self.add(
                population, "dct:description", en(f"A synthetic {region} population: {self.words(6, 14)}.")
            )
            self.add(population, "dct:source", self.register)
            self.add(population, "rdfs:label", en(f"Synthetic {region} population {n}-{k}"))
        if endorsed is None and self.rng.random() < 0.5:
            self.claim(node, n, "endorsed", "cmp:yearEndorsed", typed(self.rng.randint(2010, 2030), "gYear"))
        if self.rng.random() < 0.1:
            other = self.rng.choice(self.taxa)
            if other not in taxa:
                self.claim(node, n, "targets", "cmp:targetTaxon", f"<{other}>")
        self.out.checkpoint()

    def claim(self, subject: str, n: int, what: str, predicate: str, value: str) -> None:
        node = self.iri(f"claim/synthetic-{n}-{what}")
        confidence = self.rng.choice(("inferred", "unverified"))
        self.typed_as(node, "cmp:Claim")
        self.add(node, "cmp:confidence", f"<{self.concept(self.ref.confidences, confidence)}>")
        self.add(node, "dct:source", self.register)
        self.add(node, "rdf:object", value)
        self.add(node, "rdf:predicate", self.t[predicate])
        self.add(node, "rdf:subject", subject)
        self.add(node, "rdfs:label", en(f"Claim: synthetic CMP {n} {what} ({confidence})"))
        self.add(node, "skos:note", en(f"Synthetic claim, {confidence}: {self.words(6, 16)}."))

    def taxon(self) -> None:
        n = self.taxa_made
        self.taxa_made += 1
        epithet = self.epithet(n)
        name = f"Synthetica {epithet}"
        slug = f"taxon/synthetica-{epithet}"
        node = self.iri(slug)
        schemes = self.rng.sample(IDENTIFIER_SCHEMES, self.rng.randint(0, len(IDENTIFIER_SCHEMES)))
        self.typed_as(node, "dwc:Taxon")
        self.add(node, "dct:source", self.register)
        self.add(node, "dwc:scientificName", lit(name))
        self.add(node, "dwc:taxonRank", lit("species"))
        self.add(node, "dwc:vernacularName", en(f"synthetic {epithet} dolphin"))
        self.add(node, "rdfs:label", en(f"{name} (synthetic {epithet} dolphin)"))
        for scheme, property_id, pattern, first in sorted(schemes):
            value = str(first + n)
            url = f"<{pattern.format(value)}>"
            identifier = self.iri(f"{slug}/id/{scheme}")
            self.add(node, "cmp:identifier", identifier)
            self.add(node, "skos:exactMatch", url)
            self.typed_as(identifier, "cmp:ExternalIdentifier")
            self.add(
                identifier, "cmp:confidence", f"<{self.concept(self.ref.confidences, 'seen-secondary')}>"
            )
            self.add(identifier, "dct:source", self.register)
            self.add(identifier, "rdfs:label", en(f"{property_id} of {name}: {value}"))
            self.add(identifier, "schema:propertyID", lit(property_id))
            self.add(identifier, "schema:url", url)
            self.add(identifier, "schema:value", lit(value))
        if not schemes:
            self.add(node, "skos:note", en("No external identifier was made up for this synthetic taxon."))
        self.taxa.append(node[1:-1])

    # helpers ------------------------------------------------------------------------------------------
    @staticmethod
    def epithet(n: int) -> str:
        value, syllables = n + len(SYLLABLES) ** 2, []
        while value:
            value, digit = divmod(value, len(SYLLABLES))
            syllables.append(SYLLABLES[digit])
        return "".join(reversed(syllables)) + "nus"

    def weighted(self, concepts: dict[str, str], weights: dict[str, float]) -> str:
        slugs = sorted(concepts)
        return self.rng.choices(slugs, [weights.get(slug, 1.0) for slug in slugs])[0]

    @staticmethod
    def concept(concepts: dict[str, str], slug: str) -> str:
        return concepts.get(slug) or concepts[sorted(concepts)[0]]


class PlanContext:
    """What every item of one plan shares while the plan is generated."""

    def __init__(
        self,
        period: str,
        plan: str,
        source: str,
        progress_date: str | None,
        bodies: list[Party],
        deliverables: list[str],
        earlier: list[Earlier],
        state: PlanState,
    ) -> None:
        self.period, self.plan, self.source, self.progress_date = period, plan, source, progress_date
        self.bodies, self.deliverables, self.state = bodies, deliverables, state
        self.earlier = list(earlier)
        years = period.rsplit("-", 2)
        self.start, self.end = int(years[1]), int(years[2])
        self.texts: dict[str, str] = {}

    def take_earlier(self, rng: random.Random) -> Earlier | None:
        """The next earlier item this plan continues, for about half of its leaf items."""
        if self.earlier and rng.random() < 0.5:
            return self.earlier.pop(0)
        return None


def generate(handle: TextIO, triples: int, base: str, seed: int = 1, root: Path = ROOT) -> int:
    """Write about `triples` synthetic triples to `handle`; returns the number written."""
    if not base.endswith("/"):
        raise ValueError(f"the base IRI must end with '/': {base!r}")
    out = Out(handle, triples)
    Generator(load_reference(root, base), out, base, seed).run()
    return out.written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=parse_size, default=parse_size("10k"), help="e.g. 10k, 100k, 1m")
    parser.add_argument("--out", type=Path, help="output file (N-Triples); '-' or none for stdout")
    parser.add_argument("--base", default=default_base(), help="public base IRI [default: %(default)s]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--site", type=Path, default=ROOT, help="project whose real data is linked to")
    args = parser.parse_args(argv)
    try:
        if args.out is None or str(args.out) == "-":
            count = generate(sys.stdout, args.triples, args.base, args.seed, args.site)
        else:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with args.out.open("w", encoding="utf-8", newline="\n") as handle:
                count = generate(handle, args.triples, args.base, args.seed, args.site)
            print(f"wrote {count} triples to {args.out}", file=sys.stderr)
    except (MissingReferenceData, ValueError, OSError) as error:
        print(f"bench.gen: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
