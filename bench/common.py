"""What the benchmark's sections share: options, formatting, and one measurement in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
TARGET_SIZE = 1_000_000  # the size the issues' targets are set at


@dataclass
class Options:
    sizes: list[tuple[str, int]]
    only: tuple[str, ...]
    base: str
    reps: int = 15
    warmup: int = 2
    query_budget: float = 10.0  # seconds of repetitions per query and engine
    rdflib_cap: float = 30.0
    build_cap: float = 900.0
    validation_cap: float = 600.0
    write: bool = True
    command: str = "make bench"


@dataclass
class Timing:
    median_ms: float | None = None
    rows: int | None = None
    runs: int = 0
    note: str = ""  # ">cap", "error: ...", "skipped"

    def cell(self) -> str:
        return self.note if self.median_ms is None else fmt_ms(self.median_ms)


# formatting ------------------------------------------------------------------------------------------
def fmt_ms(ms: float) -> str:
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:,.0f}"


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 10 else f"{seconds:.1f}"


def fmt_mb(mb: float | None) -> str:
    return "?" if mb is None else f"{mb:,.0f}"


def ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None or b == 0 else f"{a / b:.2f}x" if a / b < 10 else f"{a / b:.0f}x"


def label(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1000}k"


# child processes -------------------------------------------------------------------------------------
def measure(task: str, base: str, file: Path, cap: float, *extra: str) -> dict[str, Any]:
    """Run one bench.measure task in a fresh interpreter; its JSON answer, or {"timeout"/"error": ...}."""
    return json_from_child([sys.executable, "-m", "bench.measure", task, base, str(file), *extra], cap)


def json_from_child(
    command: list[str], cap: float, environment: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run a bench child process for at most `cap` seconds; the last JSON line it printed, or
    {"timeout": True} / {"error": its last line of stderr}."""
    with subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=cap)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return {"timeout": True}
        except BaseException:
            process.kill()
            raise
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": (err.strip().splitlines() or ["no output"])[-1][:200]}
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer


def yes(flag: bool) -> str:
    return "yes" if flag else "**no**"
