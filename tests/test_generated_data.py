"""The committed generated files (data/plans/*.ttl, data/countries.ttl) are exactly what their sources give.

A hand edit, or a source change without `make data`, fails here. A missing source (e.g. the country table)
fails too: the generators must run, never be skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.generate import generated_files
from publisher.iris import Iris
from publisher.site import Site

BASE = "https://w3id.org/iwc-cmp/"
ROOT = Path(__file__).resolve().parent.parent
FIX = "run `make data` (cmpkg generate) and commit the result"


def _generate() -> tuple[dict[str, str], Exception | None]:
    """The generators' output by path relative to the project, or the error that stopped them."""
    try:
        files = generated_files(Site(ROOT), Iris(BASE))
    except Exception as error:  # reported by the test below, as a failure
        return {}, error
    return {path.relative_to(ROOT).as_posix(): text for path, text in files.items()}, None


GENERATED, GENERATION_ERROR = _generate()
FAILURE = f"{type(GENERATION_ERROR).__name__}: {GENERATION_ERROR}" if GENERATION_ERROR else ""
# When the generators fail there is nothing to compare; one failing case says so (rather than a skip).
CASES = sorted(GENERATED) or ["generators-failed"]


def test_the_generators_run() -> None:
    if GENERATION_ERROR is not None:
        pytest.fail(f"the generators failed: {FAILURE}; fix the source, then {FIX}")
    assert set(GENERATED) >= {"data/plans/2018-2020.ttl", "data/plans/2022-2024.ttl", "data/countries.ttl"}


@pytest.mark.parametrize("relative", CASES)
def test_committed_file_equals_generated_output(relative: str) -> None:
    if GENERATION_ERROR is not None:
        pytest.fail(f"cannot compare the generated files: {FAILURE}; {FIX}")
    path = ROOT / relative
    if not path.exists():
        pytest.fail(f"{relative} is missing; {FIX}")
    if path.read_text(encoding="utf-8") != GENERATED[relative]:
        pytest.fail(f"{relative} differs from what its sources give; {FIX}")
