"""Core metadata of a distribution, read from its member list.

:func:`read_metadata` finds a wheel's ``*.dist-info/METADATA`` or an sdist's ``PKG-INFO`` (plus
``pyproject.toml`` for the build backend and entry points) among the member paths the caller
lists, and reads them through the caller's reader: this module never opens an archive itself.
What changed between two releases' metadata is :mod:`verify._behaviour.metadata_diff`'s concern.

Metadata is hostile input. Nothing here raises on what a distribution contains: a missing,
unreadable, oversized, undecodable or nonsensical member becomes a ``metadata-malformed``
finding and the metadata is ``None`` or partial. Text copied into messages is flattened to one
line and stripped of control and bidi characters (:func:`excerpt`), so it cannot forge report
lines or terminal output.
"""

from __future__ import annotations

import configparser
import email.utils
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from packaging.metadata import RawMetadata, parse_email

from verify._dist.archive import Archive
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify.errors import ArchiveError
from verify.models import Finding

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli is a dependency there)
    import tomli as tomllib

__all__ = [
    "LEGACY_BACKEND",
    "MAX_METADATA_BYTES",
    "MAX_REQUIREMENTS",
    "DistMetadata",
    "excerpt",
    "read_metadata",
]

#: Members larger than this are not parsed for metadata: real METADATA, PKG-INFO,
#: entry_points.txt and pyproject.toml files are kilobytes, and the parsers' cost grows with size.
MAX_METADATA_BYTES: Final = 10 * 1024 * 1024
#: More Requires-Dist entries than this are reported, and only this many are compared.
MAX_REQUIREMENTS: Final = 5000
#: What pip builds an sdist with when it has ``setup.py`` but names no build backend (PEP 517).
LEGACY_BACKEND: Final = "setuptools.build_meta:__legacy__"

# Messages quote metadata; this keeps one field from swamping a report line.
_EVIDENCE_LIMIT: Final = 200
_LICENSE_LIMIT: Final = 200

# Core metadata fields this module relies on. When packaging puts one of them in its "unparsed"
# dict (repeated where it may appear once, or not UTF-8), the metadata is ambiguous: an
# installer and this reader may each pick a different value.
_USED_FIELDS: Final = frozenset(
    {
        "name",
        "version",
        "requires-dist",
        "provides-extra",
        "author",
        "author-email",
        "maintainer",
        "maintainer-email",
        "project-url",
        "home-page",
        "download-url",
        "requires-python",
        "license",
        "license-expression",
        "classifier",
    }
)
# C0/C1 controls (ESC starts terminal sequences), zero-width and bidi controls (which reorder
# what a reader sees), and line/paragraph separators.
_UNSAFE_CHARS: Final = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069]+")


@dataclass(frozen=True, slots=True)
class DistMetadata:
    """The parts of a distribution's core metadata that say who, what and how it installs.

    Strings are as the metadata gives them (stripped); ``UNKNOWN``, which old setuptools wrote
    for every field it had no value for, counts as absent. The mappings are read-only by
    convention.
    """

    name: str | None
    version: str | None
    #: Raw ``Requires-Dist`` values, in file order.
    requires_dist: tuple[str, ...]
    provides_extra: tuple[str, ...]
    #: group -> entry point name -> object reference (``module:attr``).
    entry_points: Mapping[str, Mapping[str, str]]
    #: Author/Maintainer names and lower-cased email addresses, sorted and unique.
    people: tuple[str, ...]
    #: label -> URL, with ``Home-page`` and ``Download-URL`` under those labels.
    project_urls: Mapping[str, str]
    requires_python: str | None
    #: ``License-Expression``, else the first line of ``License``, else the license classifiers.
    license: str | None
    #: An sdist's build backend: ``pyproject.toml``'s, else :data:`LEGACY_BACKEND` when it has
    #: ``setup.py``, else ``None`` (and always ``None`` for a wheel).
    build_backend: str | None
    #: ``[build-system] backend-path``: directories of the sdist the backend is imported from.
    backend_path: tuple[str, ...]
    #: The member the core metadata came from (``pyproject.toml`` when an sdist has none).
    source: str


