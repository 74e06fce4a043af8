"""A TOML file's layout, line by line, and TOML values written as text.

For editing a TOML file in place (:mod:`verify._resolve.pylock_write`): :func:`scan` cuts the
text into table headers and key/value statements, each with its lines, so that one statement
can be replaced and every other byte kept; :func:`toml_value` writes the new values. Parsing is
left to ``tomllib`` throughout: a header's key path is what TOML reads from its line, and a
statement's extent is the shortest run of lines that TOML parses on its own, so a multi-line
array or string is never cut, whatever it contains.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from verify.errors import InvalidInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["TomlItem", "indent", "scan", "split_lines", "toml_value"]


@dataclass(frozen=True, slots=True)
class TomlItem:
    """A table header or a statement: lines ``start`` to ``end`` (0-based, end excluded)."""

    start: int
    end: int
    #: A header's key path (``("packages", "wheels")`` for ``[[packages.wheels]]``); ``None``
    #: for a statement.
    header: tuple[str, ...] | None = None
    #: Whether the header is an array of tables' (``[[...]]``).
    array: bool = False
    #: A statement's first key (``sdist`` for ``sdist.url = ...``).
    key: str | None = None


def split_lines(text: str) -> list[str]:
    """``text``'s lines, each with its ``\\n`` (``str.splitlines`` also breaks at characters
    that TOML allows inside strings and comments)."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def scan(lines: list[str], path: Path, *, hint: str) -> list[TomlItem]:
    """The headers and statements of a TOML document that parses; blank lines and comments
    are neither.

    :raises InvalidInputError: a line that TOML cannot read on its own (with ``hint``).
    """
    items: list[TomlItem] = []
    start = 0
    while start < len(lines):
        stripped = lines[start].strip()
        if not stripped or stripped.startswith("#"):
            start += 1
        elif stripped.startswith("["):
            keys, array = _header(lines[start], path, start, hint)
            items.append(TomlItem(start, start + 1, header=keys, array=array))
            start += 1
        else:
            end, key = _statement(lines, start, path, hint)
            items.append(TomlItem(start, end, key=key))
            start = end
    return items


def toml_value(value: object) -> str:
    """``value`` (a string, an integer, a boolean, a datetime, or a table of them) as TOML
    writes it; tables are inline (``{ key = value, ... }``)."""
    if isinstance(value, bool):  # before int: True is an int to Python, not to TOML
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, datetime):
        if value.utcoffset() == timedelta(0):
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return _string(str(value))


def indent(line: str) -> str:
    """The spaces and tabs ``line`` starts with."""
    return line[: len(line) - len(line.lstrip(" \t"))]


def _header(line: str, path: Path, number: int, hint: str) -> tuple[tuple[str, ...], bool]:
    """A header's key path as TOML reads it (quotes, spaces and a comment included), and
    whether it is an array of tables': ``[a.b]`` reads as ``{"a": {"b": {}}}``."""
    node: Any = _parse(line, path, number, hint)
    keys: list[str] = []
    while isinstance(node, dict) and len(node) == 1:
        ((key, node),) = node.items()
        keys.append(key)
    return tuple(keys), node == [{}]


def _statement(lines: list[str], start: int, path: Path, hint: str) -> tuple[int, str]:
    """The end of the statement that starts at ``start``, and its first key."""
    for end in range(start + 1, len(lines) + 1):
        last = lines[end - 1].rstrip()
        # A multi-line value ends on a closing bracket or quote, or before a comment; the
        # other lines are not worth a parse.
        if end > start + 1 and not last.endswith(("]", "}", '"', "'")) and "#" not in last:
            continue
        try:
            parsed = tomllib.loads("".join(lines[start:end]))
        except tomllib.TOMLDecodeError:
            continue
        return end, next(iter(parsed))
    raise _unreadable(path, start, hint)


def _parse(text: str, path: Path, number: int, hint: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        raise _unreadable(path, number, hint) from None


def _unreadable(path: Path, number: int, hint: str) -> InvalidInputError:
    return InvalidInputError(
        "cannot rewrite the file: this line does not read on its own",
        path=path,
        line=number + 1,
        hint=hint,
    )


def _string(text: str) -> str:
    """A TOML basic string. TOML cannot hold a lone surrogate: it becomes U+FFFD, so the text
    reads back as another value, which an edit that checks what it wrote refuses."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
