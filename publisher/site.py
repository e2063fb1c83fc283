"""A cmpkg project directory: where its ontology, data, shapes, queries and source tables are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RDF_SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".trig": "trig", ".jsonld": "json-ld"}


@dataclass(frozen=True)
class Site:
    """The conventional layout of a cmpkg project, found by looking, not configured."""

    root: Path

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "shapes"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def source_dir(self) -> Path:
        return self.data_dir / "source"

    @property
    def plans_dir(self) -> Path:
        return self.data_dir / "plans"

    @property
    def plan_source(self) -> Path:
        return self.source_dir / "cmp-action-plans.txt"

    @property
    def status_table(self) -> Path:
        return self.source_dir / "progress-status-2018-2020.tsv"

    @property
    def country_table(self) -> Path:
        return self.source_dir / "country-wikidata.tsv"

    @property
    def countries_file(self) -> Path:
        return self.data_dir / "countries.ttl"

    def ontology_files(self) -> list[Path]:
        return sorted(self.ontology_dir.glob("*.ttl"))

    def data_files(self) -> list[Path]:
        return sorted(self.data_dir.rglob("*.ttl"))

    def shape_files(self) -> list[Path]:
        return sorted(self.shapes_dir.glob("*.ttl"))

    def query_files(self) -> list[Path]:
        return sorted(self.queries_dir.glob("*.rq"))

    def turtle_files(self) -> list[Path]:
        """Every Turtle file the project publishes or validates with."""
        return self.ontology_files() + self.data_files() + self.shape_files()

    def relative(self, path: Path) -> str:
        """A path as the project names it: relative to the root, with '/'."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()
