"""HTTP load from a second process on loopback: wrk (Debian package `wrk`), its figures read back.

    result = run_wrk("http://127.0.0.1:8000/plan/2018-2020", connections=8, seconds=10,
                     headers={"Accept": "text/turtle"})
    result.requests_per_s, result.p99_ms, result.non_2xx_3xx

wrk is a C load generator with one thread per core; it keeps its connections alive and reports the latency
distribution (`--latency`), so the figures are the server's, not the load generator's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


class LoadGeneratorMissing(RuntimeError):
    """wrk is not installed."""


@dataclass(frozen=True)
class LoadResult:
    url: str
    connections: int
    seconds: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: int


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    url: str,
    connections: int = 8,
    seconds: float = 10.0,
    headers: Mapping[str, str] | None = None,
    threads: int = 2,
) -> LoadResult:
    """Load `url` with `connections` keep-alive connections for `seconds`: rate and latency percentiles."""
    if not wrk_available():
        raise LoadGeneratorMissing("wrk is not installed: apt-get install wrk")
    command = ["wrk", "--latency", "-t", str(min(threads, connections)), "-c", str(connections)]
    command += ["-d", f"{max(1, round(seconds))}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    return parse_wrk(out, url, connections, seconds)


def parse_wrk(out: str, url: str, connections: int, seconds: float) -> LoadResult:
    """wrk's text report as numbers."""
    percentiles = {int(p): float(v) * _UNITS_MS[unit] for p, v, unit in _PERCENTILE.findall(out)}
    rate, total = _RATE.search(out), _TOTAL.search(out)
    if rate is None or total is None or len(percentiles) < 4:
        raise ValueError(f"wrk gave no figures for {url}:\n{out}")
    non_2xx = _NON_2XX.search(out)
    socket = SOCKET_ERRORS.search(out)
    return LoadResult(
        url=url,
        connections=connections,
        seconds=seconds,
        requests=int(total.group(1)),
        requests_per_s=float(rate.group(1)),
        p50_ms=percentiles[50],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
    )
