"""A cmpkg project directory: where its ontology, data, shapes, queries and source tables are."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

RDF_SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".nq": "nquads", ".trig": "trig", ".jsonld": "json-ld"}
PROJECT_DIRS = ("ontology", "data", "shapes")  # a directory holding none of these is not a cmpkg project


class SiteError(ValueError):
    """The project directory cannot be used: it is not a cmpkg project, or a directory in it is unreadable."""


@dataclass(frozen=True)
class Site:
    """The conventional layout of a cmpkg project, found by looking, not configured."""

    root: Path

    def checked(self, source: str | None = None) -> Site:
        """This site, if its root is a cmpkg project; `source` names where the root came from (None: the
        default, the current directory)."""
        shown = str(self.root) if source else f"{self.root.resolve()} (the current directory)"
        try:
            found = any((self.root / name).is_dir() for name in PROJECT_DIRS)
        except OSError as error:
            raise SiteError(f"{shown}: cannot read directory ({_reason(error)})") from None
        if not found:
            where = f"{source}: " if source else ""
            raise SiteError(
                f"{where}{shown} is not a cmpkg project (no ontology/, data/ or shapes/); use --site DIR"
            )
        return self

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
        return self._find(self.ontology_dir, "*.ttl")

    def data_files(self) -> list[Path]:
        return self._find(self.data_dir, "*.ttl", recursive=True)

    def shape_files(self) -> list[Path]:
        return self._find(self.shapes_dir, "*.ttl")

    def query_files(self) -> list[Path]:
        return self._find(self.queries_dir, "*.rq")

    def _find(self, directory: Path, pattern: str, recursive: bool = False) -> list[Path]:
        """What Path.glob (or rglob) finds, sorted, but a directory that cannot be read is an error where
        glob would skip it and its files without a word; a missing `directory` holds nothing."""

        def unreadable(error: OSError) -> None:
            missing = isinstance(error, FileNotFoundError | NotADirectoryError)
            if not (missing and error.filename == str(directory)):
                name = self.relative(Path(error.filename)) if error.filename else str(directory)
                raise SiteError(f"{name}: cannot read directory ({_reason(error)})")

        found: list[Path] = []
        for folder, dirs, files in os.walk(directory, onerror=unreadable):
            found += [Path(folder, name) for name in dirs + files if fnmatchcase(name, pattern)]
            if not recursive:
                break
        return sorted(found)

    def turtle_files(self) -> list[Path]:
        """Every Turtle file the project publishes or validates with."""
        return self.ontology_files() + self.data_files() + self.shape_files()

    def relative(self, path: Path) -> str:
        """A path as the project names it: relative to the root, with '/'."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()


def _reason(error: OSError) -> str:
    """An OSError's reason in lower case, as cmpkg's messages give it: 'permission denied'."""
    return (error.strerror or str(error)).lower()
