"""Read pip requirements files, keeping the file and 1-based line of every requirement.

The format is pip's (``pip help install``, "Requirements File Format"): comments start with
``#`` at the start of a line or after whitespace, a trailing backslash continues a line,
``${NAME}`` environment variables are expanded, and a line is either a requirement (a
PEP 508 specifier, a URL or a path, optionally followed by per-requirement options such as
``--hash``) or a line of global options (``-r``, ``-c``, ``-i``, ``-e``, ...).

Nothing is downloaded: nested ``-r`` files must be local, and every malformed line is an
:class:`~verify.errors.InvalidInputError` that names the file and the line.
"""

from __future__ import annotations

import codecs
import os
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import NoReturn

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from verify.errors import InvalidInputError
from verify.models import Candidate, SourceLocation

__all__ = [
    "SUPPORTED_HASH_ALGORITHMS",
    "RequirementLine",
    "RequirementsFile",
    "hash_pinned_candidates",
    "read_requirements",
]

#: The hash algorithms pip accepts in ``--hash``, with the length of their hex digests.
SUPPORTED_HASH_ALGORITHMS: Mapping[str, int] = MappingProxyType(
    {"sha256": 64, "sha384": 96, "sha512": 128}
)

_EMPTY_HASHES: Mapping[str, frozenset[str]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RequirementLine:
    """One requirement of a requirements file, as written on one logical line."""

    #: The parsed PEP 508 requirement; ``None`` for a bare URL or path and for ``-e`` lines.
    requirement: Requirement | None
    #: The logical line as written (continuations joined, environment variables not
    #: expanded), without its options and comment.
    raw: str
    #: Digests from ``--hash`` options: algorithm to the set of lower-case hex digests.
    hashes: Mapping[str, frozenset[str]]
    #: The file (as it was named) and the line where the logical line starts.
    location: SourceLocation
    #: The line is an ``-e``/``--editable`` requirement.
    editable: bool = False
    #: The URL of ``name @ url``, the target of a bare URL or path, or of ``-e``.
    url: str | None = None
    #: Per-requirement options other than ``--hash``, verbatim (``--config-settings=k=v``).
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RequirementsFile:
    """A requirements file with the files it includes, read into requirements and options."""

    path: Path
    #: Every requirement, including those of nested ``-r`` files, in file order.
    lines: tuple[RequirementLine, ...]
    #: ``-i``/``--index-url`` (the last one wins, as in pip).
    index_url: str | None
    #: ``--extra-index-url`` values, in order.
    extra_index_urls: tuple[str, ...]
    #: ``-f``/``--find-links`` values, in order.
    find_links: tuple[str, ...]
    no_index: bool
    #: ``-c``/``--constraint`` files, relative to the file that names them.
    constraints: tuple[Path, ...]
    #: Every other global option, verbatim (``--pre``, ``--only-binary=:all:``).
    pip_options: tuple[str, ...]

    @property
    def is_hash_pinned(self) -> bool:
        """Whether every requirement is ``name==version`` with a sha256 ``--hash``.

        An empty file is not hash-pinned.
        """
        return bool(self.lines) and all(_pin_problem(line) is None for line in self.lines)


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


def hash_pinned_candidates(
    reqs: RequirementsFile, *, environment: dict[str, str] | None = None
) -> list[Candidate]:
    """One candidate per pinned requirement of a hash-pinned requirements file.

    Requirements whose environment marker is false for ``environment`` (by default the
    running interpreter) are skipped. A project named twice with the same version gets one
    candidate whose allowed digests are those both lines allow, as pip does.

    :raises InvalidInputError: the file is not :attr:`RequirementsFile.is_hash_pinned`, a
        project is pinned to two versions, or a marker cannot be evaluated.
    """
    if not reqs.lines:
        raise InvalidInputError(
            "no requirements to verify",
            path=reqs.path,
            hint="add `name==version --hash=sha256:...` lines (pip-compile --generate-hashes)",
        )
    pinned: list[tuple[RequirementLine, Requirement]] = []
    for line in reqs.lines:
        problem = _pin_problem(line)
        if problem is not None or line.requirement is None:
            raise InvalidInputError(
                f"{line.raw!r} {problem}",
                path=line.location.path,
                line=line.location.line,
                hint="every line of a hash-pinned file must be `name==version "
                "--hash=sha256:...`; regenerate it with pip-compile --generate-hashes",
            )
        pinned.append((line, line.requirement))

    by_name: dict[NormalizedName, Candidate] = {}
    for line, requirement in pinned:
        if requirement.marker is not None and not _marker_applies(
            requirement.marker, environment, line
        ):
            continue
        name = canonicalize_name(requirement.name)
        version = _pinned_version(requirement, line)
        allowed = line.hashes["sha256"]
        previous = by_name.get(name)
        if previous is None:
            by_name[name] = Candidate(
                name=name,
                version=version,
                files=(),
                allowed_sha256=allowed,
                source=line.location,
                origin="requirements",
                requested=True,
                preselected=False,
            )
            continue
        if previous.version != version:
            raise InvalidInputError(
                f"{name} is pinned to {version} here but to {previous.version} "
                f"at {previous.source}",
                path=line.location.path,
                line=line.location.line,
                hint="keep one version of each project",
            )
        common = previous.allowed_sha256 & allowed
        if not common:
            raise InvalidInputError(
                f"{name}=={version} is listed again with none of the hashes of {previous.source}",
                path=line.location.path,
                line=line.location.line,
                hint="no file could satisfy both lines; keep one of them",
            )
        by_name[name] = Candidate(
            name=name,
            version=version,
            files=(),
            allowed_sha256=common,
            source=previous.source,
            origin="requirements",
            requested=True,
            preselected=False,
        )
    return list(by_name.values())


# --------------------------------------------------------------------------------------------
# Hash-pinning checks


def _pin_problem(line: RequirementLine) -> str | None:
    """Why ``line`` is not ``name==version --hash=sha256:...``, or ``None`` when it is."""
    if line.editable:
        return "is an editable requirement (-e), which cannot be hash-pinned"
    requirement = line.requirement
    if requirement is None or requirement.url is not None:
        return "names a URL or path rather than `name==version`"
    specifiers = list(requirement.specifier)
    if not specifiers:
        return "is not pinned to a version (use `name==version`)"
    if len(specifiers) > 1 or specifiers[0].operator not in ("==", "==="):
        return f"is not pinned to one version with == (it says {requirement.specifier})"
    if specifiers[0].operator == "==" and specifiers[0].version.endswith(".*"):
        return f"pins a wildcard version ({requirement.specifier})"
    if not line.hashes.get("sha256"):
        return "has no --hash=sha256:... option"
    return None


def _pinned_version(requirement: Requirement, line: RequirementLine) -> Version:
    (specifier,) = requirement.specifier
    try:
        return Version(specifier.version)
    except InvalidVersion:
        raise InvalidInputError(
            f"{specifier.version!r} in {line.raw!r} is not a valid version",
            path=line.location.path,
            line=line.location.line,
            hint="pin a PEP 440 version with ==",
        ) from None


def _marker_applies(
    marker: Marker, environment: dict[str, str] | None, line: RequirementLine
) -> bool:
    try:
        return marker.evaluate(environment)
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise InvalidInputError(
            f"cannot evaluate the marker {str(marker)!r}: {exc}",
            path=line.location.path,
            line=line.location.line,
        ) from None


# --------------------------------------------------------------------------------------------
# Reading


#: A comment: ``#`` at the start of a line or after whitespace, to the end of the line. The
#: whitespace before it is left to ``strip()``: taking it in the pattern (``\s+#``) retried a
#: run of whitespace from each of its characters, quadratic in the run's length.
_COMMENT_RE = re.compile(r"(?:^|(?<=\s))#.*")
_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")
_URL_RE = re.compile(r"^(https?|file|ftp|(git|hg|svn|bzr)\+[a-z0-9+.-]+):", re.IGNORECASE)
_ARCHIVE_SUFFIXES = (
    ".whl",
    ".zip",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
)
_HEX_RE = re.compile(r"^[0-9a-f]+$")

# The BOMs to honour, longest first (UTF-32-LE's BOM starts with UTF-16-LE's).
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)


