"""A validation report as text (grouped by file), JSON, JUnit XML or GitHub workflow annotations.

Every format gives, for each result: the focus node, its label, the property path, the value, the message,
the severity, the shape, and the file and line where the focus node is defined.

JUnit has no notion of severity, so: each validated file is a <testsuite>; each result is a <testcase>
named after its shape and focus node, and it is a <failure> when the result fails the run (per
`--fail-on`), otherwise a passing test case whose message is in <system-out>; a file without results has
one passing test case, "conforms".
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from itertools import groupby

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from publisher.namespaces import SH
from publisher.turtle import TurtleWriter
from publisher.validation import Report, Result

NO_FILE = "(not in any file)"
GITHUB_LEVELS = {SH.Violation: "error", SH.Warning: "warning", SH.Info: "notice"}


class Renderer:
    """Renders one report; IRIs under the base are shown relative, like in the project's Turtle."""

    def __init__(self, report: Report, base: str, fail_on: URIRef = SH.Violation) -> None:
        self.report = report
        self.fail_on = fail_on
        self.writer = TurtleWriter(base)
        self.failing = {id(r) for r in report.failing(fail_on)}

    def term(self, node: Node | str | None) -> str:
        if node is None:
            return ""
        if isinstance(node, BNode):
            return f"_:{node}"
        if not isinstance(node, (URIRef, Literal)):
            node = URIRef(str(node))
        return self.writer.term(node, set())

    def fails(self, result: Result) -> bool:
        return id(result) in self.failing

    def summary(self) -> str:
        report = self.report
        counts = [
            _plural(len(report.violations), "violation"),
            _plural(len(report.warnings), "warning"),
        ]
        if report.infos:
            counts.append(_plural(len(report.infos), "info"))
        failing = len(self.failing)
        verdict = "does not conform" if failing else "conforms"
        if not failing and report.results:
            verdict += f"; these results do not fail it (--fail-on {_severity_name(self.fail_on).lower()})"
        return f"{', '.join(counts)} in {_plural(len(report.files), 'file')}: {verdict}"


def render_text(renderer: Renderer) -> str:
    lines: list[str] = []
    for file, group in groupby(renderer.report.results, key=lambda r: r.file or NO_FILE):
        results = list(group)
        lines.append(f"{file} ({_plural(len(results), 'result')})")
        for result in results:
            where = f"{result.line}: " if result.line else ""
            label = f" ({result.label})" if result.label else ""
            lines.append(f"  {where}{result.severity_name} {renderer.term(result.focus)}{label}")
            details = []
            if result.path:
                details.append(f"path {renderer.term(result.path)}")
            if _shows_value(result):
                details.append(f"value {renderer.term(result.value)}")
            details.append(f"shape {renderer.term(result.shape)}")
            lines.append("      " + "; ".join(details))
            lines.append(f"      {result.message}")
        lines.append("")
    lines.append(renderer.summary())
    return "\n".join(lines) + "\n"


def render_json(renderer: Renderer) -> str:
    report = renderer.report
    document = {
        "conforms": not renderer.failing,
        "fail_on": _severity_name(renderer.fail_on),
        "counts": {
            "Violation": len(report.violations),
            "Warning": len(report.warnings),
            "Info": len(report.infos),
        },
        "files": report.files,
        "results": [
            {
                "severity": result.severity_name,
                "fails": renderer.fails(result),
                "focus": result.focus,
                "label": result.label,
                "path": result.path,
                "value": str(result.value) if result.value is not None else None,
                "value_term": renderer.term(result.value) if result.value is not None else None,
                "message": result.message,
                "shape": result.shape,
                "file": result.file,
                "line": result.line,
            }
            for result in report.results
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_junit(renderer: Renderer) -> str:
    report = renderer.report
    by_file: dict[str, list[Result]] = {file: [] for file in report.files}
    for result in report.results:
        by_file.setdefault(result.file or NO_FILE, []).append(result)
    root = ET.Element("testsuites", name="cmpkg validate")
    total = failures = 0
    for file, results in by_file.items():
        suite = ET.SubElement(root, "testsuite", name=file)
        suite_failures = 0
        if not results:
            ET.SubElement(suite, "testcase", classname=_classname(file), name="conforms", file=file)
        for result in results:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=_classname(file),
                name=f"{renderer.term(result.shape)} {renderer.term(result.focus)}",
                file=file,
            )
            if result.line:
                case.set("line", str(result.line))
            text = _details(renderer, result)
            if renderer.fails(result):
                suite_failures += 1
                failure = ET.SubElement(case, "failure", type=result.severity_name, message=result.message)
                failure.text = text
            else:
                ET.SubElement(case, "system-out").text = f"{result.severity_name}: {text}"
        count = max(len(results), 1)
        suite.set("tests", str(count))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total += count
        failures += suite_failures
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_github(renderer: Renderer) -> str:
    lines = []
    for result in renderer.report.results:
        level = GITHUB_LEVELS.get(result.severity, "error")
        properties = []
        if result.file:
            properties.append(f"file={_escape_property(result.file)}")
            if result.line:
                properties.append(f"line={result.line}")
        title = f"cmpkg validate: {result.severity_name} {renderer.term(result.shape)}"
        properties.append(f"title={_escape_property(title)}")
        lines.append(f"::{level} {','.join(properties)}::{_escape_data(_details(renderer, result))}")
    lines.append(renderer.summary())
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[[Renderer], str]] = {
    "text": render_text,
    "json": render_json,
    "junit": render_junit,
    "github": render_github,
}


def render(report: Report, output_format: str, base: str, fail_on: URIRef = SH.Violation) -> str:
    """The report in one of FORMATS."""
    return FORMATS[output_format](Renderer(report, base, fail_on))


def summary(report: Report, base: str, fail_on: URIRef = SH.Violation) -> str:
    """One line: the counts and whether the data conforms."""
    return Renderer(report, base, fail_on).summary()


def _details(renderer: Renderer, result: Result) -> str:
    label = f" ({result.label})" if result.label else ""
    parts = [f"{renderer.term(result.focus)}{label}"]
    if result.path:
        parts.append(f"path {renderer.term(result.path)}")
    if _shows_value(result):
        parts.append(f"value {renderer.term(result.value)}")
    return f"{', '.join(parts)}: {result.message}"


def _shows_value(result: Result) -> bool:
    """A node shape's result has the focus node as its value; saying it twice helps nobody."""
    return result.value is not None and str(result.value) != result.focus


def _classname(file: str) -> str:
    return file.replace("/", ".")


def _severity_name(severity: URIRef) -> str:
    return str(severity).rsplit("#", 1)[-1]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