def read_metadata(
    paths: Sequence[str], read: Callable[[str], bytes]
) -> tuple[DistMetadata | None, tuple[Finding, ...]]:
    """Read the core metadata of the distribution whose members are ``paths``.

    A wheel is recognized by its top-level ``*.dist-info`` directory, whose ``METADATA`` (and
    ``entry_points.txt``) are read; anything else is an sdist with paths relative to its root:
    ``PKG-INFO`` (else ``*.egg-info/PKG-INFO`` at most one directory down), that directory's
    ``entry_points.txt``, and ``pyproject.toml`` for the build system and declared entry points.

    ``read(path)`` returns a member's bytes and may raise :class:`~verify.errors.ArchiveError`
    for one it refuses. Problems are returned as ``metadata-malformed`` findings, never raised;
    the metadata is ``None`` when there is nothing usable.
    """
    reader = _Reader(paths, read)
    dist_infos = sorted(
        {path.split("/", 1)[0] for path in reader.members if _top_dir(path, ".dist-info")}
    )
    metadata = reader.wheel(dist_infos) if dist_infos else reader.sdist()
    return metadata, tuple(reader.findings)


def archive_metadata(archive: Archive) -> tuple[DistMetadata | None, tuple[Finding, ...]]:
    """:func:`read_metadata` of an opened archive's readable files."""
    return read_metadata([member.path for member in archive.files()], archive.read)


def _top_dir(path: str, suffix: str) -> bool:
    """Whether ``path`` lies inside a top-level directory whose name ends with ``suffix``."""
    head, sep, _ = path.partition("/")
    return bool(sep) and head.endswith(suffix)


@dataclass(slots=True)
class _Backend:
    """What an sdist's ``pyproject.toml`` says about building and entry points."""

    backend: str | None
    path: tuple[str, ...]
    entry_points: dict[str, dict[str, str]]


