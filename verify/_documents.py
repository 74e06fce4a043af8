"""Parsing the TOML and JSON text of files that users and pull requests provide.

Lock files, policies and the trust store are all read through :func:`parse_toml` or
:func:`parse_json`, so that every way such a file can break the parser (bad syntax, nesting
deeper than the parser's recursion can follow, a document too large for memory) ends in the
same :class:`~verify.errors.InvalidInputError` (or the subclass a caller asks for) naming the
file, never in an internal error.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from verify.errors import InvalidInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["parse_json", "parse_toml"]

#: tomllib before Python 3.14 puts the position in the message only.
_TOML_LINE_RE = re.compile(r"\(at line (\d+), column \d+\)")

_TOO_DEEP = "nested too deeply to read"
_TOO_LARGE = "too large to read into memory"


def parse_toml(
    text: str,
    path: Path | str,
    *,
    hint: str | None = None,
    error: type[InvalidInputError] = InvalidInputError,
) -> dict[str, Any]:
    """The TOML document ``text`` read from ``path``.

    :raises InvalidInputError: (or ``error``) naming ``path``, and the line of a syntax
        error, with ``hint`` as what to do.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _TOML_LINE_RE.search(message)
        line: int | None = getattr(exc, "lineno", None)  # Python 3.14+
        if line is None and found is not None:
            line = int(found.group(1))
        reason = _TOML_LINE_RE.sub("", message).strip()
        raise error(f"invalid TOML: {reason}", path=path, line=line, hint=hint) from None
    # tomllib parses arrays and inline tables recursively: a file that opens enough of
    # them exhausts the stack, which is a property of the file, not a bug of the reader.
    except RecursionError:
        raise error(f"invalid TOML: {_TOO_DEEP}", path=path, hint=hint) from None
    except MemoryError:
        raise error(f"invalid TOML: {_TOO_LARGE}", path=path, hint=hint) from None


def parse_json(
    text: str,
    path: Path | str,
    *,
    hint: str | None = None,
    error: type[InvalidInputError] = InvalidInputError,
) -> Any:
    """The JSON document ``text`` read from ``path``.

    :raises InvalidInputError: (or ``error``) naming ``path``, and the line of a syntax
        error, with ``hint`` as what to do.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno, hint=hint) from None
    # The C decoder bounds its depth by the recursion limit too.
    except RecursionError:
        raise error(f"invalid JSON: {_TOO_DEEP}", path=path, hint=hint) from None
    except MemoryError:
        raise error(f"invalid JSON: {_TOO_LARGE}", path=path, hint=hint) from None
