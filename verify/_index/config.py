"""The indexes pip is configured to use, read from pip itself.

With no index options on the command line, pip-verify consults the same indexes pip would: pip's
configuration files and ``PIP_INDEX_URL`` / ``PIP_EXTRA_INDEX_URL`` (environment over the
``install`` section over ``global``), and pip's own default index when nothing is configured.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from verify._index.urls import normalize_index_url
from verify.errors import UsageError

__all__ = ["IndexSettings", "pip_default_index", "pip_index_settings", "settings_from_items"]


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """Where packages come from, in pip's order: the index URL, then the extra index URLs."""

    index_url: str | None
    extra_index_urls: tuple[str, ...] = ()
    no_index: bool = False

    @property
    def urls(self) -> tuple[str, ...]:
        """Every index, primary first, without duplicates."""
        if self.no_index:
            return ()
        ordered = ((self.index_url,) if self.index_url else ()) + self.extra_index_urls
        return tuple(dict.fromkeys(ordered))


def pip_default_index() -> str:
    """pip's built-in default index, as the installed pip defines it."""
    module: Any = importlib.import_module("pip._internal.models.index")
    return normalize_index_url(str(module.PyPI.simple_url))


def _pip_config_items() -> dict[str, str]:
    # `pip config list` is pip's stable interface to its merged configuration (files in
    # pip's order, then PIP_* variables as ``:env:``); pip's internals change between releases.
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(
            f"cannot run pip to read its configuration: {exc}", hint="pass --index-url explicitly"
        ) from exc
    if completed.returncode != 0:
        detail = (completed.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise UsageError(
            f"pip's configuration cannot be read: {detail}",
            hint="fix the file pip names, or pass --index-url",
        )
    items: dict[str, str] = {}
    for line in completed.stdout.splitlines():
        key, sep, raw = line.partition("=")
        if not sep:
            continue
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        items[key.strip()] = str(value)
    return items


def settings_from_items(items: Mapping[str, str], default_index: str) -> IndexSettings:
    """Apply pip's precedence to ``section.key`` configuration items.

    pip reads ``global``, then the command's own section (``install``), then environment
    variables (``:env:``); later ones win.
    """
    values: dict[str, str] = {}
    for section in ("global", "install", ":env:"):
        for key in ("index-url", "extra-index-url", "no-index"):
            value = items.get(f"{section}.{key}")
            if value is not None:
                values[key] = value
    no_index = values.get("no-index", "").strip().lower() in ("1", "true", "yes", "on")
    index_url = values.get("index-url") or default_index
    extras = tuple(
        normalize_index_url(url) for url in values.get("extra-index-url", "").split() if url
    )
    return IndexSettings(
        index_url=normalize_index_url(index_url), extra_index_urls=extras, no_index=no_index
    )


def pip_index_settings() -> IndexSettings:
    """The indexes ``pip install`` would use here, from pip's own configuration."""
    return settings_from_items(_pip_config_items(), pip_default_index())