class _Reader:
    """Reads one distribution's metadata members, collecting findings instead of raising."""

    def __init__(self, paths: Sequence[str], read: Callable[[str], bytes]) -> None:
        # Match on paths without a leading "./" (some sdist tools write it), but read each
        # member by the name the caller gave.
        self.members: dict[str, str] = {}
        for path in paths:
            self.members.setdefault(path.removeprefix("./"), path)
        self._read = read
        self.findings: list[Finding] = []

    def malformed(self, path: str, message: str) -> None:
        rule = "metadata-malformed"
        severity = BEHAVIOUR_RULES[rule].severity
        self.findings.append(Finding(rule=rule, severity=severity, message=message, path=path))

    def get(self, path: str) -> bytes | None:
        """The bytes of member ``path`` (which must be listed), or ``None`` with a finding."""
        try:
            data = self._read(self.members[path])
        except (ArchiveError, OSError) as exc:
            self.malformed(path, f"cannot read {path}: {excerpt(str(exc))}")
            return None
        if len(data) > MAX_METADATA_BYTES:
            self.malformed(
                path,
                f"{path} is {len(data):,} bytes, over the {MAX_METADATA_BYTES // (1024 * 1024)} "
                "MiB metadata limit: not parsed",
            )
            return None
        return data

    def wheel(self, dist_infos: Sequence[str]) -> DistMetadata | None:
        if len(dist_infos) > 1:
            # pip refuses such a wheel; which directory another tool reads is anyone's guess.
            self.malformed(
                dist_infos[0],
                f"{len(dist_infos)} .dist-info directories ({', '.join(dist_infos)}): a wheel "
                "has exactly one",
            )
            return None
        source = f"{dist_infos[0]}/METADATA"
        if source not in self.members:
            self.malformed(source, f"the wheel has no {source}")
            return None
        raw = self.core(source)
        if raw is None:
            return None
        entry_points_txt = f"{dist_infos[0]}/entry_points.txt"
        entry_points = (
            self.entry_points(entry_points_txt) if entry_points_txt in self.members else {}
        )
        return _from_raw(raw, source, entry_points=entry_points, backend=None, backend_path=())

    def sdist(self) -> DistMetadata | None:
        egg_info = self._egg_info_dir()
        source: str | None = None
        if "PKG-INFO" in self.members:
            source = "PKG-INFO"
        elif egg_info is not None and f"{egg_info}/PKG-INFO" in self.members:
            source = f"{egg_info}/PKG-INFO"

        entry_points: dict[str, dict[str, str]] = {}
        if egg_info is not None and f"{egg_info}/entry_points.txt" in self.members:
            entry_points = self.entry_points(f"{egg_info}/entry_points.txt")
        backend = self.pyproject() if "pyproject.toml" in self.members else None
        if backend is not None:
            # The built entry points (egg-info) win over the declared ones when both name one.
            for group, items in backend.entry_points.items():
                merged = entry_points.setdefault(group, {})
                for name, value in items.items():
                    merged.setdefault(name, value)
        # PEP 517: with no backend named, pip builds with setuptools' legacy backend (which
        # runs setup.py); without setup.py either, there is nothing to build with.
        build_backend = backend.backend if backend is not None else None
        # An unusable pyproject.toml stops pip before any backend runs: no legacy fallback.
        pyproject_usable = backend is not None or "pyproject.toml" not in self.members
        if build_backend is None and pyproject_usable and "setup.py" in self.members:
            build_backend = LEGACY_BACKEND
        backend_path = backend.path if backend is not None else ()

        if source is None:
            self.malformed("PKG-INFO", "the sdist has no PKG-INFO (nor *.egg-info/PKG-INFO)")
            if backend is None:
                return None
            # Keep what pyproject.toml says: an in-tree backend matters even without PKG-INFO.
            return _from_raw(
                {},
                "pyproject.toml",
                entry_points=entry_points,
                backend=build_backend,
                backend_path=backend_path,
            )
        raw = self.core(source)
        if raw is None:
            return None
        return _from_raw(
            raw,
            source,
            entry_points=entry_points,
            backend=build_backend,
            backend_path=backend_path,
        )

    def _egg_info_dir(self) -> str | None:
        """The sdist's ``*.egg-info`` directory: at the root or one level down (``src/``).

        Deeper ones are test fixtures or vendored code, not this project's metadata.
        """
        found = set()
        for path in self.members:
            directory, _, base = path.rpartition("/")
            if (
                directory.endswith(".egg-info")
                and base in {"PKG-INFO", "entry_points.txt"}
                and directory.count("/") <= 1
            ):
                found.add(directory)
        return min(found, key=lambda d: (d.count("/"), d), default=None)

    def core(self, source: str) -> RawMetadata | None:
        """Parse ``source`` as core metadata; ``None`` when it is not core metadata at all."""
        data = self.get(source)
        if data is None:
            return None
        try:
            raw, unparsed = parse_email(data)
        except Exception as exc:
            # parse_email is tolerant by design, but it sits on the stdlib email parser and
            # asserts its own invariants; hostile bytes must end as a finding, not a crash.
            self.malformed(source, f"{source} cannot be parsed: {type(exc).__name__}")
            return None
        ambiguous = sorted(_USED_FIELDS.intersection(unparsed))
        if ambiguous:
            self.malformed(
                source,
                f"{source}: cannot parse {', '.join(ambiguous)} (repeated, or not UTF-8)",
            )
        # Fields that are present but unparsable were reported above; don't say "no Name" too.
        missing = [
            label
            for key, label in (("name", "Name"), ("version", "Version"))
            if _text(raw.get(key)) is None and key not in unparsed
        ]
        if _text(raw.get("name")) is None and _text(raw.get("version")) is None:
            if len(missing) == 2:
                self.malformed(source, f"{source} is not core metadata: no Name or Version")
            return None
        for label in missing:
            self.malformed(source, f"{source} has no {label} field")
        requirements = raw.get("requires_dist", [])
        if len(requirements) > MAX_REQUIREMENTS:
            # Parsing each requirement costs time in the diff; no real project comes close.
            self.malformed(
                source,
                f"{source} has {len(requirements):,} Requires-Dist entries: only the first "
                f"{MAX_REQUIREMENTS:,} are compared",
            )
            raw["requires_dist"] = requirements[:MAX_REQUIREMENTS]
        return raw

    def entry_points(self, path: str) -> dict[str, dict[str, str]]:
        """Parse an ``entry_points.txt``; ``{}`` (with a finding) when it is unreadable."""
        data = self.get(path)
        if data is None:
            return {}
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.malformed(path, f"{path} is not UTF-8")
            return {}
        parser = _EntryPointsParser(
            delimiters=("=",),
            interpolation=None,
            strict=False,
            # No real group is called this, so no section's entries leak into every other
            # group the way [DEFAULT]'s would.
            default_section="\x00",
        )
        try:
            parser.read_string(text, source=path)
        except configparser.Error as exc:
            message = excerpt(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            self.malformed(path, f"{path} cannot be parsed: {message}")
            return {}
        return {
            group.strip(): {name.strip(): (value or "").strip() for name, value in section.items()}
            for group, section in parser.items()
            if group != parser.default_section
        }

    def pyproject(self) -> _Backend | None:
        """The build system and declared entry points of ``pyproject.toml``, or ``None``."""
        path = "pyproject.toml"
        data = self.get(path)
        if data is None:
            return None
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            # ValueError covers TOMLDecodeError and UnicodeDecodeError; absurd nesting
            # exhausts the recursive parser before it finds a syntax error.
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.malformed(path, f"{path} is not valid TOML: {excerpt(detail)}")
            return None

        build_system = self._table(document, "build-system", path)
        backend = build_system.get("build-backend")
        if backend is not None and not isinstance(backend, str):
            self.malformed(path, f"{path}: [build-system] build-backend is not a string")
            backend = None
        backend_path = self._backend_path(build_system.get("backend-path"), path)

        project = self._table(document, "project", path)
        entry_points: dict[str, dict[str, str]] = {}
        for key, group in (("scripts", "console_scripts"), ("gui-scripts", "gui_scripts")):
            items = self._strings(project.get(key), f"[project.{key}]", path)
            if items:
                entry_points[group] = items
        for group, value in self._table(project, "entry-points", path).items():
            items = self._strings(value, f"[project.entry-points.{group}]", path)
            if items:
                entry_points.setdefault(group, {}).update(items)
        return _Backend(backend=backend or None, path=backend_path, entry_points=entry_points)

    def _table(self, document: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
        value = document.get(key, {})
        if isinstance(value, dict):
            return value
        self.malformed(path, f"{path}: [{key}] is a {type(value).__name__}, not a table")
        return {}

    def _strings(self, value: object, where: str, path: str) -> dict[str, str]:
        """A table of strings, keeping the string entries when some are not."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.malformed(path, f"{path}: {where} is a {type(value).__name__}, not a table")
            return {}
        strings = {k: v for k, v in value.items() if isinstance(v, str)}
        if len(strings) != len(value):
            self.malformed(path, f"{path}: {where} has values that are not strings")
        return strings

    def _backend_path(self, value: object, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, list):
            entries = tuple(item for item in value if isinstance(item, str))
            if len(entries) != len(value):
                self.malformed(path, f"{path}: [build-system] backend-path has non-strings")
            return entries
        self.malformed(path, f"{path}: [build-system] backend-path is not a list")
        # A lone string still names an in-tree directory: keep it, so the in-tree backend is
        # reported rather than hidden by a type error.
        return (value,) if isinstance(value, str) else ()


class _EntryPointsParser(configparser.ConfigParser):
    """configparser that keeps entry point names' case (they are case-sensitive)."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def _from_raw(
    raw: RawMetadata,
    source: str,
    *,
    entry_points: Mapping[str, Mapping[str, str]],
    backend: str | None,
    backend_path: tuple[str, ...],
) -> DistMetadata:
    """Turn packaging's raw metadata into :class:`DistMetadata`."""
    urls: dict[str, str] = {}
    for label, url in raw.get("project_urls", {}).items():
        if _text(url) is not None:
            urls[label.strip()] = url.strip()
    for label, key in (("Home-page", "home_page"), ("Download-URL", "download_url")):
        value = _text(raw.get(key))
        if value is not None:
            urls.setdefault(label, value)
    return DistMetadata(
        name=_text(raw.get("name")),
        version=_text(raw.get("version")),
        requires_dist=tuple(s.strip() for s in raw.get("requires_dist", []) if s.strip()),
        provides_extra=tuple(s.strip() for s in raw.get("provides_extra", []) if s.strip()),
        entry_points=entry_points,
        people=_people(raw),
        project_urls=urls,
        requires_python=_text(raw.get("requires_python")),
        license=_license(raw),
        build_backend=backend,
        backend_path=backend_path,
        source=source,
    )


def _text(value: object) -> str | None:
    """A stripped string field, ``None`` when empty or setuptools' ``UNKNOWN`` placeholder."""
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    return stripped if stripped and stripped != "UNKNOWN" else None


def _people(raw: RawMetadata) -> tuple[str, ...]:
    people: set[str] = set()
    for key in ("author", "maintainer"):
        name = _text(raw.get(key))
        if name is not None:
            people.add(" ".join(name.split()))
    for key in ("author_email", "maintainer_email"):
        value = _text(raw.get(key))
        if value is None:
            continue
        found = False
        for name, address in email.utils.getaddresses([value]):
            if "@" in address:
                found = True
                people.add(address.strip().lower())
                if name.strip():
                    people.add(" ".join(name.split()))
        if not found:
            # Not an address list ("Jane Doe", "jane at example.org"): keep it whole rather
            # than the fragments getaddresses makes of it.
            people.add(" ".join(value.split()))
    return tuple(sorted(people))


def _license(raw: RawMetadata) -> str | None:
    expression = _text(raw.get("license_expression"))
    if expression is not None:
        return expression
    text = _text(raw.get("license"))
    if text is not None:
        # The License field often holds the whole license text; its first line names it.
        return text.splitlines()[0].strip()[:_LICENSE_LIMIT]
    classifiers = [
        c.strip() for c in raw.get("classifiers", []) if c.strip().startswith("License ::")
    ]
    return "; ".join(classifiers) or None


def excerpt(text: str, limit: int = _EVIDENCE_LIMIT) -> str:
    """``text`` on one line, without control or bidi characters, at most ``limit`` long."""
    # Clip before cleaning: the input may be megabytes, the output never is.
    flat = " ".join(_UNSAFE_CHARS.sub(" ", text[: limit * 4]).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
