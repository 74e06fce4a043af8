"""The options pip accepts in a requirements file, and how a line's options are read.

A logical line is split at its first word that starts with ``-``: the requirement before it,
the options after. Global options (``-r``, ``-i``, ...) stand on a line of their own;
per-requirement ones (``--hash``, ``--config-settings``) follow a requirement. :func:`fail`
is the error every malformed line raises, naming the file and the line.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import NoReturn

from verify.errors import InvalidInputError
from verify.models import SourceLocation

__all__ = [
    "Option",
    "ParsedOption",
    "break_args_options",
    "fail",
    "parse_options",
    "raw_editable",
]


@dataclass(frozen=True, slots=True)
class Option:
    """One option pip accepts in a requirements file."""

    name: str  # the long spelling, used in messages
    takes_value: bool
    per_requirement: bool = False


_OPTIONS: dict[str, Option] = {}


def _define(*spellings: str, takes_value: bool, per_requirement: bool = False) -> None:
    option = Option(spellings[-1], takes_value, per_requirement)
    for spelling in spellings:
        _OPTIONS[spelling] = option


_define("-i", "--pypi-url", "--index-url", takes_value=True)
_define("--extra-index-url", takes_value=True)
_define("--no-index", takes_value=False)
_define("-c", "--constraint", takes_value=True)
_define("-r", "--requirement", takes_value=True)
_define("-e", "--editable", takes_value=True)
_define("-f", "--find-links", takes_value=True)
_define("--no-binary", takes_value=True)
_define("--only-binary", takes_value=True)
_define("--prefer-binary", takes_value=False)
_define("--require-hashes", takes_value=False)
_define("--no-require-hashes", takes_value=False)
_define("--pre", takes_value=False)
_define("--all-releases", takes_value=True)
_define("--only-final", takes_value=True)
_define("--trusted-host", takes_value=True)
_define("--use-feature", takes_value=True)
_define("--hash", takes_value=True, per_requirement=True)
_define("-C", "--config-settings", takes_value=True, per_requirement=True)
_define("--global-option", takes_value=True, per_requirement=True)


@dataclass(frozen=True, slots=True)
class ParsedOption:
    """One option as written on a line: which it is, its value and its text."""

    option: Option
    value: str  # "" for a flag
    verbatim: str


def break_args_options(line: str) -> tuple[str, str]:
    """Split a line into its requirement and its options, at the first word that starts with -."""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]).strip(), " ".join(tokens[index:]).strip()
    return line.strip(), ""


def parse_options(text: str, location: SourceLocation) -> list[ParsedOption]:
    if not text:
        return []
    try:
        words = shlex.split(text)
    except ValueError as exc:
        fail(location, f"cannot split the options {text!r}: {exc}")
    parsed: list[ParsedOption] = []
    position = 0
    while position < len(words):
        word = words[position]
        position += 1
        if not word.startswith("-") or word == "-":
            fail(
                location,
                f"unexpected {word!r} after the options",
                hint="write one requirement per line, before its options",
            )
        value: str | None = None
        if word.startswith("--"):
            spelling, equals, attached = word.partition("=")
            if equals:
                value = attached
        else:
            spelling, attached = word[:2], word[2:]
            if attached:
                value = attached
        option = _OPTIONS.get(spelling)
        if option is None:
            fail(location, f"unknown option {spelling}", hint="see `pip help install`")
        if not option.takes_value:
            if value is not None:
                fail(location, f"option {spelling} does not take a value")
            parsed.append(ParsedOption(option, "", word))
            continue
        if value is None:
            if position >= len(words):
                fail(location, f"option {spelling} needs a value")
            value = words[position]
            position += 1
            verbatim = f"{word} {value}"
        else:
            verbatim = word
        if not value:
            fail(location, f"option {spelling} needs a value")
        parsed.append(ParsedOption(option, value, verbatim))
    return parsed


def raw_editable(raw_options: str, editables: list[ParsedOption]) -> str:
    """The ``-e`` option as written, before environment variables are expanded."""
    try:
        tokens = shlex.split(raw_options)
    except ValueError:
        return editables[0].verbatim
    for index, token in enumerate(tokens):
        spelling = token.partition("=")[0] if token.startswith("--") else token[:2]
        if _OPTIONS.get(spelling) is editables[0].option:
            if token in ("-e", "--editable") and index + 1 < len(tokens):
                return f"{token} {tokens[index + 1]}"
            return token
    return editables[0].verbatim


def fail(location: SourceLocation, message: str, *, hint: str | None = None) -> NoReturn:
    raise InvalidInputError(message, path=location.path, line=location.line, hint=hint)
