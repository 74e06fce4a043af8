"""verify._index.config: the indexes pip would use, read from pip's own configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify._index.config import (
    IndexSettings,
    pip_default_index,
    pip_index_settings,
    settings_from_items,
)
from verify._index.urls import normalize_index_url
from verify.errors import UsageError

DEFAULT = "https://default.example/simple/"


def test_no_configuration_gives_the_default() -> None:
    assert settings_from_items({}, DEFAULT) == IndexSettings(DEFAULT, (), False)
    assert settings_from_items({}, DEFAULT).urls == (DEFAULT,)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ({"global.index-url": "https://g.example/simple"}, "https://g.example/simple/"),
        (
            {
                "global.index-url": "https://g.example/simple",
                "install.index-url": "https://i.example/simple",
            },
            "https://i.example/simple/",
        ),
        (
            {
                "global.index-url": "https://g.example/simple",
                "install.index-url": "https://i.example/simple",
                ":env:.index-url": "https://e.example/simple",
            },
            "https://e.example/simple/",
        ),
        (
            {
                "global.index-url": "https://g.example/simple",
                ":env:.index-url": "https://e.example/simple",
            },
            "https://e.example/simple/",
        ),
        (
            {
                ":env:.index-url": "https://e.example/simple",
                "install.index-url": "https://i.example/simple",
            },
            "https://e.example/simple/",
        ),
        ({"download.index-url": "https://d.example/simple"}, DEFAULT),
        ({"global.timeout": "60", "global.trusted-host": "x"}, DEFAULT),
    ],
)
def test_index_url_precedence(items: dict[str, str], expected: str) -> None:
    assert settings_from_items(items, DEFAULT).index_url == expected


def test_extra_index_urls_split_on_whitespace() -> None:
    settings = settings_from_items(
        {
            "global.extra-index-url": "  https://a.example/simple\n  https://b.example/simple/\t"
            " https://c.example/x  "
        },
        DEFAULT,
    )
    assert settings.extra_index_urls == (
        "https://a.example/simple/",
        "https://b.example/simple/",
        "https://c.example/x/",
    )
    assert settings.urls == (DEFAULT, *settings.extra_index_urls)


def test_extra_index_url_precedence_replaces_not_merges() -> None:
    settings = settings_from_items(
        {
            "global.extra-index-url": "https://g.example/simple",
            "install.extra-index-url": "https://i.example/simple",
            ":env:.extra-index-url": "https://e1.example/simple https://e2.example/simple",
        },
        DEFAULT,
    )
    assert settings.extra_index_urls == ("https://e1.example/simple/", "https://e2.example/simple/")


def test_empty_extra_index_url() -> None:
    assert settings_from_items({"global.extra-index-url": "  "}, DEFAULT).extra_index_urls == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("yes", True),
        ("on", True),
        ("True", True),
        (" TRUE ", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_no_index(value: str, expected: bool) -> None:
    settings = settings_from_items(
        {"install.no-index": value, "global.extra-index-url": "https://x.example/simple"}, DEFAULT
    )
    assert settings.no_index is expected
    assert settings.urls == (() if expected else (DEFAULT, "https://x.example/simple/"))


def test_no_index_precedence() -> None:
    items = {"global.no-index": "true", ":env:.no-index": "false"}
    assert settings_from_items(items, DEFAULT).no_index is False
    items = {"global.no-index": "false", "install.no-index": "true"}
    assert settings_from_items(items, DEFAULT).no_index is True


def test_urls_are_deduplicated_in_order() -> None:
    settings = IndexSettings(
        "https://a.example/simple/",
        ("https://b.example/simple/", "https://a.example/simple/", "https://b.example/simple/"),
    )
    assert settings.urls == ("https://a.example/simple/", "https://b.example/simple/")
    assert IndexSettings(None, ("https://b.example/simple/",)).urls == (
        "https://b.example/simple/",
    )


def test_directory_index_is_a_file_url(tmp_path: Path) -> None:
    settings = settings_from_items({"global.index-url": str(tmp_path)}, DEFAULT)
    assert settings.index_url == tmp_path.resolve().as_uri() + "/"


@pytest.mark.parametrize(
    "items",
    [
        {"global.index-url": "ftp://index.example/simple"},
        {":env:.extra-index-url": "https://ok.example/simple notaurl"},
    ],
)
def test_invalid_configured_urls_are_usage_errors(items: dict[str, str]) -> None:
    with pytest.raises(UsageError):
        settings_from_items(items, DEFAULT)


# -- pip itself ---------------------------------------------------------------------------------


def test_pip_default_index() -> None:
    # Read from pip itself, not written here: pip's own default, normalized.
    from pip._internal.models.index import PyPI

    assert pip_default_index() == normalize_index_url(PyPI.simple_url)
    assert pip_default_index().endswith("/simple/")


def test_devnull_configuration_is_pips_default() -> None:
    # The autouse fixture points PIP_CONFIG_FILE at the null device and removes PIP_* variables.
    assert pip_index_settings() == IndexSettings(pip_default_index(), (), False)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pip.conf"
    path.write_text(text, encoding="utf-8")
    return path


# Every key is set in both sections so that no system-wide pip.conf can leak in.
CONFIG = """\
[global]
index-url = https://global.example/simple
extra-index-url =
no-index = false
timeout = 30

[install]
index-url = https://install.example/simple
extra-index-url =
    https://extra-one.example/simple
    https://extra-two.example/simple/
no-index = false
"""


def test_pip_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", str(write_config(tmp_path, CONFIG)))
    assert pip_index_settings() == IndexSettings(
        "https://install.example/simple/",
        ("https://extra-one.example/simple/", "https://extra-two.example/simple/"),
        False,
    )


def test_environment_beats_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", str(write_config(tmp_path, CONFIG)))
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.example/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://env-x.example/simple https://env-y.example/")
    settings = pip_index_settings()
    assert settings.index_url == "https://env.example/simple/"
    assert settings.extra_index_urls == ("https://env-x.example/simple/", "https://env-y.example/")
    assert settings.urls == (
        "https://env.example/simple/",
        "https://env-x.example/simple/",
        "https://env-y.example/",
    )


def test_environment_with_devnull_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://env-x.example/simple")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    settings = pip_index_settings()
    assert settings.index_url == pip_default_index()
    assert settings.extra_index_urls == ("https://env-x.example/simple/",)
    assert settings.no_index is True
    assert settings.urls == ()


def test_broken_pip_config_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", str(write_config(tmp_path, "index-url = no section\n")))
    with pytest.raises(UsageError) as info:
        pip_index_settings()
    assert "pip's configuration" in info.value.message
    assert info.value.hint is not None
    assert "--index-url" in info.value.hint
