"""What changed between two releases' core metadata, and which changes are risky.

:func:`diff_metadata` compares a release's metadata (read by :mod:`verify._dist.metadata`) with
its baseline's, field by field, and turns the changes an attacker makes when taking over a
project (a new dependency, a console script named ``sudo``, the maintainers' email domain, the
home page moved elsewhere, an in-tree build backend) into findings. Text copied into messages
goes through :func:`~verify._dist.metadata.excerpt`, so it cannot forge report lines.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import Final, TypeAlias
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from verify._behaviour.entry_points import entry_point_risk
from verify._behaviour.result import MetadataChange, MetadataDiff
from verify._checks.typosquat import PopularNames, typosquat_suspicion
from verify._dist.metadata import DistMetadata, excerpt
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify.models import Finding, Severity

__all__ = ["MetadataChange", "MetadataDiff", "diff_metadata"]

# Change values are data for the report, so they may be longer, but still bounded.
_VALUE_LIMIT: Final = 1000

_LABEL_NOISE: Final = str.maketrans("", "", string.punctuation + string.whitespace)

# A keyed item in a diff: what decides whether it changed, and how the change shows it.
_Item: TypeAlias = tuple[object, str]


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
                None if old is None else excerpt(old, _VALUE_LIMIT),
                None if new is None else excerpt(new, _VALUE_LIMIT),
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
            severity, why = entry_point_risk(group, name, value, own)
            # Without a baseline every entry point is "new": only the risky ones are news.
            if self.old is None and severity is Severity.LOW:
                continue
            self.finding(
                "entry-point-added",
                f"new entry point [{excerpt(group)}] {_quote(f'{name} = {value}')}{why}: "
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
    return excerpt(metadata.version or "?", 50)


def _finding(rule: str, message: str, path: str, severity: Severity | None = None) -> Finding:
    return Finding(
        rule=rule,
        severity=severity or BEHAVIOUR_RULES[rule].severity,
        message=message,
        path=path,
    )


def _names(names: Iterable[str]) -> str:
    """Hosts or domains for a message: sorted, comma-separated, made safe."""
    return excerpt(", ".join(sorted(names))) or "none"


def _quote(text: str) -> str:
    """``text`` made safe for a message: one line, bounded, in quotes."""
    return repr(excerpt(text))