@dataclass(frozen=True, slots=True)
class _Option:
    """One option pip accepts in a requirements file."""

    name: str  # the long spelling, used in messages
    takes_value: bool
    per_requirement: bool = False


_OPTIONS: dict[str, _Option] = {}


def _define(*spellings: str, takes_value: bool, per_requirement: bool = False) -> None:
    option = _Option(spellings[-1], takes_value, per_requirement)
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
class _ParsedOption:
    option: _Option
    value: str  # "" for a flag
    verbatim: str


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
        text = _read_text(path, shown, self.encoding)
        for number, written in _logical_lines(text):
            self._line(path, shown, number, written, stack)

    def _line(
        self, path: Path, shown: str, number: int, written: str, stack: tuple[Path, ...]
    ) -> None:
        location = SourceLocation(shown, number)
        raw_args, raw_options = _break_args_options(written)
        args, options_text = _break_args_options(_expand_env(written))
        options = _parse_options(options_text, location)
        if args:
            self._requirement(args, raw_args, options, location)
            return
        editables = [o for o in options if o.option.name == "--editable"]
        if editables:
            self._editable(editables, options, location, _raw_editable(raw_options, editables))
            return
        for parsed in options:
            self._global_option(parsed, path, location, stack)

    def _requirement(
        self,
        args: str,
        raw: str,
        options: list[_ParsedOption],
        location: SourceLocation,
    ) -> None:
        for parsed in options:
            if not parsed.option.per_requirement:
                _fail(
                    location,
                    f"option {parsed.verbatim.split()[0]} cannot follow a requirement",
                    hint="put global options on a line of their own",
                )
        requirement, url = _parse_requirement(args, location)
        self.lines.append(
            RequirementLine(
                requirement=requirement,
                raw=raw,
                hashes=_collect_hashes(options, location),
                location=location,
                editable=False,
                url=url,
                options=tuple(o.verbatim for o in options if o.option.name != "--hash"),
            )
        )

    def _editable(
        self,
        editables: list[_ParsedOption],
        options: list[_ParsedOption],
        location: SourceLocation,
        raw: str,
    ) -> None:
        if len(editables) > 1:
            _fail(location, "only one -e/--editable requirement is allowed per line")
        for parsed in options:
            if parsed.option.name not in ("--editable", "--config-settings"):
                _fail(
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
                hashes=_EMPTY_HASHES,
                location=location,
                editable=True,
                url=target,
                options=tuple(o.verbatim for o in options if o is not editable),
            )
        )

    def _global_option(
        self,
        parsed: _ParsedOption,
        path: Path,
        location: SourceLocation,
        stack: tuple[Path, ...],
    ) -> None:
        name, value = parsed.option.name, parsed.value
        if parsed.option.per_requirement:
            _fail(
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
            _fail(
                location,
                f"-r {value} includes a file that is already being read (a cycle of -r)",
                hint="remove the -r line that closes the cycle",
            )
        if not nested.is_file():
            what = "is a directory" if nested.is_dir() else "does not exist"
            _fail(
                location,
                f"the requirements file {str(nested)!r} named by -r {what}",
                hint="-r paths are relative to the file that names them",
            )
        self.read(nested, str(nested), stack=chain)


def _raw_editable(raw_options: str, editables: list[_ParsedOption]) -> str:
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


def _identity(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:  # pragma: no cover - resolve() only fails on exotic file systems
        return path.absolute()


def _nested_path(including: Path, value: str, location: SourceLocation, what: str) -> Path:
    if _URL_RE.match(value):
        _fail(
            location,
            f"remote {what} files are not supported ({value})",
            hint="download the file and name its local path",
        )
    return including.parent / value


def _fail(location: SourceLocation, message: str, *, hint: str | None = None) -> NoReturn:
    raise InvalidInputError(message, path=location.path, line=location.line, hint=hint)


def _read_text(path: Path, shown: str, encoding: str | None) -> str:
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


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
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


def _expand_env(line: str) -> str:
    """Expand ``${NAME}`` from the environment; unset or empty variables stay as written."""

    def replace(match: re.Match[str]) -> str:
        return os.environ.get(match.group(1)) or match.group(0)

    return _ENV_VAR_RE.sub(replace, line)


def _break_args_options(line: str) -> tuple[str, str]:
    """Split a line into its requirement and its options, at the first word that starts with -."""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]).strip(), " ".join(tokens[index:]).strip()
    return line.strip(), ""


