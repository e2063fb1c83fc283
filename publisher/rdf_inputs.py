"""The RDF files a command loads, the project's and any extra files or directories, and the named graph each
goes to: checked together before anything is loaded. build, validate, serve, its reloads and push all list
their files here, so that what one of them refuses, all refuse.

A file's graph is `{base}graph/{its name without suffix}` (publisher.iris); quads keep the graph they name.
Two files with one graph would replace or mix each other's triples, so they are refused, and so is a file
of quads that names another file's graph. A file is loaded once: a project file or an extra file given
again is refused, as is an extra directory with no RDF file in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from publisher.iris import Iris
from publisher.rdf_files import (
    FORMATS,
    TRIPLE_FORMATS,
    RdfFile,
    RdfInputError,
    rdf_files_in,
    read_quads,
    regular_file,
)
from publisher.site import Site


def project_files(site: Site, extra: Iterable[Path], iris: Iris) -> list[RdfFile]:
    """The project's own RDF (ontology, data, shapes), then the extra files or directories' RDF files, all
    checked (see checked_extra_files)."""
    own = own_files(site)
    return own + checked_extra_files(own, extra, iris)


def own_files(site: Site) -> list[RdfFile]:
    """The project's own RDF files, named relative to the project."""
    return [RdfFile(path, site.relative(path)) for path in site.turtle_files()]


def checked_extra_files(own: list[RdfFile], extra: Iterable[Path], iris: Iris) -> list[RdfFile]:
    """The RDF files of the extra files or directories; RdfFileError, before anything is loaded, if a file
    cannot be loaded beside the project's `own`: not a regular file, given twice, or its graph another's."""
    extra_files = [file for path in extra for file in _rdf_files_of(path)]
    files = own + extra_files
    _refuse_repeats(files, len(own))
    graphs = _graph_owners(files, iris)
    for file in extra_files:
        _refuse_foreign_graphs(file, graphs, iris)
    return extra_files


def _rdf_files_of(path: Path) -> list[RdfFile]:
    """The RDF files an extra path gives: itself, or those below it (a directory must hold one)."""
    files = rdf_files_in(path)
    if not files:
        known = ", ".join(sorted(FORMATS))
        raise RdfInputError(path, f"{path} holds no RDF file ({known}); give a directory or file of RDF")
    return files


def _refuse_repeats(files: list[RdfFile], own: int) -> None:
    """Refuse a file that is not a regular file, and an extra file that is a file given before (the same
    file, by device and inode: also through a link): the first `own` files are the project's."""
    seen: dict[tuple[int, int], int] = {}
    for index, file in enumerate(files):
        status = regular_file(file)
        earlier = seen.setdefault((status.st_dev, status.st_ino), index)
        if earlier == index or index < own:
            continue
        first = files[earlier]
        if earlier < own:
            raise RdfInputError(
                file.path,
                f"{file.path} is the project file {first.name}, which cmpkg loads anyway; "
                "leave it out of the extra files",
            )
        raise RdfInputError(file.path, f"{file.path} is {first.path} given again; give each file once")


def _graph_owners(files: list[RdfFile], iris: Iris) -> dict[str, RdfFile]:
    """Each file's graph IRI and the file; RdfFileError if two files would have the same graph."""
    owners: dict[str, RdfFile] = {}
    for file in files:
        graph = str(iris.graph(file.name))
        other = owners.setdefault(graph, file)
        if other is not file:
            raise RdfInputError(
                file.path,
                f"{file.path} and {other.path} would both be graph <{graph}>; rename one, or pass them "
                "under distinct directories",
            )
    return owners


def _refuse_foreign_graphs(file: RdfFile, graphs: dict[str, RdfFile], iris: Iris) -> None:
    """Refuse a file of quads that names the graph of another file (the file is read through, once)."""
    if file.format in TRIPLE_FORMATS:
        return
    named: set[str] = set()
    for quad in read_quads(file, iris.base, None):
        if isinstance(quad.graph_name, ox.NamedNode) and quad.graph_name.value not in named:
            named.add(quad.graph_name.value)
            owner = graphs.get(quad.graph_name.value)
            if owner is not None and owner is not file:
                raise RdfInputError(
                    file.path,
                    f"{file.path} names graph <{quad.graph_name.value}>, which is the graph of {owner.path}; "
                    "give its quads another graph",
                )
