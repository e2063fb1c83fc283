"""Settings: declared once, here, as data; read in layers (defaults, file, environment, command line,
overrides) and checked when they load."""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from publisher.setting_checks import (
    ALLOWLIST,
    ANY_TEXT,
    BASE_IRI,
    BOOLEAN,
    IRI,
    PATH,
    STORE_URL,
    Check,
    at_least,
    positive,
)

ENV_PREFIX = "CMPKG_"
COMMAND_LINE = "command line"


class SettingsError(ValueError):
    """A setting has a value cmpkg cannot use."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    secret: bool = False  # shown masked by `cmpkg settings`
    check: Check = ANY_TEXT  # the values it accepts
    option: str = ""  # the global command-line option that sets it

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()

    def source(self, origin: str) -> str:
        """Where a value came from, as an error names it: the variable, the option, or the file's key."""
        if origin == "environment":
            return f"environment: {self.env_var}"
        if origin == COMMAND_LINE and self.option:
            return self.option
        return f"{origin}: setting {self.name!r}"

    def parse(self, raw: Any, origin: str) -> Any:
        """Coerce a raw value (from a file, the environment or code) to the default's type."""
        kind = type(self.default)
        if isinstance(raw, kind) and not (kind is int and isinstance(raw, bool)):
            return raw
        text = str(raw).strip()
        try:
            if kind is bool:
                if text.lower() in {"1", "true", "yes", "on"}:
                    return True
                if text.lower() in {"0", "false", "no", "off"}:
                    return False
                raise ValueError(text)
            if kind is int:
                return int(text)
            if kind is float:
                return float(text)
        except ValueError:
            raise SettingsError(f"{self.source(origin)} must be {self.check.words}, got {text!r}") from None
        return text

    def validate(self, value: Any, given: Any, origin: str) -> None:
        """Refuse a parsed value outside the setting's range, showing it as it was `given`."""
        reason = self.check.problem(value)
        if reason is None:
            return
        shown = "'***'" if self.secret else repr(value) if isinstance(value, str) else str(given).strip()
        detail = f" ({reason})" if reason else ""
        raise SettingsError(f"{self.source(origin)} must be {self.check.words}, got {shown}{detail}")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "base_iri",
        "https://w3id.org/iwc-cmp/",
        "Public base IRI of everything cmpkg mints; relative IRIs in the project's files resolve against it. "
        "Must end with '/'.",
        check=BASE_IRI,
        option="--base-iri",
    ),
    Setting(
        "site_dir",
        ".",
        "Project directory holding ontology/, data/, shapes/ and queries/.",
        check=PATH,
        option="--site",
    ),
    Setting(
        "store_path",
        "",
        "Directory of an on-disk Oxigraph store; empty keeps the store in memory and builds it at start-up.",
    ),
    Setting(
        "store_url",
        "",
        "Query URL of a SPARQL 1.1 triple store to serve from (Oxigraph server, Virtuoso, ...) instead of "
        "the embedded store; `cmpkg serve --store URL` sets it. Empty: the embedded store.",
        check=STORE_URL,
    ),
    Setting(
        "store_update_url",
        "",
        "SPARQL Update URL of the store `cmpkg push` writes to. Empty: the query URL.",
        check=STORE_URL,
    ),
    Setting(
        "store_gsp_url",
        "",
        "Graph Store Protocol URL of the store (Oxigraph: /store, Virtuoso: /sparql-graph-crud-auth); when "
        "set, `cmpkg push` uploads graphs and dumps download them through it. Empty: SPARQL only.",
        check=STORE_URL,
    ),
    Setting(
        "store_user", "", "User name for the store's endpoints (HTTP Basic or Digest, as the store asks)."
    ),
    Setting(
        "store_password",
        "",
        "Password for store_user: from a settings file or the environment only, never the command line.",
        secret=True,
    ),
    Setting(
        "store_check_interval",
        5.0,
        "Seconds between checks of the store's data version (the metadata graph `cmpkg push` writes); a push "
        "is served, and ETags change, at most this long after it. 0 checks before every request.",
        check=at_least(0, "a number of seconds, 0 or more"),
    ),
    Setting(
        "page_cache_mb",
        64,
        "Memory in MB each web worker keeps for rendered entity pages and their RDF (an LRU cache keyed by "
        "the data's version, so a reload never serves a stale page). 0: no cache.",
        check=at_least(0, "a whole number of MB, 0 or more"),
    ),
    Setting(
        "warm_up_before_serving",
        False,
        "cmpkg serve --workers: fill the caches (summary, VoID, sitemap, search index, dumps) before any "
        "worker accepts a request, so no request waits for them (start-up then takes about a minute at 1M "
        "triples). Off: the workers answer at once and fill them in a background thread; a request needing "
        "one first waits for it.",
        check=BOOLEAN,
    ),
    Setting(
        "query_timeout",
        10.0,
        "Seconds a query (/sparql, /queries/<name>) may run; past it the query's worker process is killed "
        "and the answer is 503 Service Unavailable.",
        check=positive("a positive number of seconds"),
    ),
    Setting(
        "result_limit",
        100000,
        "Most rows (or triples) a query's answer (/sparql, /queries/<name>) may have; a larger answer is "
        "refused with 500 and a message. 0: no limit.",
        check=at_least(0, "a whole number of rows, 0 or more"),
    ),
    Setting(
        "max_request_bytes",
        1048576,
        "Largest /sparql request body (413 Payload Too Large) or query string (414 URI Too Long), in bytes.",
        check=at_least(1, "a whole number of bytes, 1 or more"),
    ),
    Setting(
        "service_allowlist",
        "",
        "SPARQL endpoints (IRIs, separated by spaces or commas) a query may call with SERVICE; any other "
        "SERVICE is refused with 400. Empty: none.",
        check=ALLOWLIST,
    ),
    Setting(
        "cors_origin",
        "*",
        "Value of Access-Control-Allow-Origin on /sparql and the saved queries (/queries/<name>, "
        "/openapi.json): '*', or origins separated by spaces (the request's origin is echoed when listed). "
        "Empty: no CORS headers.",
    ),
    Setting(
        "query_workers",
        4,
        "Most worker processes that run /sparql queries (each query runs in one; a runaway one is killed). "
        "One starts with the first query, another whenever a query finds them all busy.",
        check=at_least(1, "a whole number of processes, 1 or more"),
    ),
    Setting(
        "query_memory_mb",
        2048,
        "Memory in MB a query worker may take beyond the store it starts with; a query needing more fails "
        "with 500. 0: no limit.",
        check=at_least(0, "a whole number of MB, 0 or more"),
    ),
    Setting(
        "query_inline_ms",
        20.0,
        "A /sparql query a worker answered within this many milliseconds (and 1% of query_timeout) runs in "
        "the request's own thread when asked again, saving the hand-off: the store does not change, so the "
        "same query does the same work. Queries calling SERVICE never do. 0: every query in a worker.",
        check=at_least(0, "a number of milliseconds, 0 or more"),
    ),
    Setting(
        "reload_token",
        "",
        "Secret that authorises POST /-/reload (header 'Authorization: Bearer TOKEN'), which rebuilds the "
        "store and swaps it in. Empty: reloading over HTTP is off.",
        secret=True,
    ),
    Setting(
        "dataset_title",
        "IWC Conservation Management Plan knowledge graph",
        "Title of the dataset in its VoID/DCAT description (/void).",
    ),
    Setting(
        "dataset_description",
        "The action plans, Conservation Management Plans, bodies, taxa and countries of the International "
        "Whaling Commission's CMP programme, every fact with its source.",
        "Description of the dataset in its VoID/DCAT description (/void).",
    ),
    Setting(
        "dataset_license",
        "https://creativecommons.org/licenses/by/4.0/",
        "IRI of the licence the data is published under (dct:license of the dataset and its dumps).",
        check=IRI,
    ),
    Setting(
        "dataset_publisher",
        "party/iwc",
        "IRI of the dataset's publisher (dct:publisher); a relative IRI resolves against base_iri.",
        check=IRI,
    ),
)

