"""Real triple stores for the tests: an Oxigraph server (PyPI `oxigraph`) and Virtuoso (Debian
`virtuoso-opensource`), each on free 127.0.0.1 ports with its data in a temporary directory."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import free_port

START_TIMEOUT = 60.0
VIRTUOSO_ROOT = Path("/var/lib/virtuoso-opensource-7/vsp")  # the package's HTTP server root
VIRTUOSO_VAD = Path("/usr/share/virtuoso-opensource-7/vad")


def oxigraph_binary() -> str | None:
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.exists() else shutil.which("oxigraph")


def virtuoso_binary() -> str | None:
    return shutil.which("virtuoso-t")


@dataclass
class StoreServer:
    """A store server process, which tests may stop and start again on the same ports and data."""

    name: str
    command: list[str]
    directory: Path
    query_url: str
    update_url: str
    gsp_url: str
    user: str = ""
    password: str = ""
    set_up: list[list[str]] = field(default_factory=list)  # commands run once, after the first start
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def settings(self) -> dict[str, Any]:
        """The cmpkg settings that name this store."""
        return {
            "store_url": self.query_url,
            "store_update_url": self.update_url,
            "store_gsp_url": self.gsp_url,
            "store_user": self.user,
            "store_password": self.password,
        }

    def start(self) -> None:
        log = (self.directory / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.log_tail()}")
            if self.answers():
                for command in self.set_up:
                    subprocess.run(command, check=True, capture_output=True, timeout=START_TIMEOUT)
                self.set_up = []
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {START_TIMEOUT:g} s: {self.log_tail()}")

    def answers(self) -> bool:
        query = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}).encode()
        request = urllib.request.Request(self.query_url, data=query)
        request.add_header("Accept", "application/sparql-results+xml")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log_tail(self) -> str:
        path = self.directory / f"{self.name}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


def oxigraph_server(directory: Path, timeout_s: int | None = 30) -> StoreServer:
    """An Oxigraph server with its data in directory (started by the caller); it stops a query after
    `timeout_s` seconds (None: never; the server then keeps no thread per query for that long)."""
    binary = oxigraph_binary()
    assert binary is not None
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [binary, "serve", "--location", str(directory / "data"), "--bind", f"127.0.0.1:{port}"]
    # No --union-default-graph: cmpkg names the dataset in each query, and the flag makes FROM ignored.
    if timeout_s is not None:  # a query cmpkg gave up on does not run on for ever
        command += ["--timeout-s", str(timeout_s)]
    return StoreServer("oxigraph", command, directory, f"{url}/query", f"{url}/update", f"{url}/store")


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso-errors.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 20
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {dir}, {vad}
VADInstallDir = {vad}/
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty_buffers}
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {root}
MaxClientConnections = 20
ServerThreads = 20
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
; the default, 10000, cuts answers short silently (with an X-SPARQL-MaxRows header)
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = {query_limit_s}
MaxQueryCostEstimationTime = {cost_limit_s}
"""


def virtuoso_server(
    directory: Path, buffers: int = 20000, query_limit_s: int = 60, cost_limit_s: int = 400
) -> StoreServer:
    """Virtuoso with a new database in directory: anonymous queries at /sparql; updates and the Graph Store
    Protocol with Digest authentication (user dba, the new database's password dba) at the -auth URLs.
    `buffers` is its page cache in 8 kB pages (the benchmark gives it more for large data); it stops a query
    after `query_limit_s` seconds and refuses one it estimates at more than `cost_limit_s`."""
    binary = virtuoso_binary()
    assert binary is not None
    http_port, sql_port = free_port(), free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(
        VIRTUOSO_INI.format(
            dir=directory,
            sql_port=sql_port,
            http_port=http_port,
            root=VIRTUOSO_ROOT,
            vad=VIRTUOSO_VAD,
            buffers=buffers,
            dirty_buffers=buffers * 3 // 4,
            query_limit_s=query_limit_s,
            cost_limit_s=cost_limit_s,
        )
    )
    url = f"http://127.0.0.1:{http_port}"
    # SERVICE from the anonymous endpoint needs these grants (Virtuoso: "Must have select privileges on view
    # DB.DBA.SPARQL_SINV_2" otherwise).
    grants = 'GRANT SELECT ON DB.DBA.SPARQL_SINV_2 TO "SPARQL"; '
    grants += 'GRANT EXECUTE ON DB.DBA.SPARQL_SINV_IMP TO "SPARQL";'
    isql = shutil.which("isql-vt") or "isql-vt"
    return StoreServer(
        "virtuoso",
        [binary, "+foreground", "+configfile", str(ini)],
        directory,
        f"{url}/sparql",
        f"{url}/sparql-auth",
        f"{url}/sparql-graph-crud-auth",
        user="dba",
        password="dba",
        set_up=[[isql, str(sql_port), "dba", "dba", f"exec={grants}"]],
    )
