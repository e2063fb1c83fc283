"""The `cmpkg` command: one thin command per core function. Exit codes: 0 done, 1 checks failed, 2 error."""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from publisher.config import SETTINGS, Settings, SettingsError, load_settings, settings_markdown
from publisher.generate import country_file, generated_files, plan_files, stale_files, write_files
from publisher.importers.plan_table import TableError
from publisher.importers.timeframes import TimeframeError
from publisher.iris import Iris
from publisher.push import PushError, PushRefusedError, push, validate_store
from publisher.query_execution import QueryError
from publisher.rdf_files import RdfFileError
from publisher.remote_store import check_served_store, reach_remote_store, store_location
from publisher.saved_queries import SavedQueryError
from publisher.site import Site, SiteError
from publisher.sparql_client import SparqlClient, StoreUnavailableError, StoreUrlError, check_urls
from publisher.store import build_store
from publisher.turtle import NormalFormError, files_to_format, normalise_file
from publisher.validation import ENGINES, SEVERITIES, ValidationSetupError, validate_site
from publisher.validation_report import FORMATS as REPORT_FORMATS
from publisher.validation_report import render, summary

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2
USER_ERRORS = (
    NormalFormError,
    PushError,
    QueryError,
    RdfFileError,
    SavedQueryError,
    SettingsError,
    SiteError,
    TableError,
    TimeframeError,
    StoreUnavailableError,
    StoreUrlError,
    ValidationSetupError,
    OSError,
)

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn the errors a user can fix into one line on stderr and exit code 2, never a stack trace."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PushRefusedError as error:  # the checks failed, as `cmpkg validate` exits 1
            click.echo(f"cmpkg: {error}", err=True)
            sys.exit(EXIT_FAILED)
        except USER_ERRORS as error:
            click.echo(f"cmpkg: error: {error}", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


class Context:
    """What every command needs: the settings in force, the project directory and the IRI minter."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.iris = Iris(settings.base_iri)

    @property
    def site(self) -> Site:
        """The project: a command that reads it stops here (exit 2) unless site_dir is a cmpkg project."""
        return require_project(self.settings)


def require_project(settings: Settings) -> Site:
    """The project in the site_dir setting; SiteError, naming where site_dir came from, if it is not one."""
    return Site(settings.site_dir).checked(settings.source("site_dir"))


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False),
    help="Project directory (setting site_dir).",
)
@click.option("--base-iri", help="Public base IRI (setting base_iri).")
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML settings file; CMPKG_* environment variables override it.",
)
@click.version_option(package_name="cmpkg")
@click.pass_context
def main(ctx: click.Context, site_dir: str | None, base_iri: str | None, settings_file: Path | None) -> None:
    """Build, validate and publish the IWC CMP knowledge graph."""
    options = {"site_dir": site_dir, "base_iri": base_iri}
    given = {name: value for name, value in options.items() if value is not None}
    try:
        ctx.obj = Context(load_settings(settings_file, options=given))
    except SettingsError as error:
        click.echo(f"cmpkg: error: {error}", err=True)
        sys.exit(EXIT_ERROR)


@main.command("import-plan")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write one Turtle file per plan [default: data/plans].",
)
@click.option(
    "--status",
    "status_table",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TSV of editorial progress statuses (plan, number, status, basis).",
)
@click.option(
    "--format",
    "dialect",
    type=click.Choice(["tsv", "csv"]),
    help="Table format [default: by suffix: .csv is CSV, anything else tab-separated].",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the files on disk differ.")
@pass_context
@reports_errors
def import_plan(
    ctx: Context,
    source: Path,
    out_dir: Path | None,
    status_table: Path | None,
    dialect: str | None,
    check: bool,
) -> None:
    """Import an action-plan table (the source document's format) as Turtle, one file per plan.

    Nothing is written unless the whole table imports.
    """
    notes: list[str] = []
    files = plan_files(
        ctx.site, ctx.iris, source, out_dir or ctx.site.plans_dir, status_table, dialect, notes=notes
    )
    for note in notes:
        click.echo(note, err=True)
    _write_or_check(files, check)


@main.command("import-countries")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the file on disk differs.")
@pass_context
@reports_errors
def import_countries(ctx: Context, check: bool) -> None:
    """Generate data/countries.ttl from pycountry and data/source/country-wikidata.tsv."""
    _write_or_check(country_file(ctx.site, ctx.iris), check)


@main.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a generated file is out of date.")
@pass_context
@reports_errors
def generate(ctx: Context, check: bool) -> None:
    """Regenerate every generated data file (the plans and the countries) from data/source/."""
    _write_or_check(generated_files(ctx.site, ctx.iris), check)


def _write_or_check(files: dict[Path, str], check: bool) -> None:
    if check:
        stale = stale_files(files)
        for path in stale:
            click.echo(f"{path}: out of date; run `make data`", err=True)
        sys.exit(EXIT_FAILED if stale else EXIT_OK)
    write_files(files)
    for path in files:
        click.echo(f"wrote {path}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a file is not in normal form.")
@pass_context
@reports_errors
def fmt(ctx: Context, paths: tuple[Path, ...], check: bool) -> None:
    """Rewrite Turtle files in cmpkg's normal form [default: every file in ontology/, data/, shapes/]."""
    files = files_to_format(paths) if paths else ctx.site.turtle_files()
    changed = {}
    for path in files:
        text, normal = normalise_file(path, ctx.iris.base)
        if text != normal:
            changed[path] = normal
    if check:
        for path in changed:
            click.echo(f"{path}: not in normal form; run `cmpkg fmt {path}`", err=True)
        sys.exit(EXIT_FAILED if changed else EXIT_OK)
    write_files(changed)
    click.echo(f"{len(changed)} of {len(files)} file(s) rewritten")


@main.command()
@click.argument("extra", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--store-path",
    type=click.Path(file_okay=False, path_type=Path),
    help="Build an on-disk store here (setting store_path) [default: in memory, report only].",
)
@pass_context
@reports_errors
def build(ctx: Context, extra: tuple[Path, ...], store_path: Path | None) -> None:
    """Load ontology/, data/, shapes/ and EXTRA files or directories into the store, a graph per file."""
    started = time.perf_counter()
    path = store_path or (Path(ctx.settings["store_path"]) if ctx.settings["store_path"] else None)
    _, report = build_store(ctx.site, ctx.iris, extra, path)
    for file, graph, count in report.files:
        click.echo(f"{count:>8} {file.name} -> <{graph}>")
    click.echo(
        f"{report.quads} quads from {len(report.files)} files in {time.perf_counter() - started:.2f} s"
    )


@main.command()
@click.argument("extra", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--fail-on",
    type=click.Choice(list(SEVERITIES)),
    default="violation",
    show_default=True,
    help="The least severe result that fails validation (exit 1).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(REPORT_FORMATS)),
    default="text",
    show_default=True,
    help="Report format: text grouped by file, JSON, JUnit XML, or GitHub workflow annotations.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE and print only the summary.",
)
@click.option(
    "--endpoint",
    metavar="URL",
    help="Validate what the SPARQL store at URL holds instead of the files (read-only).",
)
@click.option(
    "--engine",
    type=click.Choice(list(ENGINES)),
    default="auto",
    show_default=True,
    help="SHACL engine: oxigraph (fast), pyshacl (the reference), auto (oxigraph unless the shapes need "
    "what only pyshacl supports). --endpoint always uses pyshacl.",
)
@pass_context
@reports_errors
def validate(
    ctx: Context,
    extra: tuple[Path, ...],
    fail_on: str,
    output_format: str,
    output: Path | None,
    endpoint: str | None,
    engine: str,
) -> None:
    """Validate ontology + data (+ EXTRA files or directories) against shapes/.

    With --endpoint, validate the graphs a live store holds instead (results name the graph, not a line).
    Exit 0 conforms (warnings allowed unless --fail-on warning), 1 results at or above --fail-on,
    2 could not validate (malformed RDF, unusable shapes, no data, store unreachable).
    """
    threshold = SEVERITIES[fail_on]
    if endpoint is not None:
        if extra:
            raise click.UsageError("EXTRA files and --endpoint exclude each other")
        store = reach_remote_store(ctx.settings, endpoint, "--endpoint")  # a wrong URL: one clear error
        report = validate_store(ctx.site, ctx.iris, store.current)
    else:
        report = validate_site(ctx.site, ctx.iris, list(extra), engine=engine)
    text = render(report, output_format, ctx.iris.base, threshold)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}: {summary(report, ctx.iris.base, threshold)}")
    sys.exit(EXIT_FAILED if report.failing(threshold) else EXIT_OK)


@main.command("push")
@click.argument("extra", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--endpoint", metavar="URL", help="The store's query URL [default: setting store_url].")
@click.option(
    "--update-url", metavar="URL", help="Its SPARQL Update URL [default: store_update_url, else URL]."
)
@click.option("--gsp-url", metavar="URL", help="Its Graph Store Protocol URL [default: store_gsp_url].")
@pass_context
@reports_errors
def push_command(
    ctx: Context, extra: tuple[Path, ...], endpoint: str | None, update_url: str | None, gsp_url: str | None
) -> None:
    """Validate, then load ontology/, data/, shapes/ (+ EXTRA) into a SPARQL store, a graph per file.

    Every graph is loaded beside the served ones, then all are swapped in by one update: a failed push
    leaves the previous data served. Credentials: settings store_user and store_password (a settings file
    or CMPKG_STORE_PASSWORD). Exit 0 pushed, 1 validation violations (nothing sent), 2 the push failed.
    """
    location = store_location(ctx.settings, endpoint)
    if not location.query_url:
        raise click.UsageError("no store: give --endpoint URL or set store_url")
    location = replace(
        location,
        update_url=update_url or location.update_url,
        gsp_url=location.gsp_url if gsp_url is None else gsp_url,
    )
    check_urls(
        [
            ("--endpoint" if endpoint else "store_url", location.query_url),
            ("--update-url" if update_url else "store_update_url", location.update_url),
            ("--gsp-url" if gsp_url else "store_gsp_url", location.gsp_url),
        ]
    )
    client = SparqlClient(location, float(ctx.settings["query_timeout"]), quiet=True)  # errors: one line
    report = push(ctx.site, ctx.iris, client, extra)
    for file, graph, count in report.graphs:
        click.echo(f"{count:>8} {file} -> <{graph}>")
    for graph in report.removed:
        click.echo(f"{'removed':>8} <{graph}> (no file gives it now)")
    click.echo(
        f"pushed {report.triples} triples in {len(report.graphs)} graphs to {location.query_url} "
        f"in {report.seconds:.2f} s (version {report.version})"
    )


@main.command()
@click.argument("extra", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0: a free port, chosen here and printed.",
)
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="Serve from the SPARQL store at URL (setting store_url) instead of the embedded store.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1, max=64),
    default=4,
    show_default=True,
    help="Threads per worker running the app. A request waiting on a query holds one; with fewer, pages "
    "have a lower tail latency under saturation, and one slow query holds back more of them.",
)
@click.option("--dev", is_flag=True, help="Use Flask's development server instead of granian.")
@pass_context
@reports_errors
def serve(
    ctx: Context,
    extra: tuple[Path, ...],
    host: str,
    port: int,
    store_url: str | None,
    workers: int,
    threads: int,
    dev: bool,
) -> None:
    """Serve the graph over HTTP with granian (or Flask's development server with --dev).

    The whole app is built and checked first, so a broken file or query stops it here with exit 2.
    """
    from publisher.app import create_app  # the web layer is loaded only by the commands that serve
    from publisher.serving import ensure_can_listen, serve_with_workers

    settings = ctx.settings
    if store_url is not None:
        settings = Settings(
            values={**settings.values, "store_url": store_url},
            origins={**settings.origins, "store_url": "command line"},
        )
    if settings["store_url"] and extra:
        raise click.UsageError("EXTRA files are served by the embedded store; push them to the store instead")
    require_project(settings)
    port = ensure_can_listen(host, port)
    if settings["store_url"]:  # a URL that is no store's fails here, not on every page
        notice = check_served_store(settings, "--store" if store_url is not None else "store_url")
        if notice:
            click.echo(f"cmpkg: {notice}", err=True)
    app = create_app(settings, extra=list(extra))
    if dev:
        app.run(host=host, port=port, threaded=True)
        return
    serve_with_workers(settings, list(extra), host, port, workers, app, threads)


@main.command("settings")
@click.option("--markdown", is_flag=True, help="Print the settings reference (docs/settings.md) instead.")
@pass_context
def show_settings(ctx: Context, markdown: bool) -> None:
    """Show every setting, its value and where the value came from."""
    if markdown:
        click.echo(settings_markdown(), nl=False)
        return
    for setting in SETTINGS:
        origin = ctx.settings.origins[setting.name]
        value = ctx.settings[setting.name]
        shown = "'***'" if setting.secret and value else repr(value)  # secrets never reach a terminal log
        click.echo(f"{setting.name} = {shown}  ({origin}; {setting.env_var})")
