"""The commands ``pip-verify fix`` prints for ``uv.lock``, ``poetry.lock`` and
``Pipfile.lock``, as the argument lists ``fix --apply`` runs without a shell, with the index
the lock uses given to uv and the environment's index settings left out. In-process: Poetry
and Pipenv are not installed here, so their commands are checked as built, not run."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from verify._resolve.lock_commands import (
    LOCK_EXECUTABLES,
    apply_commands,
    lock_command_args,
    lock_commands,
    lock_registry,
    tool_environment,
)
from verify._resolve.lockfields import LockKind
from verify.errors import InvalidInputError, UsageError

FOO = canonicalize_name("foo")
MOVE = [(FOO, Version("1.0"), Version("1.2"))]
INDEX = "https://pypi.acme.example/simple"


def uv_lock(*registries: str) -> str:
    packages = [
        f'[[package]]\nname = "p{n}"\nversion = "1.0"\nsource = {{ registry = "{url}" }}\n'
        for n, url in enumerate(registries)
    ]
    virtual = '[[package]]\nname = "app"\nversion = "0.1"\nsource = { virtual = "." }\n'
    return "\n".join(["version = 1", "", virtual, *packages])


def poetry_lock(source: str | None, groups: str = '["main"]') -> str:
    table = (
        f'\n[package.source]\ntype = "legacy"\nurl = "{INDEX}"\nreference = "{source}"\n'
        if source is not None
        else ""
    )
    return f'[[package]]\nname = "foo"\nversion = "1.0"\ngroups = {groups}\n{table}'


def test_uv_gets_the_one_index_its_lock_uses() -> None:
    text = uv_lock(INDEX, INDEX)
    path = Path("uv.lock")
    assert lock_command_args(LockKind.UV, text, path, MOVE) == (
        ("uv", "lock", "--upgrade-package", "foo==1.2"),
    )
    assert lock_registry(LockKind.UV, text, path) == INDEX
    assert apply_commands(LockKind.UV, text, path, MOVE) == (
        ("uv", "lock", "--upgrade-package", "foo==1.2", "--default-index", INDEX),
    )
    assert apply_commands(LockKind.UV, uv_lock(), path, MOVE) == (
        ("uv", "lock", "--upgrade-package", "foo==1.2"),
    )


def test_a_uv_lock_from_several_indexes_is_left_to_the_user() -> None:
    with pytest.raises(UsageError, match="takes packages from several indexes") as raised:
        lock_registry(LockKind.UV, uv_lock(INDEX, "https://index.example/simple"), Path("uv.lock"))
    assert raised.value.hint is not None
    assert "run the printed commands yourself" in raised.value.hint


@pytest.mark.parametrize(
    ("text", "command"),
    [
        (poetry_lock(None), ("poetry", "add", "--lock", "foo==1.2")),
        (
            poetry_lock("acme", '["dev"]'),
            ("poetry", "add", "--lock", "--group", "dev", "--source", "acme", "foo==1.2"),
        ),
    ],
)
def test_poetry_keeps_the_group_and_the_named_source(text: str, command: tuple[str, ...]) -> None:
    path = Path("poetry.lock")
    assert lock_command_args(LockKind.POETRY, text, path, MOVE) == (command,)
    # Poetry takes its index from the project's sources: nothing added to run it.
    assert apply_commands(LockKind.POETRY, text, path, MOVE) == (command,)
    assert lock_registry(LockKind.POETRY, text, path) is None
    assert lock_commands(LockKind.POETRY, text, path, MOVE) == (shlex.join(command),)


def test_a_source_name_a_command_cannot_hold_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="the source 'a;b' is not a name fix can put"):
        lock_command_args(LockKind.POETRY, poetry_lock("a;b"), Path("poetry.lock"), MOVE)


def test_pipenv_moves_a_develop_only_package_with_dev() -> None:
    text = json.dumps({"default": {}, "develop": {"foo": {"version": "==1.0"}}})
    assert apply_commands(LockKind.PIPFILE, text, Path("Pipfile.lock"), MOVE) == (
        ("pipenv", "upgrade", "--lock-only", "--dev", "foo==1.2"),
    )


def test_every_command_starts_with_its_tools_executable() -> None:
    for kind, text in (
        (LockKind.UV, uv_lock(INDEX)),
        (LockKind.POETRY, poetry_lock(None)),
        (LockKind.PIPFILE, "{}"),
    ):
        (command,) = apply_commands(kind, text, Path("lock"), MOVE)
        assert command[0] == LOCK_EXECUTABLES[kind]
    with pytest.raises(ValueError, match="writes pylock"):
        lock_command_args(LockKind.PYLOCK, "", Path("pylock.toml"), MOVE)


def test_the_tools_run_without_the_environments_index_settings() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/dev",
        "PIP_INDEX_URL": "https://mirror.example/simple",
        "PIP_EXTRA_INDEX_URL": "https://extra.example/simple",
        "pip_find_links": "/wheels",
        "PIP_CONFIG_FILE": "/etc/pip.conf",
        "PIPENV_PYPI_MIRROR": "https://mirror.example/simple",
        "UV_INDEX": "https://mirror.example/simple",
        "UV_INDEX_URL": "https://mirror.example/simple",
        "UV_DEFAULT_INDEX": "https://mirror.example/simple",
        "UV_EXTRA_INDEX_URL": "https://extra.example/simple",
        "UV_CONFIG_FILE": "/etc/uv.toml",
        "POETRY_REPOSITORIES_ACME_URL": "https://acme.example/simple",
        # Not index settings: credentials for the lock's own index, caches, interpreters.
        "UV_INDEX_ACME_PASSWORD": "secret",
        "POETRY_HTTP_BASIC_ACME_PASSWORD": "secret",
        "UV_CACHE_DIR": "/cache",
        "UV_PYTHON": "/usr/bin/python3",
    }
    assert tool_environment(environ) == {
        "PATH": "/usr/bin",
        "HOME": "/home/dev",
        "UV_INDEX_ACME_PASSWORD": "secret",
        "POETRY_HTTP_BASIC_ACME_PASSWORD": "secret",
        "UV_CACHE_DIR": "/cache",
        "UV_PYTHON": "/usr/bin/python3",
        "PIP_CONFIG_FILE": os.devnull,
    }
