"""Validation: cmpkg validate (its own engine, publisher.shacl on Oxigraph) vs plain pySHACL.

Each run is a fresh process with a time cap; "same results" compares the (focus, path, severity, shape) of
every result with plain pySHACL's on the same data.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bench.common import TARGET_SIZE, Options, fmt_mb, fmt_s, label, measure, ratio, yes
from bench.report import Section, Table

VALIDATORS = (
    ("validate-pyshacl", "plain pySHACL (rdflib parse)"),
    ("validate-cmpkg", "cmpkg validate (default engine: publisher.shacl on Oxigraph)"),
)


def same_results(plain: dict[str, Any], other: dict[str, Any]) -> str:
    if "digest" not in plain or "digest" not in other:
        return "–"
    return "yes" if plain["digest"] == other["digest"] else "**no**"


def add_targets(targets: Table, measured: dict[int, dict[str, dict[str, Any]]], options: Options) -> None:
    """Issue 6 at 1M (or the largest size run), with the largest size cmpkg did validate for context."""
    largest = max(measured)
    at = "" if largest == TARGET_SIZE else f" (at {label(largest)}; 1M not run)"
    cmpkg = measured[largest].get("validate-cmpkg", {})
    done = [size for size, results in measured.items() if "seconds" in results.get("validate-cmpkg", {})]
    context = ""
    if done and max(done) != largest:
        best = measured[max(done)]["validate-cmpkg"]
        context = f" ({label(max(done))}: {fmt_s(best['seconds'])} s, {fmt_mb(best['peak_mb'])} MB)"
    if "seconds" in cmpkg:
        targets.add(f"≤ 15 s at 1M{at}", f"{fmt_s(cmpkg['seconds'])} s", yes(cmpkg["seconds"] <= 15))
        targets.add(f"≤ 2 GB at 1M{at}", f"{fmt_mb(cmpkg['peak_mb'])} MB", yes(cmpkg["peak_mb"] <= 2048))
    else:
        what = f">{options.validation_cap:.0f} s cap" if cmpkg.get("timeout") else "not run"
        targets.add(f"≤ 15 s and ≤ 2 GB at 1M{at}", what + context, "**no**")
    both = [
        s
        for s, r in measured.items()
        if "digest" in r.get("validate-pyshacl", {}) and "digest" in r.get("validate-cmpkg", {})
    ]
    if both:
        results = measured[max(both)]
        same = same_results(results["validate-pyshacl"], results["validate-cmpkg"])
        targets.add(f"same results as plain pySHACL (at {label(max(both))})", same, same)


def validation_section(options: Options, files: dict[int, Path]) -> Section:
    section = Section("validation", "Validation: cmpkg validate vs plain pySHACL")
    section.intro = (
        "Ontology + data + the synthetic file against shapes/, each run in a fresh process (time end to end, "
        f"parsing included; peak VmHWM), stopped at {options.validation_cap:.0f} s. A size is skipped when "
        "a linear estimate from the smaller size is over the cap. cmpkg parses the files with Oxigraph and "
        "runs each shape as a few set-based SPARQL queries over all its focus nodes (docs/validation.md). "
        "Target (issue 6): 1M triples in at most 15 s and 2 GB, with exactly the results of plain pySHACL."
    )
    table = Table(
        [
            "size",
            "validator",
            "seconds",
            "peak MB",
            "violations",
            "warnings",
            "same results as pySHACL",
            "pySHACL ÷ this",
        ]
    )
    targets = Table(["target (issue 6)", "measured", "met"], title="Targets")
    previous: dict[str, float | None] = {}
    measured: dict[int, dict[str, dict[str, Any]]] = {}
    for size, file in files.items():
        results = measured.setdefault(size, {})
        for task, name in VALIDATORS:
            last = previous.get(task, 0.0)
            smaller = [s for s in files if s < size]
            estimate = last * size / max(smaller) if last and smaller else 0.0
            if last is None or estimate > options.validation_cap:
                why = "over the cap at a smaller size" if last is None else f"estimated {estimate:.0f} s"
                table.add(label(size), name, f"skipped: {why}", "–", "–", "–", "–", "–")
                previous[task] = None
                continue
            result = results[task] = measure(task, options.base, file, options.validation_cap)
            print(f"  {label(size)} {name}: {result.get('seconds', result)}", file=sys.stderr)
            if "seconds" not in result:
                cap = f">{options.validation_cap:.0f} s cap"
                table.add(
                    label(size), name, cap if result.get("timeout") else f"error: {result.get('error')}"
                )
                table.rows[-1] += ["–"] * 5
                previous[task] = None
                continue
            previous[task] = result["seconds"]
            plain = results.get("validate-pyshacl", {})
            table.add(
                label(size),
                name,
                fmt_s(result["seconds"]),
                fmt_mb(result["peak_mb"]),
                result["violations"],
                result["warnings"],
                "(reference)" if task == "validate-pyshacl" else same_results(plain, result),
                ratio(plain.get("seconds"), result["seconds"]),
            )
    add_targets(targets, measured, options)
    section.tables.append(table)
    section.targets = targets
    return section
