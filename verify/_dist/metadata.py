"""Core metadata of a distribution, read from its member list, and what changed between two.

:func:`read_metadata` finds a wheel's ``*.dist-info/METADATA`` or an sdist's ``PKG-INFO`` (plus
``pyproject.toml`` for the build backend and entry points) among the member paths the caller
lists, and reads them through the caller's reader: this module never opens an archive itself.
:func:`diff_metadata` compares a release's metadata with its baseline's, field by field, and
turns the changes an attacker makes when taking over a project (a new dependency, a console
script named ``sudo``, the maintainers' email domain, the home page moved elsewhere, an in-tree
build backend) into findings.

Metadata is hostile input. Nothing here raises on what a distribution contains: a missing,
unreadable, oversized, undecodable or nonsensical member becomes a ``metadata-malformed``
finding and the metadata is ``None`` or partial. Text copied into messages is flattened to one
line and stripped of control and bidi characters, so it cannot forge report lines or terminal
output.
"""

from __future__ import annotations

import configparser
import email.utils
import re
import string
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias
from urllib.parse import urlsplit

from packaging.metadata import RawMetadata, parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from verify._checks.typosquat import PopularNames, typosquat_suspicion
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify.errors import ArchiveError
from verify.models import Finding, Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (tomli is a dependency there)
    import tomli as tomllib

__all__ = [
    "LEGACY_BACKEND",
    "MAX_METADATA_BYTES",
    "MAX_REQUIREMENTS",
    "DistMetadata",
    "MetadataChange",
    "MetadataDiff",
    "diff_metadata",
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
# Change values are data for the report, so they may be longer, but still bounded.
_VALUE_LIMIT: Final = 1000
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

# Console scripts with these names shadow a command people run every day (and often with
# sudo): a classic way to get code run without anyone importing the package.
_SYSTEM_COMMANDS: Final = frozenset(
    {
        "apt",
        "apt-get",
        "bash",
        "brew",
        "cat",
        "cd",
        "cp",
        "curl",
        "docker",
        "env",
        "git",
        "gpg",
        "kubectl",
        "ls",
        "make",
        "mv",
        "node",
        "npm",
        "pip",
        "python",
        "rm",
        "scp",
        "sh",
        "ssh",
        "su",
        "sudo",
        "wget",
        "zsh",
    }
)
_SCRIPT_GROUPS: Final = frozenset({"console_scripts", "gui_scripts"})
# Entry-point groups other tools load on their own, without the user naming the package: a
# plugin here runs inside every pytest run, every setuptools build of any project, and so on.
_AUTOLOAD_GROUPS: Final = frozenset(
    {
        "distutils.commands",
        "distutils.setup_keywords",
        "egg_info.writers",
        "flake8.extension",
        "flake8.report",
        "pytest11",
        "setuptools.file_finders",
        "setuptools.finalize_distribution_options",
        "tox",
        "virtualenv.activate",
        "virtualenv.create",
        "virtualenv.discovery",
        "virtualenv.seed",
    }
)
# An entry point naming one of these modules runs a standard-library primitive directly
# (``os:system``), not the package's own code: nothing legitimate needs that.
_RISKY_MODULES: Final = frozenset(
    {"base64", "builtins", "codecs", "ctypes", "importlib", "marshal", "os", "pty", "runpy"}
    | {"socket", "subprocess", "sys", "urllib"}
)
# ``module.path[:attr.path] [extras]``, as the entry points specification defines an object
# reference; anything else is not a reference an installer can load.
_OBJECT_REFERENCE: Final = re.compile(
    r"[A-Za-z_][\w.]*(?:\s*:\s*[A-Za-z_][\w.]*)?(?:\s*\[[^\]\n]*\])?", re.ASCII
)
# C0/C1 controls (ESC starts terminal sequences), zero-width and bidi controls (which reorder
# what a reader sees), and line/paragraph separators.
_UNSAFE_CHARS: Final = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069]+")
_LABEL_NOISE: Final = str.maketrans("", "", string.punctuation + string.whitespace)

# A keyed item in a diff: what decides whether it changed, and how the change shows it.
_Item: TypeAlias = tuple[object, str]


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