SETTINGS_BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}
SETTINGS_BY_ENV_VAR: Mapping[str, Setting] = {s.env_var: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """The settings in force, with where each value came from."""

    values: Mapping[str, Any]
    origins: Mapping[str, str]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    @property
    def base_iri(self) -> str:
        return str(self.values["base_iri"])

    @property
    def site_dir(self) -> Path:
        return Path(self.values["site_dir"])

    def source(self, name: str) -> str | None:
        """Where a setting's value came from, as an error names it; None for its default."""
        origin = self.origins[name]
        return None if origin == "default" else SETTINGS_BY_NAME[name].source(origin)


def load_settings(
    settings_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    options: Mapping[str, Any] | None = None,
) -> Settings:
    """Defaults, then a TOML settings file, then CMPKG_* variables, then command-line `options`, then
    explicit overrides; each value in force checked against its setting's range."""
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    origins: dict[str, str] = {s.name: "default" for s in SETTINGS}
    given: dict[str, Any] = dict(values)
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if settings_file is not None:
        layers.append((str(settings_file), _read_settings_file(settings_file)))
    layers.append(("environment", _environment_layer(os.environ if environ is None else environ)))
    for origin, layer in ((COMMAND_LINE, options), ("overrides", overrides)):
        if layer:
            layers.append((origin, layer))
    for origin, layer in layers:
        for name, raw in layer.items():
            setting = SETTINGS_BY_NAME.get(name)
            if setting is None:
                raise SettingsError(f"{origin}: unknown setting {name!r}{_suggestion(name)}")
            values[name] = setting.parse(raw, origin)
            origins[name] = origin
            given[name] = raw
    for setting in SETTINGS:
        setting.validate(values[setting.name], given[setting.name], origins[setting.name])
    return Settings(values=values, origins=origins)


def _environment_layer(environ: Mapping[str, str]) -> Mapping[str, str]:
    """The settings CMPKG_* variables give; any other CMPKG_* variable is a mistake (a misspelt name)."""
    for variable in sorted(environ):
        if variable.startswith(ENV_PREFIX) and variable not in SETTINGS_BY_ENV_VAR:
            names = [setting.name.upper() for setting in SETTINGS]  # without the prefix all names share
            close = difflib.get_close_matches(variable.removeprefix(ENV_PREFIX), names, n=1)
            hint = f"did you mean {ENV_PREFIX}{close[0]}?" if close else "docs/settings.md lists the settings"
            raise SettingsError(f"environment: unknown setting {variable} ({hint})")
    return {setting.name: environ[var] for var, setting in SETTINGS_BY_ENV_VAR.items() if var in environ}


def _suggestion(name: str) -> str:
    """' (did you mean ...?)' for a misspelt setting name, else the list of the known ones."""
    close = difflib.get_close_matches(name, SETTINGS_BY_NAME, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; known settings: {', '.join(sorted(SETTINGS_BY_NAME))}"


def _read_settings_file(path: Path) -> Mapping[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise SettingsError(f"{path}: cannot read settings file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text; save the settings file as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    section = data.get("cmpkg", data)
    if not isinstance(section, dict):
        raise SettingsError(f"{path}: [cmpkg] must be a table")
    return section


def settings_markdown() -> str:
    """The settings reference, docs/settings.md, made from SETTINGS."""
    lines = [
        "# Settings",
        "",
        "Settings are read in layers, each overriding the one before: the defaults below, a TOML settings",
        "file (`cmpkg --settings FILE`, keys at the top level or under `[cmpkg]`), `CMPKG_*` environment",
        "variables, and the command line (`--site`, `--base-iri`). `cmpkg settings` shows the values in",
        "force and where each came from.",
        "This page is generated: `cmpkg settings --markdown > docs/settings.md`.",
        "",
        "Each value in force is checked when the settings load: a value outside the valid values below, or",
        "a `CMPKG_*` variable that names no setting, stops cmpkg with a message naming where it came from.",
        "",
        "| setting | environment variable | default | valid values | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default != "" else "(empty)"
        lines.append(
            f"| `{setting.name}` | `{setting.env_var}` | {default} | {setting.check.words} | {setting.help} |"
        )
    return "\n".join(lines) + "\n"