def _parse_options(text: str, location: SourceLocation) -> list[_ParsedOption]:
    if not text:
        return []
    try:
        words = shlex.split(text)
    except ValueError as exc:
        _fail(location, f"cannot split the options {text!r}: {exc}")
    parsed: list[_ParsedOption] = []
    position = 0
    while position < len(words):
        word = words[position]
        position += 1
        if not word.startswith("-") or word == "-":
            _fail(
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
            _fail(location, f"unknown option {spelling}", hint="see `pip help install`")
        if not option.takes_value:
            if value is not None:
                _fail(location, f"option {spelling} does not take a value")
            parsed.append(_ParsedOption(option, "", word))
            continue
        if value is None:
            if position >= len(words):
                _fail(location, f"option {spelling} needs a value")
            value = words[position]
            position += 1
            verbatim = f"{word} {value}"
        else:
            verbatim = word
        if not value:
            _fail(location, f"option {spelling} needs a value")
        parsed.append(_ParsedOption(option, value, verbatim))
    return parsed


def _collect_hashes(
    options: list[_ParsedOption], location: SourceLocation
) -> Mapping[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for parsed in options:
        if parsed.option.name != "--hash":
            continue
        value = parsed.value
        algorithm, colon, digest = value.partition(":")
        if not colon or not algorithm or not digest:
            _fail(
                location,
                f"--hash needs ALGORITHM:HEXDIGEST, got {value!r}",
                hint="write --hash=sha256:<64 hex digits>",
            )
        algorithm = algorithm.lower()
        length = SUPPORTED_HASH_ALGORITHMS.get(algorithm)
        if length is None:
            _fail(
                location,
                f"unsupported hash algorithm {algorithm!r}",
                hint="use " + ", ".join(SUPPORTED_HASH_ALGORITHMS),
            )
        digest = digest.lower()
        if len(digest) != length or not _HEX_RE.match(digest):
            _fail(
                location,
                f"invalid {algorithm} digest {digest!r}: expected {length} hexadecimal "
                f"digits, got {len(digest)} characters",
            )
        found.setdefault(algorithm, set()).add(digest)
    if not found:
        return _EMPTY_HASHES
    return MappingProxyType({alg: frozenset(digests) for alg, digests in found.items()})


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.startswith((".", "~"))


def _parse_requirement(
    args: str, location: SourceLocation
) -> tuple[Requirement | None, str | None]:
    """Parse the requirement part of a line: a PEP 508 requirement, a URL or a path."""
    if _URL_RE.match(args):
        # pip only splits URL markers at "; " because a URL may contain ";".
        target, _, marker = args.partition("; ")
        _check_marker(marker, args, location)
        return None, target.strip()
    target, _, marker = args.partition(";")
    target = target.strip()
    if "@" not in target and (
        _looks_like_path(target) or target.lower().endswith(_ARCHIVE_SUFFIXES)
    ):
        _check_marker(marker, args, location)
        return None, target
    try:
        requirement = Requirement(args)
    except InvalidRequirement as exc:
        if _looks_like_path(target):
            _check_marker(marker, args, location)
            return None, target
        reason = str(exc).splitlines()[0] if str(exc) else "not a valid requirement"
        _fail(
            location,
            f"invalid requirement {args!r}: {reason[:1].lower()}{reason[1:]}",
            hint="see https://packaging.python.org/en/latest/specifications/dependency-specifiers/",
        )
    return requirement, requirement.url


def _check_marker(marker: str, args: str, location: SourceLocation) -> None:
    marker = marker.strip()
    if not marker:
        return
    try:
        Marker(marker)
    except InvalidMarker as exc:
        reason = str(exc).splitlines()[0]
        _fail(location, f"invalid marker in {args!r}: {reason[:1].lower()}{reason[1:]}")
