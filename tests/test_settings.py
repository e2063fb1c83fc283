"""Settings come in layers, are checked, and are all documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.config import SETTINGS, SettingsError, load_settings, settings_markdown
from tests.conftest import ROOT


def test_defaults_apply_without_any_layer() -> None:
    settings = load_settings(environ={})
    assert settings.base_iri == "https://w3id.org/iwc-cmp/"
    assert all(origin == "default" for origin in settings.origins.values())


def test_layers_override_in_order(tmp_path: Path) -> None:
    settings_file = tmp_path / "cmpkg.toml"
    settings_file.write_text('[cmpkg]\nbase_iri = "http://file.example/"\nsite_dir = "from-file"\n')
    settings = load_settings(
        settings_file,
        environ={"CMPKG_BASE_IRI": "http://env.example/"},
        overrides={"site_dir": "from-override"},
    )
    assert settings.base_iri == "http://env.example/"
    assert settings["site_dir"] == "from-override"
    assert {name: origin for name, origin in settings.origins.items() if origin != "default"} == {
        "base_iri": "environment",
        "site_dir": "overrides",
    }


def test_unknown_setting_is_named(tmp_path: Path) -> None:
    settings_file = tmp_path / "cmpkg.toml"
    settings_file.write_text('base_irl = "http://x/"\n')
    with pytest.raises(SettingsError, match=r"cmpkg.toml: unknown setting 'base_irl'"):
        load_settings(settings_file, environ={})


def test_base_iri_must_end_with_a_slash() -> None:
    with pytest.raises(SettingsError, match=r"got 'https://example.org/cmp' \(it does not end with '/'\)"):
        load_settings(environ={"CMPKG_BASE_IRI": "https://example.org/cmp"})


def test_malformed_settings_file_names_the_file(tmp_path: Path) -> None:
    settings_file = tmp_path / "broken.toml"
    settings_file.write_text("base_iri = \n")
    with pytest.raises(SettingsError, match=r"broken.toml: not valid TOML"):
        load_settings(settings_file, environ={})


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting: object) -> None:
    docs = (ROOT / "docs" / "settings.md").read_text()
    assert docs == settings_markdown(), (
        "docs/settings.md is stale: cmpkg settings --markdown > docs/settings.md"
    )
    assert f"`{setting.name}`" in docs  # type: ignore[attr-defined]


BASE_IRI_RULE = (
    "environment: CMPKG_BASE_IRI must be an absolute http(s) IRI ending with '/' "
    "(like https://example.org/cmp/), with no query or fragment, got "
)


@pytest.mark.parametrize(
    ("base", "reason"),
    [
        ("http://ex .org/", "a space at character 10"),
        ("http://ex.org/a<b>/", "'<' at character 16"),
        ("http://ex.org/a%zz/", "'%' not followed by two hex digits at character 16"),
        ("notaniri/", "it has no scheme, like https:"),
        ("/", "it has no scheme, like https:"),
        ("ftp://ex.org/", "its scheme is ftp:, not http: or https:"),
        ("http:///x/", "it has no host"),
        ("http://ex.org/a#/", "it has a fragment ('#/')"),
        ("http://ex.org/?q=1/", "it has a query ('?q=1/')"),
    ],
)
def test_invalid_base_iri_is_refused_when_the_settings_load(base: str, reason: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={"CMPKG_BASE_IRI": base})
    assert str(raised.value) == f"{BASE_IRI_RULE}{base!r} ({reason})"


def test_settings_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    settings_file = tmp_path / "binary.toml"
    settings_file.write_bytes(b"\xff\xfe")
    with pytest.raises(SettingsError) as raised:
        load_settings(settings_file, environ={})
    assert str(raised.value) == f"{settings_file}: not UTF-8 text; save the settings file as UTF-8"


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("CMPKG_QUERY_TIMEOUT", "-1", "must be a positive number of seconds, got -1"),
        ("CMPKG_QUERY_TIMEOUT", "0", "must be a positive number of seconds, got 0"),
        ("CMPKG_QUERY_TIMEOUT", "nan", "must be a positive number of seconds, got nan"),
        ("CMPKG_QUERY_TIMEOUT", "inf", "must be a positive number of seconds, got inf"),
        ("CMPKG_MAX_REQUEST_BYTES", "0", "must be a whole number of bytes, 1 or more, got 0"),
        ("CMPKG_MAX_REQUEST_BYTES", "-1", "must be a whole number of bytes, 1 or more, got -1"),
        ("CMPKG_QUERY_WORKERS", "0", "must be a whole number of processes, 1 or more, got 0"),
        ("CMPKG_QUERY_WORKERS", "-2", "must be a whole number of processes, 1 or more, got -2"),
        ("CMPKG_PAGE_CACHE_MB", "-5", "must be a whole number of MB, 0 or more, got -5"),
        ("CMPKG_RESULT_LIMIT", "-1", "must be a whole number of rows, 0 or more, got -1"),
        ("CMPKG_QUERY_MEMORY_MB", "-1", "must be a whole number of MB, 0 or more, got -1"),
        ("CMPKG_QUERY_INLINE_MS", "-1", "must be a number of milliseconds, 0 or more, got -1"),
        ("CMPKG_STORE_CHECK_INTERVAL", "-1", "must be a number of seconds, 0 or more, got -1"),
        ("CMPKG_STORE_CHECK_INTERVAL", "nan", "must be a number of seconds, 0 or more, got nan"),
        (
            "CMPKG_DATASET_LICENSE",
            "not an iri",
            "must be an IRI (a relative one resolves against base_iri), got 'not an iri' "
            "(a space at character 4)",
        ),
        (
            "CMPKG_DATASET_PUBLISHER",
            "bad iri",
            "must be an IRI (a relative one resolves against base_iri), got 'bad iri' "
            "(a space at character 4)",
        ),
        (
            "CMPKG_STORE_URL",
            "notaurl",
            "must be empty, or an http(s) URL like http://localhost:7878/query, got 'notaurl' "
            "(it has no scheme, like https:)",
        ),
        (
            "CMPKG_STORE_URL",
            "ftp://x",
            "must be empty, or an http(s) URL like http://localhost:7878/query, got 'ftp://x' "
            "(its scheme is ftp:, not http: or https:)",
        ),
        (
            "CMPKG_STORE_UPDATE_URL",
            "http://127.0.0.1:99999/update",
            "must be empty, or an http(s) URL like http://localhost:7878/query, "
            "got 'http://127.0.0.1:99999/update' (its port is not a number from 0 to 65535)",
        ),
        (
            "CMPKG_SERVICE_ALLOWLIST",
            "https://query.wikidata.org/sparql, notaniri",
            "must be empty, or http(s) IRIs separated by spaces or commas, got "
            "'https://query.wikidata.org/sparql, notaniri' ('notaniri': it has no scheme, like https:)",
        ),
    ],
)
def test_unusable_setting_value_is_refused_with_its_valid_range(variable: str, value: str, rule: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={variable: value})
    assert str(raised.value) == f"environment: {variable} {rule}"


@pytest.mark.parametrize(
    ("variable", "valid", "refused"),
    [
        ("CMPKG_RESULT_LIMIT", "0", "-1"),  # 0: no limit
        ("CMPKG_PAGE_CACHE_MB", "0", "-1"),  # 0: no cache
        ("CMPKG_QUERY_MEMORY_MB", "0", "-1"),  # 0: no limit
        ("CMPKG_QUERY_INLINE_MS", "0", "-0.5"),  # 0: every query in a worker
        ("CMPKG_QUERY_WORKERS", "1", "0"),
        ("CMPKG_MAX_REQUEST_BYTES", "1", "0"),
        ("CMPKG_QUERY_TIMEOUT", "0.001", "0"),
        ("CMPKG_STORE_URL", "", "localhost:7878/query"),  # empty: the embedded store
        ("CMPKG_SERVICE_ALLOWLIST", "https://query.wikidata.org/sparql, http://localhost:7878/query", "x y"),
        ("CMPKG_DATASET_PUBLISHER", "party/iwc", "party/i w c"),  # relative: resolves against base_iri
    ],
)
def test_documented_meanings_are_kept_at_the_edge_of_each_range(
    variable: str, valid: str, refused: str
) -> None:
    setting = variable.removeprefix("CMPKG_").lower()
    assert load_settings(environ={variable: valid}).origins[setting] == "environment"
    with pytest.raises(SettingsError, match=f"^environment: {variable} must be "):
        load_settings(environ={variable: refused})


def test_value_out_of_range_in_a_settings_file_names_the_file_and_key(tmp_path: Path) -> None:
    settings_file = tmp_path / "cmpkg.toml"
    settings_file.write_text("[cmpkg]\nquery_timeout = -1\n")
    with pytest.raises(SettingsError) as raised:
        load_settings(settings_file, environ={})
    assert str(raised.value) == (
        f"{settings_file}: setting 'query_timeout' must be a positive number of seconds, got -1"
    )


def test_value_of_the_wrong_type_says_what_the_setting_takes() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={"CMPKG_PAGE_CACHE_MB": "abc"})
    assert (
        str(raised.value)
        == "environment: CMPKG_PAGE_CACHE_MB must be a whole number of MB, 0 or more, got 'abc'"
    )


def test_unknown_environment_variable_is_refused_with_a_suggestion() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={"CMPKG_BASEIRI": "https://example.org/"})
    assert str(raised.value) == "environment: unknown setting CMPKG_BASEIRI (did you mean CMPKG_BASE_IRI?)"


def test_unknown_environment_variable_without_a_close_name_points_to_the_docs() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={"CMPKG_FOO": "1", "OTHER_FOO": "1"})
    assert str(raised.value) == "environment: unknown setting CMPKG_FOO (docs/settings.md lists the settings)"


def test_unknown_settings_file_key_gets_a_suggestion(tmp_path: Path) -> None:
    settings_file = tmp_path / "cmpkg.toml"
    settings_file.write_text("query_timout = 5\n")
    with pytest.raises(SettingsError) as raised:
        load_settings(settings_file, environ={})
    assert (
        str(raised.value)
        == f"{settings_file}: unknown setting 'query_timout' (did you mean 'query_timeout'?)"
    )


def test_command_line_option_is_named_in_its_error() -> None:
    with pytest.raises(SettingsError, match=r"^--base-iri must be an absolute http\(s\) IRI"):
        load_settings(environ={}, options={"base_iri": "https://example.org/cmp"})