@dataclass(frozen=True, slots=True)
class MetadataChange:
    """One difference between two releases' metadata (an item added, removed or changed)."""

    #: ``requires-dist``, ``provides-extra``, ``entry-points``, ``people``, ``project-urls``,
    #: ``requires-python``, ``build-backend``, ``backend-path``, ``license``, ``name`` or
    #: ``version``.
    field: str
    #: The baseline's value (``None``: the item is new).
    old: str | None
    #: The new release's value (``None``: the item was removed).
    new: str | None


@dataclass(frozen=True, slots=True)
class MetadataDiff:
    """Every metadata change between two releases, and the findings the risky ones raise."""

    changes: tuple[MetadataChange, ...]
    findings: tuple[Finding, ...]


# --- reading -------------------------------------------------------------------------------


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
        self.findings.append(_finding("metadata-malformed", message, path))

    def get(self, path: str) -> bytes | None:
        """The bytes of member ``path`` (which must be listed), or ``None`` with a finding."""
        try:
            data = self._read(self.members[path])
        except (ArchiveError, OSError) as exc:
            self.malformed(path, f"cannot read {path}: {_one_line(str(exc))}")
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
            message = _one_line(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
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
            self.malformed(path, f"{path} is not valid TOML: {_one_line(detail)}")
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


# --- diffing -------------------------------------------------------------------------------


def diff_metadata(
    old: DistMetadata | None,
    new: DistMetadata,
    *,
    popular: PopularNames | None = None,
    expected_name: str | None = None,
    expected_version: str | None = None,
) -> MetadataDiff:
    """Compare ``new`` with its baseline ``old`` (``None``: there is none).

    Every difference is a :class:`MetadataChange`, listed field by field in a fixed order and
    sorted within each field; the risky ones also raise findings (``path`` = ``new.source``).
    Without a baseline, everything is new, so only what is risky on its own is reported: a
    dependency that looks like a typosquat of a ``popular`` name, an entry point that shadows
    a system command or is loaded by other tools, an in-tree build backend, and a Name or
    Version that disagrees with ``expected_name``/``expected_version`` (the file name's).
    """
    differ = _Differ(old, new)
    differ.requirements(popular)
    differ.extras()
    differ.entry_points()
    differ.people()
    differ.project_urls()
    differ.requires_python()
    differ.build_backend()
    differ.license()
    differ.identity(expected_name, expected_version)
    return MetadataDiff(changes=tuple(differ.changes), findings=tuple(differ.findings))


class _Differ:
    """Accumulates the changes and findings of one comparison."""

    def __init__(self, old: DistMetadata | None, new: DistMetadata) -> None:
        self.old = old
        self.new = new
        self.changes: list[MetadataChange] = []
        self.findings: list[Finding] = []
        self.span = f"{_version_label(old)} → {_version_label(new)}"

    def change(self, field: str, old: str | None, new: str | None) -> None:
        self.changes.append(
            MetadataChange(
                field,
                None if old is None else _one_line(old, _VALUE_LIMIT),
                None if new is None else _one_line(new, _VALUE_LIMIT),
            )
        )

    def finding(self, rule: str, message: str, severity: Severity | None = None) -> None:
        self.findings.append(_finding(rule, message, self.new.source, severity))

    def keyed(self, field: str, old: Mapping[str, _Item], new: Mapping[str, _Item]) -> None:
        """A change per key whose item differs, in key order (items compare by identity)."""
        for key in sorted(old.keys() | new.keys()):
            before, after = old.get(key), new.get(key)
            if before is None or after is None or before[0] != after[0]:
                self.change(
                    field,
                    None if before is None else before[1],
                    None if after is None else after[1],
                )

    def requirements(self, popular: PopularNames | None) -> None:
        old_by_name, _ = _requirements(self.old.requires_dist if self.old else ())
        new_by_name, unparsable = _requirements(self.new.requires_dist)
        self.keyed("requires-dist", old_by_name, new_by_name)
        for raw in unparsable:
            self.finding(
                "metadata-malformed",
                f"Requires-Dist {_quote(raw)} is not a valid requirement ({self.span})",
            )
        own = canonicalize_name(self.new.name) if self.new.name else None
        for name in sorted(new_by_name.keys() - old_by_name.keys()):
            # Unparsable strings are keyed by their text; they were reported just above.
            if name.startswith("?") or name == own:  # "own": foo[all] requiring foo[cli]
                continue
            requirement = new_by_name[name][1]
            if self.old is not None:
                self.finding(
                    "dependency-added",
                    f"new dependency {name} ({_quote(requirement)}): {self.span}",
                )
            if popular is not None:
                suspicion = typosquat_suspicion(name, popular=popular)
                if suspicion is not None:
                    # Only under extras (dev, test): installed when asked for, so one step
                    # lower than a dependency every install pulls in.
                    texts = new_by_name[name][0]
                    optional = isinstance(texts, frozenset) and all(
                        _under_extra(str(text)) for text in texts
                    )
                    self.finding(
                        "dependency-typosquat",
                        f"dependency {suspicion.message}"
                        + (" (only under an extra)" if optional else "")
                        + f" ({self.span})",
                        Severity.MEDIUM if optional else None,
                    )

    def extras(self) -> None:
        old: dict[str, str] = {
            canonicalize_name(e): e for e in (self.old.provides_extra if self.old else ())
        }
        new: dict[str, str] = {canonicalize_name(e): e for e in self.new.provides_extra}
        # Extras are one name however they are spelled: only adding or removing one counts.
        self.keyed(
            "provides-extra",
            {key: (None, extra) for key, extra in old.items()},
            {key: (None, extra) for key, extra in new.items()},
        )
        if self.old is None:
            return
        for extra in sorted(new.keys() - old.keys()):
            self.finding("dependency-added", f"new extra {_quote(new[extra])}: {self.span}")

    def entry_points(self) -> None:
        old = _flat_entry_points(self.old.entry_points if self.old else {})
        new = _flat_entry_points(self.new.entry_points)
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                self.change(
                    "entry-points",
                    _entry_point_text(key, old[key]) if key in old else None,
                    _entry_point_text(key, new[key]) if key in new else None,
                )
        own = canonicalize_name(self.new.name) if self.new.name else None
        for group, name in sorted(new.keys() - old.keys()):
            value = new[group, name]
            severity, why = _entry_point_risk(group, name, value, own)
            # Without a baseline every entry point is "new": only the risky ones are news.
            if self.old is None and severity is Severity.LOW:
                continue
            self.finding(
                "entry-point-added",
                f"new entry point [{_one_line(group)}] {_quote(f'{name} = {value}')}{why}: "
                f"{self.span}",
                severity,
            )

    def people(self) -> None:
        old = set(self.old.people) if self.old else set()
        new = set(self.new.people)
        for person in sorted(old ^ new):
            self.change(
                "people", person if person in old else None, person if person in new else None
            )
        if not old or not new or old == new:
            return
        parts = []
        if new - old:
            parts.append(f"added {_quote(', '.join(sorted(new - old)))}")
        if old - new:
            parts.append(f"removed {_quote(', '.join(sorted(old - new)))}")
        old_domains, new_domains = _email_domains(old), _email_domains(new)
        if old_domains != new_domains:
            # A takeover often shows as addresses moving to a domain nobody had before.
            parts.append(f"email domains {_names(old_domains)} → {_names(new_domains)}")
        self.finding("maintainer-change", f"maintainers changed ({self.span}): {'; '.join(parts)}")

    def project_urls(self) -> None:
        old_urls = dict(self.old.project_urls) if self.old else {}
        new_urls = dict(self.new.project_urls)
        self.keyed(
            "project-urls",
            {label: (url, f"{label}: {url}") for label, url in old_urls.items()},
            {label: (url, f"{label}: {url}") for label, url in new_urls.items()},
        )
        if self.old is None:
            return
        old_hosts, new_hosts = _hosts_by_label(old_urls), _hosts_by_label(new_urls)
        reported: set[str] = set()
        for label in sorted(old_hosts.keys() & new_hosts.keys()):
            before, after = old_hosts[label], new_hosts[label]
            moved = set(after) - set(before)
            if not before or not moved:
                continue
            reported |= moved
            display, new_url = after[min(moved)]
            _, old_url = before[min(before)]
            self.finding(
                "project-url-change",
                f"project URL {_quote(display)} moved from {_names(before)} to {_names(moved)} "
                f"({_quote(old_url)} → {_quote(new_url)}; {self.span})",
            )
        all_old = {host for hosts in old_hosts.values() for host in hosts}
        all_new = {host for hosts in new_hosts.values() for host in hosts}
        appeared, vanished = all_new - all_old - reported, all_old - all_new
        if appeared and vanished:
            self.finding(
                "project-url-change",
                f"project URLs now point at {_names(appeared)} instead of {_names(vanished)} "
                f"({self.span})",
            )

    def requires_python(self) -> None:
        old = self.old.requires_python if self.old else None
        new = self.new.requires_python
        if _same_specifiers(old, new):
            return
        self.change("requires-python", old, new)
        if self.old is not None:
            self.finding(
                "requires-python-change",
                f"Requires-Python {_quote(old or 'none')} → {_quote(new or 'none')} ({self.span})",
            )

    def build_backend(self) -> None:
        old_backend = self.old.build_backend if self.old else None
        old_path = self.old.backend_path if self.old else ()
        new = self.new
        if old_backend != new.build_backend:
            self.change("build-backend", old_backend, new.build_backend)
        if old_path != new.backend_path:
            self.change(
                "backend-path",
                ", ".join(old_path) if old_path else None,
                ", ".join(new.backend_path) if new.backend_path else None,
            )
        if new.backend_path and not old_path:
            self.finding(
                "install-hook",
                f"in-tree build backend {_quote(new.build_backend or 'none')} "
                f"(backend-path {_quote(', '.join(new.backend_path))}): installing the sdist "
                f"runs the package's own code ({self.span})",
            )
        # A wheel has no backend: comparing one with an sdist says nothing about the project.
        if self.old is None or not (_is_sdist(self.old) and _is_sdist(new)):
            return
        if old_backend != new.build_backend:
            self.finding(
                "build-backend-change",
                f"build backend {_quote(old_backend or 'none')} → "
                f"{_quote(new.build_backend or 'none')} ({self.span})",
            )
        elif old_path and new.backend_path and old_path != new.backend_path:
            self.finding(
                "build-backend-change",
                f"backend-path {_quote(', '.join(old_path))} → "
                f"{_quote(', '.join(new.backend_path))} ({self.span})",
            )

    def license(self) -> None:
        old = self.old.license if self.old else None
        new = self.new.license
        if old == new:
            return
        self.change("license", old, new)
        if self.old is not None:
            self.finding(
                "license-change",
                f"license {_quote(old or 'none')} → {_quote(new or 'none')} ({self.span})",
            )

    def identity(self, expected_name: str | None, expected_version: str | None) -> None:
        old, new = self.old, self.new
        if (old.name if old else None) != new.name:
            self.change("name", old.name if old else None, new.name)
        if (old.version if old else None) != new.version:
            self.change("version", old.version if old else None, new.version)
        # A missing Name or Version was reported by read_metadata already.
        if (
            expected_name is not None
            and new.name is not None
            and canonicalize_name(new.name) != canonicalize_name(expected_name)
        ):
            self.finding(
                "metadata-malformed",
                f"metadata Name {_quote(new.name)} is not the file name's {_quote(expected_name)}",
            )
        if (
            expected_version is not None
            and new.version is not None
            and not _same_version(new.version, expected_version)
        ):
            self.finding(
                "metadata-malformed",
                f"metadata Version {_quote(new.version)} is not the file name's "
                f"{_quote(expected_version)}",
            )


def _under_extra(requirement: str) -> bool:
    marker = requirement.partition(";")[2]
    return "extra" in marker


def _requirements(values: Iterable[str]) -> tuple[dict[str, _Item], list[str]]:
    """Requirements by canonical name, and the unparsable strings.

    Each name's item is (its requirements normalized, as a set; the raw strings joined with
    `` | ``), so respelling or reformatting a requirement is not a change. Unparsable strings
    are keyed ``"?" + text`` (no project name starts with ``?``), so adding or removing one
    is still a change.
    """
    grouped: dict[str, dict[str, str]] = {}
    unparsable: list[str] = []
    for value in dict.fromkeys(values):
        try:
            requirement = Requirement(value)
        except InvalidRequirement:
            unparsable.append(value)
            grouped.setdefault(f"?{value}", {})[value] = value
            continue
        name = canonicalize_name(requirement.name)
        # str(Requirement) has canonical spacing and quoting; the name is made canonical too.
        requirement.name = name
        grouped.setdefault(name, {}).setdefault(str(requirement), value)
    items: dict[str, _Item] = {
        name: (frozenset(texts), " | ".join(texts[key] for key in sorted(texts)))
        for name, texts in grouped.items()
    }
    return items, unparsable


def _flat_entry_points(groups: Mapping[str, Mapping[str, str]]) -> dict[tuple[str, str], str]:
    return {
        (group, name): value for group, items in groups.items() for name, value in items.items()
    }


def _entry_point_text(key: tuple[str, str], value: str) -> str:
    return f"[{key[0]}] {key[1]} = {value}"


def _entry_point_risk(
    group: str, name: str, value: str, project: str | None
) -> tuple[Severity, str]:
    """The severity of a new entry point, and why it is more than low (``""`` if it is not)."""
    if group in _SCRIPT_GROUPS:
        # "python3.12" and "pip3" shadow "python" and "pip" just the same.
        command = name.strip().lower().rstrip("0123456789.")
        # pip's "pip3" is pip's own command; anyone else's "pip" is not.
        if command in _SYSTEM_COMMANDS and command != project:
            return Severity.HIGH, f", a script named like the system command {command!r}"
    if group in _AUTOLOAD_GROUPS:
        return Severity.MEDIUM, f", in a group other tools load automatically ({group!r})"
    if not _OBJECT_REFERENCE.fullmatch(value.strip()):
        return Severity.MEDIUM, ", whose value is not a module:attribute reference"
    module = value.strip().split(":", 1)[0].split(".", 1)[0].strip()
    if module in _RISKY_MODULES:
        return Severity.MEDIUM, f", pointing straight into the standard library's {module!r}"
    return BEHAVIOUR_RULES["entry-point-added"].severity, ""


def _email_domains(people: Iterable[str]) -> set[str]:
    return {person.rpartition("@")[2] for person in people if "@" in person}


def _hosts_by_label(urls: Mapping[str, str]) -> dict[str, dict[str, tuple[str, str]]]:
    """Normalized label -> host -> (label as written, URL).

    Labels are compared as PEP 753 normalizes them, so ``Home-page`` (the old field) and a
    ``Homepage`` Project-URL are one label.
    """
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for label in sorted(urls):
        host = _host(urls[label])
        if host is not None:
            key = label.translate(_LABEL_NOISE).lower()
            found.setdefault(key, {}).setdefault(host, (label, urls[label]))
    return found


def _host(url: str) -> str | None:
    """The URL's host name, lower-cased and without ``www.``; ``None`` if it has none."""
    text = url.strip()
    if "://" not in text:
        # "github.com/x" is how people write URLs, and urlsplit would call it a path.
        text = f"//{text}"
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.rstrip(".").lower().removeprefix("www.") or None


def _same_specifiers(old: str | None, new: str | None) -> bool:
    """Whether two Requires-Python values mean the same (``>=3.8,<4`` is ``<4, >=3.8``)."""
    if old is None or new is None:
        return old == new
    try:
        return SpecifierSet(old) == SpecifierSet(new)
    except InvalidSpecifier:
        return "".join(old.split()) == "".join(new.split())


def _same_version(actual: str, expected: str) -> bool:
    try:
        return Version(actual) == Version(expected)
    except InvalidVersion:
        return actual.strip() == expected.strip()


def _is_sdist(metadata: DistMetadata) -> bool:
    return not metadata.source.endswith(".dist-info/METADATA")


def _version_label(metadata: DistMetadata | None) -> str:
    if metadata is None:
        return "no baseline"
    return _one_line(metadata.version or "?", 50)


def _finding(rule: str, message: str, path: str, severity: Severity | None = None) -> Finding:
    return Finding(
        rule=rule,
        severity=severity or BEHAVIOUR_RULES[rule].severity,
        message=message,
        path=path,
    )


def _names(names: Iterable[str]) -> str:
    """Hosts or domains for a message: sorted, comma-separated, made safe."""
    return _one_line(", ".join(sorted(names))) or "none"


def _quote(text: str) -> str:
    """``text`` made safe for a message: one line, bounded, in quotes."""
    return repr(_one_line(text))


def _one_line(text: str, limit: int = _EVIDENCE_LIMIT) -> str:
    """``text`` on one line, without control or bidi characters, at most ``limit`` long."""
    # Clip before cleaning: the input may be megabytes, the output never is.
    flat = " ".join(_UNSAFE_CHARS.sub(" ", text[: limit * 4]).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
