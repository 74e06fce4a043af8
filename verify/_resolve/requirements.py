"""Read pip requirements files, keeping the file and 1-based line of every requirement.

The format is pip's (``pip help install``, "Requirements File Format"): comments start with
``#`` at the start of a line or after whitespace, a trailing backslash continues a line,
``${NAME}`` environment variables are expanded, and a line is either a requirement (a
PEP 508 specifier, a URL or a path, optionally followed by per-requirement options such as
``--hash``) or a line of global options (``-r``, ``-c``, ``-i``, ``-e``, ...).

Nothing is downloaded: nested ``-r`` files must be local, and every malformed line is an
:class:`~verify.errors.InvalidInputError` that names the file and the line.

Reading is split by concern: the text and its logical lines (:mod:`.requirements_text`), the
options (:mod:`.requirements_options`), the requirement of a line (:mod:`.requirements_specs`),
the model (:mod:`.requirements_model`) and hash-pinned candidates (:mod:`.requirements_pins`).
This module follows ``-r`` includes and expands ``${NAME}``: it is the one that reads the
environment, as pip does.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from verify._resolve.requirements_model import (
    EMPTY_HASHES,
    SUPPORTED_HASH_ALGORITHMS,
    RequirementLine,
    RequirementsFile,
)
from verify._resolve.requirements_options import (
    ParsedOption,
    break_args_options,
    fail,
    parse_options,
    raw_editable,
)
from verify._resolve.requirements_pins import hash_pinned_candidates
from verify._resolve.requirements_specs import URL_RE, collect_hashes, parse_requirement
from verify._resolve.requirements_text import logical_lines, read_text
from verify.models import SourceLocation

# Callers import the model and hash_pinned_candidates from here, as before the split.
__all__ = [
    "SUPPORTED_HASH_ALGORITHMS",
    "RequirementLine",
    "RequirementsFile",
    "hash_pinned_candidates",
    "read_requirements",
]

_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")


def read_requirements(path: Path, *, encoding: str | None = None) -> RequirementsFile:
    """Read the requirements file at ``path`` and the files it includes with ``-r``.

    ``encoding`` overrides the default (a BOM if there is one, else UTF-8).

    :raises InvalidInputError: the file, or a file it includes, cannot be read or decoded,
        or one of its lines is malformed.
    """
    reader = _Reader(encoding)
    reader.read(path, str(path), stack=())
    return RequirementsFile(
        path=path,
        lines=tuple(reader.lines),
        index_url=reader.index_url,
        extra_index_urls=tuple(reader.extra_index_urls),
        find_links=tuple(reader.find_links),
        no_index=reader.no_index,
        constraints=tuple(reader.constraints),
        pip_options=tuple(reader.pip_options),
    )


@dataclass(slots=True)
class _Reader:
    """Accumulates what a requirements file and the files it includes say."""

    encoding: str | None
    lines: list[RequirementLine] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    no_index: bool = False
    constraints: list[Path] = field(default_factory=list)
    pip_options: list[str] = field(default_factory=list)

    def read(self, path: Path, shown: str, *, stack: tuple[Path, ...]) -> None:
        """Read ``path`` (named ``shown`` in locations); ``stack`` is the chain of includers."""
        text = read_text(path, shown, self.encoding)
        for number, written in logical_lines(text):
            self._line(path, shown, number, written, stack)

    def _line(
        self, path: Path, shown: str, number: int, written: str, stack: tuple[Path, ...]
    ) -> None:
        location = SourceLocation(shown, number)
        raw_args, raw_options = break_args_options(written)
        args, options_text = break_args_options(_expand_env(written))
        options = parse_options(options_text, location)
        if args:
            self._requirement(args, raw_args, options, location)
            return
        editables = [o for o in options if o.option.name == "--editable"]
        if editables:
            self._editable(editables, options, location, raw_editable(raw_options, editables))
            return
        for parsed in options:
            self._global_option(parsed, path, location, stack)

    def _requirement(
        self,
        args: str,
        raw: str,
        options: list[ParsedOption],
        location: SourceLocation,
    ) -> None:
        for parsed in options:
            if not parsed.option.per_requirement:
                fail(
                    location,
                    f"option {parsed.verbatim.split()[0]} cannot follow a requirement",
                    hint="put global options on a line of their own",
                )
        requirement, url = parse_requirement(args, location)
        self.lines.append(
            RequirementLine(
                requirement=requirement,
                raw=raw,
                hashes=collect_hashes(options, location),
                location=location,
                editable=False,
                url=url,
                options=tuple(o.verbatim for o in options if o.option.name != "--hash"),
            )
        )

    def _editable(
        self,
        editables: list[ParsedOption],
        options: list[ParsedOption],
        location: SourceLocation,
        raw: str,
    ) -> None:
        if len(editables) > 1:
            fail(location, "only one -e/--editable requirement is allowed per line")
        for parsed in options:
            if parsed.option.name not in ("--editable", "--config-settings"):
                fail(
                    location,
                    f"option {parsed.verbatim.split()[0]} cannot be used with -e/--editable",
                    hint="put global options on a line of their own",
                )
        (editable,) = editables
        target = editable.value
        self.lines.append(
            RequirementLine(
                requirement=None,
                raw=raw,
                hashes=EMPTY_HASHES,
                location=location,
                editable=True,
                url=target,
                options=tuple(o.verbatim for o in options if o is not editable),
            )
        )

    def _global_option(
        self,
        parsed: ParsedOption,
        path: Path,
        location: SourceLocation,
        stack: tuple[Path, ...],
    ) -> None:
        name, value = parsed.option.name, parsed.value
        if parsed.option.per_requirement:
            fail(
                location,
                f"{name} must follow a requirement on the same line",
                hint="write `name==version --hash=sha256:...` (use a backslash to continue it)",
            )
        if name == "--index-url":
            self.index_url = value
        elif name == "--extra-index-url":
            self.extra_index_urls.append(value)
        elif name == "--find-links":
            self.find_links.append(value)
        elif name == "--no-index":
            self.no_index = True
        elif name == "--constraint":
            self.constraints.append(_nested_path(path, value, location, "constraints"))
        elif name == "--requirement":
            self._nested(path, value, location, stack)
        else:
            self.pip_options.append(parsed.verbatim)

    def _nested(
        self, path: Path, value: str, location: SourceLocation, stack: tuple[Path, ...]
    ) -> None:
        nested = _nested_path(path, value, location, "requirements")
        here = _identity(path)
        chain = (*stack, here)
        if _identity(nested) in chain:
            fail(
                location,
                f"-r {value} includes a file that is already being read (a cycle of -r)",
                hint="remove the -r line that closes the cycle",
            )
        if not nested.is_file():
            what = "is a directory" if nested.is_dir() else "does not exist"
            fail(
                location,
                f"the requirements file {str(nested)!r} named by -r {what}",
                hint="-r paths are relative to the file that names them",
            )
        self.read(nested, str(nested), stack=chain)


def _identity(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:  # pragma: no cover - resolve() only fails on exotic file systems
        return path.absolute()


def _nested_path(including: Path, value: str, location: SourceLocation, what: str) -> Path:
    if URL_RE.match(value):
        fail(
            location,
            f"remote {what} files are not supported ({value})",
            hint="download the file and name its local path",
        )
    return including.parent / value


def _expand_env(line: str) -> str:
    """Expand ``${NAME}`` from the environment; unset or empty variables stay as written."""

    def replace(match: re.Match[str]) -> str:
        return os.environ.get(match.group(1)) or match.group(0)

    return _ENV_VAR_RE.sub(replace, line)
