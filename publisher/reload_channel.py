"""How a worker of `cmpkg serve --workers N` asks the main process to reload the data for every worker.

Each worker has its own copy of the store (in memory: inherited by fork; on disk: its own read-only
connection), so a reload in the worker that received `POST /-/reload` would leave the others serving the old
graph. Instead the worker writes a request file into a directory the main process made, and sends it SIGHUP.
The main process rebuilds and validates its store once for all pending requests and, if the new store is
good, replaces the workers one by one with workers of the new data, those waiting for an answer last: they
are told to stop (a stopping worker accepts no connection but finishes its requests) and then answered, so
that a client's next request, on a new connection, meets only the new data. A request that reaches a worker
while it stops is answered too (503, ask again: the files may have changed since the build began). A failed
reload is answered at once and replaces no worker. `kill -HUP` on the main process reloads the same way,
with no one waiting.

`reload_in_this_process` is the reload itself, with the answer it gives, wherever it runs: the main process
of `cmpkg serve`, or the only process of `cmpkg serve --dev` and of an app under test. No web imports: the
view (views/sparql.py) and the server (serving.py) use it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from publisher.processes import is_alive
from publisher.store import ServedStore

REQUEST = ".request"
RESULT = ".result"
POLL_SECONDS = 0.05
WAIT_SECONDS = 900.0  # a reload validates the whole graph first: about 15 s at 1M triples on 2 cores


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload came to, as the HTTP answer to `POST /-/reload` gives it."""

    status: int  # 200, or 500 when the files failed to parse or validate, 501/503 when no reload ran
    message: str


def reload_in_this_process(served: ServedStore) -> ReloadOutcome:
    """Rebuild, check and swap in this process's store (ServedStore.reload); what came of it."""
    try:
        report = served.reload()
    except (ValueError, OSError) as error:  # unreadable or invalid files, failed validation
        return ReloadOutcome(500, f"reload failed; the previous graph is still served. {error}")
    if report is None:
        return ReloadOutcome(200, "reloaded")
    return ReloadOutcome(200, f"reloaded: {report.quads} quads from {len(report.files)} files")


@dataclass(frozen=True)
class Request:
    """A worker's request to reload: its name in the channel, and the worker's process id."""

    name: str
    pid: int


class ReloadChannel:
    """Request files from the workers, result files from the main process, in one directory."""

    def __init__(self, directory: Path, main_pid: int) -> None:
        self.directory = directory
        self.main_pid = main_pid

    @classmethod
    def create(cls) -> ReloadChannel:
        """A new channel, owned by this process (the main one): call before the workers are forked."""
        return cls(Path(tempfile.mkdtemp(prefix="cmpkg-reloads-")), os.getpid())

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)

    # The worker's side ------------------------------------------------------------------------------------

    def request(self, wait_seconds: float = WAIT_SECONDS) -> ReloadOutcome:
        """Ask the main process to reload, and wait for what came of it."""
        name = uuid.uuid4().hex
        partial = self.directory / (name + ".partial-request")
        partial.write_text(str(os.getpid()), encoding="utf-8")  # who waits: that worker is replaced last
        partial.replace(self.directory / (name + REQUEST))
        result = self.directory / (name + RESULT)
        try:
            os.kill(self.main_pid, signal.SIGHUP)
        except OSError as error:
            return ReloadOutcome(503, f"reload not started: the main process is gone ({error.strerror})")
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if result.exists():
                answer = json.loads(result.read_text(encoding="utf-8"))
                result.unlink(missing_ok=True)
                return ReloadOutcome(int(answer["status"]), str(answer["message"]))
            if not is_alive(self.main_pid):
                return ReloadOutcome(503, "the main process stopped before the reload finished")
            time.sleep(POLL_SECONDS)
        return ReloadOutcome(
            503, f"no word from the main process within {wait_seconds:g} s; the reload may still finish"
        )

    # The main process's side ------------------------------------------------------------------------------

    def pending(self, pid: int | None = None) -> list[Request]:
        """The requests not answered yet (of the worker `pid`, or all): taken, each is answered once."""
        taken = []
        for path in sorted(self.directory.glob("*" + REQUEST)):
            try:
                asker = int(path.read_text(encoding="utf-8") or 0)
            except (OSError, ValueError):
                asker = 0
            if pid is not None and asker != pid:
                continue
            path.unlink(missing_ok=True)
            taken.append(Request(path.name[: -len(REQUEST)], asker))
        return taken

    def has_pending(self) -> bool:
        return any(self.directory.glob("*" + REQUEST))

    def answer(self, requests: list[Request], outcome: ReloadOutcome) -> None:
        """Give each request its outcome (written whole, then renamed: a worker never reads half of one)."""
        text = json.dumps({"status": outcome.status, "message": outcome.message})
        for request in requests:
            partial = self.directory / (request.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(self.directory / (request.name + RESULT))
