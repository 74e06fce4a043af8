"""The text of a requirements file: its bytes decoded, and its logical lines.

A BOM chooses the encoding unless one is given; a trailing backslash continues a line, and
comments (``#`` at the start of a line or after whitespace) and blank lines are dropped, as
pip does.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

from verify.errors import InvalidInputError

__all__ = ["logical_lines", "read_text"]

#: A comment: ``#`` at the start of a line or after whitespace, to the end of the line. The
#: whitespace before it is left to ``strip()``: taking it in the pattern (``\s+#``) retried a
#: run of whitespace from each of its characters, quadratic in the run's length.
_COMMENT_RE = re.compile(r"(?:^|(?<=\s))#.*")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")

# The BOMs to honour, longest first (UTF-32-LE's BOM starts with UTF-16-LE's).
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)


def read_text(path: Path, shown: str, encoding: str | None) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(
            "requirements file not found", path=shown, hint="check the path"
        ) from None
    except IsADirectoryError:
        raise InvalidInputError(
            "is a directory, not a requirements file", path=shown, hint="name a file"
        ) from None
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read requirements file: {exc.strerror or exc}",
            path=shown,
            hint="check that the file exists and is readable",
        ) from None
    return _decode(data, shown, encoding)


def _decode(data: bytes, shown: str, encoding: str | None) -> str:
    chosen = encoding
    body = data
    if chosen is None:
        chosen = "utf-8"
        for bom, name in _BOMS:
            if data.startswith(bom):
                chosen, body = name, data[len(bom) :]
                break
    try:
        text = body.decode(chosen)
    except LookupError:
        raise InvalidInputError(
            f"unknown encoding {chosen!r}", path=shown, hint="name a Python codec"
        ) from None
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1 if chosen.startswith("utf-8") else None
        raise InvalidInputError(
            f"cannot decode the file as {chosen}: {exc.reason}",
            path=shown,
            line=line,
            hint="save it as UTF-8 or give its encoding",
        ) from None
    return text.removeprefix("\ufeff")


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Join continuations and drop comments and blank lines, as pip does.

    Yields the number of the first physical line and the logical line.
    """
    physical = _NEWLINE_RE.split(text)
    if physical and physical[-1] == "":
        physical.pop()
    start = 0
    parts: list[str] = []
    joined: list[tuple[int, str]] = []
    for number, line in enumerate(physical, start=1):
        is_comment = line.lstrip().startswith("#")
        if not line.endswith("\\") or is_comment:
            if is_comment:
                line = " " + line  # a comment ends a continuation and is dropped below
            if parts:
                parts.append(line)
                joined.append((start, "".join(parts)))
                parts = []
            else:
                joined.append((number, line))
        else:
            if not parts:
                start = number
            parts.append(line[:-1])
    if parts:
        joined.append((start, "".join(parts)))
    for number, line in joined:
        stripped = _COMMENT_RE.sub("", line).strip()
        if stripped:
            yield number, stripped
