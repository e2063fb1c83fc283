"""Benchmark results as tables: printed as text, and written as Markdown into docs/performance.md.

The Markdown goes between `<!-- bench:start -->` and `<!-- bench:end -->`; inside, each section sits
between its own `<!-- bench:NAME -->` / `<!-- /bench:NAME -->` markers so that a run of some sections
(`--only build`) replaces those and keeps the others.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SECTION_ORDER = ("machine", "data", "build", "queries", "validation", "pages", "remote")


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    title: str = ""

    def add(self, *cells: object) -> None:
        self.rows.append([str(cell) for cell in cells])

    def text(self) -> str:
        widths = [max(len(h), *(len(r[i]) for r in self.rows)) for i, h in enumerate(self.headers)]
        lines = [self.title] if self.title else []
        lines.append("  ".join(h.ljust(w) for h, w in zip(self.headers, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in self.rows]
        return "\n".join(lines)

    def markdown(self) -> str:
        lines = [f"**{self.title}**", ""] if self.title else []
        lines.append("| " + " | ".join(self.headers) + " |")
        lines.append("|" + "|".join(" --- " for _ in self.headers) + "|")
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass
class Section:
    name: str
    title: str
    intro: str = ""
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    targets: Table | None = None

    def skip(self, reason: str) -> None:
        self.notes.append(f"skipped: {reason}")

    def text(self) -> str:
        parts = [f"== {self.title} ==", self.intro] if self.intro else [f"== {self.title} =="]
        parts += [table.text() for table in self.tables]
        if self.targets is not None:
            parts.append(self.targets.text())
        parts += [f"* {note}" for note in self.notes]
        return "\n\n".join(part for part in parts if part)

    def markdown(self) -> str:
        parts = [f"### {self.title}", self.intro] + [table.markdown() for table in self.tables]
        if self.targets is not None:
            parts.append(self.targets.markdown())
        if self.notes:
            parts.append("\n".join(f"- {note}" for note in self.notes))
        body = "\n\n".join(part for part in parts if part)
        return f"<!-- bench:{self.name} -->\n{body}\n<!-- /bench:{self.name} -->"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return "unknown"


def _commit(root: Path) -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        return result.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_section(root: Path, command: str) -> Section:
    section = Section("machine", "Machine and run")
    table = Table(["fact", "value"])
    table.add("date (UTC)", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"))
    table.add("command", f"`{command}`")
    table.add("commit", _commit(root))
    table.add("CPU", f"{_cpu_model()}, nproc {os.cpu_count()}")
    table.add("memory", _memory_total())
    table.add("Python", platform.python_version())
    for package in ("pyoxigraph", "oxigraph", "rdflib", "pyshacl", "flask"):
        table.add(package, _version(package))
    section.tables.append(table)
    return section


def update_markdown(path: Path, sections: list[Section]) -> None:
    """Replace the run's sections between the bench markers of `path`, keeping the other sections."""
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    block, tail = rest.split(END, 1)
    kept = {
        match["name"]: match[0]
        for match in re.finditer(r"<!-- bench:(?P<name>[\w-]+) -->.*?<!-- /bench:(?P=name) -->", block, re.S)
    }
    for section in sections:
        kept[section.name] = section.markdown()
    ordered = [kept[name] for name in SECTION_ORDER if name in kept]
    ordered += [kept[name] for name in kept if name not in SECTION_ORDER]
    path.write_text(head + START + "\n" + "\n\n".join(ordered) + "\n" + END + tail, encoding="utf-8")
