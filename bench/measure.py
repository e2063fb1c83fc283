"""One measurement in a fresh process: `python -m bench.measure TASK BASE FILE [ARG]`; prints one JSON line.

Each task runs in its own interpreter so that its peak memory (VmHWM) is its own. Tasks:

- build-cmpkg: cmpkg's store as `cmpkg build FILE` makes it (publisher.store.build_store, in memory)
- build-cmpkg-disk: the same into an on-disk store at ARG (the store_path setting)
- build-pyoxigraph: the file alone into an in-memory pyoxigraph store with Store.load (the floor)
- build-rdflib: the file alone with rdflib Graph.parse
- validate-pyshacl: plain pySHACL on ontology + data + FILE, parsed with rdflib, against shapes/
- validate-cmpkg: what `cmpkg validate FILE` runs (publisher.validation, default engine: cmpkg's own,
  publisher.shacl on Oxigraph); ARG may name another engine (auto, oxigraph, pyshacl)
- rdflib-worker: load ontology/, data/, shapes/ and FILE into an rdflib Dataset (a graph per file, union
  default graph), then answer {"query", "cap"} JSON lines on stdin with {"seconds", "rows"} or
  {"timeout": true}; a query is stopped after cap seconds.
"""

from __future__ import annotations

import hashlib
import json
import signal
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def memory_mb(field: str = "VmHWM") -> float:
    """This process's peak (VmHWM) or current (VmRSS) resident memory in MB, from /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def result_digest(keys: Iterable[tuple[str, ...]]) -> str:
    """A short fingerprint of a set of validation results, to compare two validators' reports."""
    text = "\n".join("\t".join(key) for key in sorted(set(keys)))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def shape_key(shape: object) -> str:
    """A result's source shape if it is named; blank-node shapes differ from run to run, so count as ""."""
    text = str(shape) if shape is not None else ""
    return text if "://" in text else ""


def build_cmpkg(base: str, file: Path, store_path: str | None = None) -> dict[str, Any]:
    from publisher.iris import Iris
    from publisher.site import Site
    from publisher.store import build_store

    started = time.perf_counter()
    store, _ = build_store(Site(ROOT), Iris(base), [file], Path(store_path) if store_path else None)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "triples": len(store)}


def build_pyoxigraph(base: str, file: Path) -> dict[str, Any]:
    import pyoxigraph as ox

    started = time.perf_counter()
    store = ox.Store()
    store.load(path=str(file), format=ox.RdfFormat.N_TRIPLES, base_iri=base)
    return {"seconds": time.perf_counter() - started, "triples": len(store)}


def build_rdflib(base: str, file: Path) -> dict[str, Any]:
    from rdflib import Graph

    started = time.perf_counter()
    graph = Graph()
    graph.parse(str(file), format="nt", publicID=base)
    return {"seconds": time.perf_counter() - started, "triples": len(graph)}


def _result_keys(report_graph: Any) -> list[tuple[str, ...]]:
    from rdflib.namespace import RDF

    from publisher.namespaces import SH

    keys: list[tuple[str, ...]] = []
    for node in report_graph.subjects(RDF.type, SH.ValidationResult):
        path = report_graph.value(node, SH.resultPath)
        shape = report_graph.value(node, SH.sourceShape)
        keys.append(
            (
                str(report_graph.value(node, SH.focusNode)),
                str(path) if path is not None else "",
                str(report_graph.value(node, SH.resultSeverity) or SH.Violation),
                shape_key(shape),
            )
        )
    return keys


