"""Mistakes in a project stop the command with one clear line and exit code 2, never a stack trace."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from click.testing import CliRunner

from publisher.cli import main
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
