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
    with pytest.raises(SettingsError, match="must end with '/'"):
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
