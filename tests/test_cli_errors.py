"""Mistakes in a project stop the command with one clear line and exit code 2, never a stack trace."""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.serving import ensure_can_listen
from tests.conftest import ROOT
from tests.support import free_port


def copy_project(target: Path) -> Path:
    for name in ("ontology", "data", "shapes", "queries"):
        shutil.copytree(ROOT / name, target / name)
    return target


def test_serve_with_a_broken_saved_query_names_the_file(tmp_path: Path) -> None:
    site = copy_project(tmp_path / "site")
    broken = site / "queries" / "list_broken.rq"
    broken.write_text("# title: Broken\n# description: A query with a syntax error.\nSELECT ?x WHERE { ?x \n")
    result = CliRunner().invoke(main, ["--site", str(site), "serve", "--port", str(free_port())])
    assert result.exit_code == 2
    assert "list_broken.rq" in result.stderr
    assert "Traceback" not in result.stderr + result.output


def test_serve_on_a_port_in_use_says_so_before_building(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["--site", str(ROOT), "serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.output


def test_serve_with_malformed_data_names_file_line_and_column(tmp_path: Path) -> None:
    site = copy_project(tmp_path / "site")
    (site / "data" / "extra.ttl").write_text('<a> <b> "unterminated .\n')
    result = CliRunner().invoke(main, ["--site", str(site), "serve", "--port", str(free_port())])
    assert result.exit_code == 2
    assert "extra.ttl:1:" in result.stderr
    assert "Traceback" not in result.stderr + result.output


NOT_A_PROJECT = "is not a cmpkg project (no ontology/, data/ or shapes/); use --site DIR\n"


@pytest.mark.parametrize(
    "command",
    [
        ["build"],
        ["validate"],
        ["fmt", "--check"],
        ["generate", "--check"],
        ["import-countries", "--check"],
        ["serve", "--port", "0"],
        ["push", "--endpoint", "http://127.0.0.1:9/sparql"],
    ],
    ids=lambda command: command[0],
)
def test_missing_site_is_refused_not_read_as_an_empty_project(command: list[str]) -> None:
    result = CliRunner().invoke(main, ["--site", "/nonexistent", *command])
    assert result.exit_code == 2
    assert result.stderr == f"cmpkg: error: --site: /nonexistent {NOT_A_PROJECT}"


def test_empty_directory_as_site_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--site", str(tmp_path), "build"])
    assert result.exit_code == 2
    assert result.stderr == f"cmpkg: error: --site: {tmp_path} {NOT_A_PROJECT}"


def test_empty_site_option_is_refused() -> None:
    result = CliRunner().invoke(main, ["--site", "", "build"])
    assert result.exit_code == 2
    assert result.stderr == "cmpkg: error: --site must be a path (not empty), got ''\n"


def test_site_from_the_environment_is_named(tmp_path: Path) -> None:
    a_file = tmp_path / "settings.toml"
    a_file.write_text("")
    result = CliRunner().invoke(main, ["build"], env={"CMPKG_SITE_DIR": str(a_file)})
    assert result.exit_code == 2
    assert result.stderr == f"cmpkg: error: environment: CMPKG_SITE_DIR: {a_file} {NOT_A_PROJECT}"


def test_running_outside_a_project_names_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CMPKG_SITE_DIR", raising=False)
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 2
    assert result.stderr == f"cmpkg: error: {tmp_path.resolve()} (the current directory) {NOT_A_PROJECT}"


def test_settings_need_no_project() -> None:
    result = CliRunner().invoke(main, ["--site", "/nonexistent", "settings"])
    assert result.exit_code == 0
    assert "site_dir = '/nonexistent'  (command line; CMPKG_SITE_DIR)" in result.output


@pytest.mark.parametrize("command", [["build"], ["validate"], ["fmt", "--check"]], ids=lambda c: c[0])
def test_unreadable_data_directory_is_an_error_not_skipped(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As chmod 000 does, for any user: root reads a chmod 000 directory, so the refusal is simulated.
    plans = ROOT / "data" / "plans"
    scandir = os.scandir

    def refusing(path: Any = ".") -> Any:
        if isinstance(path, str) and Path(path) == plans:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    result = CliRunner().invoke(main, ["--site", str(ROOT), *command])
    assert result.exit_code == 2
    assert result.stderr == "cmpkg: error: data/plans: cannot read directory (permission denied)\n"


@pytest.mark.parametrize("command", [["build"], ["validate"], ["serve", "--port", "0"]], ids=lambda c: c[0])
@pytest.mark.parametrize(
    ("base", "reason"),
    [
        ("http://ex .org/", "a space at character 10"),
        ("notaniri/", "it has no scheme, like https:"),
        ("/", "it has no scheme, like https:"),
        ("http://ex.org/a#/", "it has a fragment ('#/')"),
        ("http://ex.org/?q=1/", "it has a query ('?q=1/')"),
    ],
)
def test_invalid_base_iri_option_is_refused_naming_the_option(
    command: list[str], base: str, reason: str
) -> None:
    result = CliRunner().invoke(main, ["--site", str(ROOT), "--base-iri", base, *command])
    assert result.exit_code == 2
    assert result.stderr == (
        "cmpkg: error: --base-iri must be an absolute http(s) IRI ending with '/' "
        f"(like https://example.org/cmp/), with no query or fragment, got {base!r} ({reason})\n"
    )


@pytest.mark.parametrize("port", ["-1", "70000"])
def test_serve_on_a_port_out_of_range_is_a_usage_error(port: str) -> None:
    result = CliRunner().invoke(main, ["--site", str(ROOT), "serve", "--port", port])
    assert result.exit_code == 2
    assert f"Invalid value for '--port': {port} is not in the range 0<=x<=65535." in result.stderr
    assert "Traceback" not in result.stderr + result.output


def test_serve_on_a_host_that_does_not_resolve_says_so() -> None:
    result = CliRunner().invoke(main, ["--site", str(ROOT), "serve", "--host", "not.a.host.invalid"])
    assert result.exit_code == 2
    assert result.stderr.startswith("cmpkg: error: cannot resolve host 'not.a.host.invalid' (")
    assert result.stderr.endswith("); check --host\n")


def test_serve_on_a_privileged_port_hints_at_privileged_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    # As binding port 80 fails for a user without CAP_NET_BIND_SERVICE (root has it, so it is simulated).
    def refused(address: tuple[str, int]) -> socket.socket:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(socket, "create_server", refused)
    result = CliRunner().invoke(main, ["--site", str(ROOT), "serve", "--port", "80"])
    assert result.exit_code == 2
    assert result.stderr == (
        "cmpkg: error: cannot listen on 127.0.0.1:80: Permission denied "
        "(ports below 1024 need root or CAP_NET_BIND_SERVICE; use --port 1024 or above)\n"
    )


def test_listening_on_port_0_gives_the_free_port_chosen() -> None:
    port = ensure_can_listen("127.0.0.1", 0)
    assert 0 < port <= 65535
    with socket.create_server(("127.0.0.1", port)):  # free: the probe that found it is closed
        pass


def test_serve_on_port_0_prints_the_port_it_listens_on(tmp_path: Path) -> None:
    command = [str(Path(sys.executable).parent / "cmpkg"), "--site", str(ROOT), "serve", "--port", "0"]
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not (listening := re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log.read_text())):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        port = int(listening.group(1))
        assert port != 0
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/health", timeout=30) as reply:
                    assert reply.status == 200
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)