def validate_pyshacl(base: str, file: Path) -> dict[str, Any]:
    from pyshacl import validate
    from rdflib import Graph

    from publisher.iris import Iris
    from publisher.namespaces import SH
    from publisher.site import Site
    from publisher.validation import load_shapes

    site = Site(ROOT)
    started = time.perf_counter()
    data = Graph()
    for path in site.ontology_files() + site.data_files():
        data.parse(str(path), format="turtle", publicID=base)
    data.parse(str(file), format="nt", publicID=base)
    parsed = time.perf_counter() - started
    shapes = load_shapes(site.shape_files(), Iris(base))
    _, report_graph, _ = validate(
        data,
        shacl_graph=shapes,
        ont_graph=None,
        inference="none",
        advanced=True,
        allow_infos=True,
        allow_warnings=True,
    )
    keys = _result_keys(report_graph)
    return {
        "seconds": time.perf_counter() - started,
        "parse_seconds": parsed,
        "violations": sum(1 for k in keys if k[2] == str(SH.Violation)),
        "warnings": sum(1 for k in keys if k[2] == str(SH.Warning)),
        "digest": result_digest(keys),
    }


def validate_cmpkg(base: str, file: Path, engine: str = "auto") -> dict[str, Any]:
    from publisher import validation
    from publisher.iris import Iris
    from publisher.site import Site

    notices: list[str] = []
    started = time.perf_counter()
    report = validation.validate_site(Site(ROOT), Iris(base), [file], engine=engine, notice=notices.append)
    seconds = time.perf_counter() - started
    keys = [(r.focus, r.path or "", str(r.severity), shape_key(r.shape)) for r in report.results]
    return {
        "seconds": seconds,
        "engine": "pyshacl (fallback)" if notices else engine,
        "violations": len(report.violations),
        "warnings": len(report.warnings),
        "digest": result_digest(keys),
    }


class QueryTimeout(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise QueryTimeout


def rdflib_worker(base: str, file: Path) -> None:
    """Load once, then time queries read from stdin until it closes."""
    from rdflib import Dataset, URIRef

    from publisher.iris import Iris
    from publisher.site import Site
    from publisher.store import project_files

    iris = Iris(base)
    started = time.perf_counter()
    dataset = Dataset(default_union=True)
    for rdf_file in project_files(Site(ROOT), [file], iris):
        fmt = "nt" if rdf_file.path.suffix == ".nt" else "turtle"
        dataset.graph(URIRef(iris.graph(rdf_file.name))).parse(str(rdf_file.path), format=fmt, publicID=base)
    _emit({"loaded": len(dataset), "seconds": time.perf_counter() - started, "peak_mb": memory_mb()})
    signal.signal(signal.SIGALRM, _on_alarm)
    for line in sys.stdin:
        request = json.loads(line)
        started = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, float(request["cap"]))
        try:
            result = dataset.query(request["query"])
            if result.type == "ASK":
                rows = 1
            elif result.type in {"CONSTRUCT", "DESCRIBE"}:
                rows = len(result.graph) if result.graph is not None else 0
            else:
                rows = sum(1 for _ in result)
            signal.setitimer(signal.ITIMER_REAL, 0)
            _emit({"seconds": time.perf_counter() - started, "rows": rows})
        except QueryTimeout:
            _emit({"timeout": True})
        except Exception as error:  # the engine's own error, reported as the answer
            signal.setitimer(signal.ITIMER_REAL, 0)
            _emit({"error": f"{type(error).__name__}: {error}"[:300]})


def _emit(answer: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "build-cmpkg": build_cmpkg,
    "build-cmpkg-disk": build_cmpkg,
    "build-pyoxigraph": build_pyoxigraph,
    "build-rdflib": build_rdflib,
    "validate-pyshacl": validate_pyshacl,
    "validate-cmpkg": validate_cmpkg,
}


def main(argv: list[str]) -> int:
    task, base, file, *rest = argv
    if task == "rdflib-worker":
        rdflib_worker(base, Path(file))
        return 0
    baseline = memory_mb("VmRSS")
    try:
        answer = TASKS[task](base, Path(file), *rest)
    except Exception as error:  # reported to the parent, which prints it as this cell's value
        answer = {"error": f"{type(error).__name__}: {error}"[:300]}
    answer.update(peak_mb=memory_mb(), baseline_mb=baseline)
    _emit(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
