"""The behaviour diff: what a release adds compared with its baseline, rated by what is new.

A compromised release is nearly always a benign package plus a small addition, so the
verdict's input is the *difference*: a capability the baseline already had is context
(reported as low), the same capability newly added is a finding at its full severity, one
step higher when it runs at import, start-up or install time. Network hosts are judged
against the hosts the project already named and its own project URLs. Without a baseline
(a first release, a typosquat, a first upload) everything counts as new, but only patterns
that are malicious on their own keep a high rating; generic capabilities stay at medium.

Only the files that differ are read: for wheels, RECORD tells which (see ``census``). Files
the two sides share are analysed only when a new finding needs the context, to tell whether
the package already did the same thing elsewhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from packaging.utils import canonicalize_name

from verify._behaviour.capabilities import is_setup_script, profile_file
from verify._behaviour.census import (
    NATIVE_SUFFIXES,
    FileDiff,
    RecordEntry,
    check_record,
    diff_files,
    digest_as_recorded,
    language_of,
    read_record,
)
from verify._behaviour.explain import explain, explain_rule
from verify._behaviour.metadata_diff import MetadataDiff, diff_metadata
from verify._behaviour.model import Capability, FileProfile, Phase
from verify._behaviour.reach import Reach, Role, reach_archive
from verify._checks.typosquat import PopularNames
from verify._dist.archive import DEFAULT_LIMITS, Archive, ArchiveLimits, open_archive
from verify._dist.metadata import DistMetadata, read_metadata
from verify._resolve.select import file_version
from verify._rules.behaviour import BEHAVIOUR_RULES
from verify._rules.severity import SEVERITY_ORDER, raise_severity, severity_at_least
from verify.errors import ArchiveError
from verify.models import Finding, Severity

__all__ = ["BehaviourDiff", "DistFile", "compare_sdist_and_wheel", "diff_distributions"]

#: A new file at least this large, and this many times the largest file of the baseline,
#: is a size outlier: the 10 MB blob in a 50 KB package.
OUTLIER_MIN_SIZE = 1024 * 1024
OUTLIER_FACTOR = 10
#: Files of a language the baseline did not ship count once they add up to this much.
NEW_LANGUAGE_MIN_SIZE = 64 * 1024
#: Years of silence before a release that make the gap itself worth a note (ctx: 8 years).
GAP_YEARS = 2
#: Dot-directories that sdists commonly carry and that are never installed.
_KNOWN_DOT_DIRS = frozenset(
    {".github", ".gitlab", ".circleci", ".devcontainer", ".vscode", ".idea", ".git"}
)
#: Capabilities whose rule already says when they run: the phase adds no weight.
_PHASE_RULES = frozenset({"pth-exec", "install-hook", "import-time-thread", "monkey-patch"})
#: Credential stores that ordinary tools read for their own configuration (requests reads
#: ~/.netrc, twine ~/.pypirc, the Docker and Kubernetes clients theirs): a new read of one
#: is worth a look, not a verdict, unless it is sent somewhere (``exfiltration``).
_TOOL_CREDENTIALS = frozenset(
    {"~/.netrc", "~/.pypirc", "~/.docker/config.json", "~/.kube/config", "~/.npmrc", "~/.pgpass"}
)
#: Actions that, taken at install, start-up or import time, are a verdict on their own.
_ACTIONS = frozenset({"process-spawn", "network-access", "download-exec", "decode-exec"})
#: Actions that, taken while pip installs or at start-up, are a verdict on their own: code
#: run or imported by a name computed then (on import they are also how plugins load).
_INSTALL_ACTIONS = frozenset({"dynamic-exec", "dynamic-import"})
#: Hosts no one needs to be told about.
_QUIET_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1"})  # noqa: S104


@dataclass(frozen=True, slots=True)
class DistFile:
    """A distribution file on disk, by the name it is published under."""

    path: Path
    filename: str
    upload_time: datetime | None = None


@dataclass(frozen=True, slots=True)
class BehaviourDiff:
    """What one file adds compared with its baseline."""

    filename: str
    #: The baseline's filename, or ``None`` (``baseline: none``).
    baseline: str | None
    baseline_reason: str
    files: FileDiff
    metadata: MetadataDiff
    #: New behaviour, at full severity: the verdict's input.
    findings: tuple[Finding, ...]
    #: Behaviour the baseline already had (rated low): context for a reader.
    context: tuple[Finding, ...] = ()
    analysed_files: int = 0
    analysed_bytes: int = 0
    #: Files found unchanged and never read.
    skipped_files: int = 0
    new_hosts: tuple[str, ...] = field(default_factory=tuple)


def _finding(
    rule: str, message: str, path: str | None, *, severity: Severity | None = None
) -> Finding:
    return Finding(
        rule,
        severity or BEHAVIOUR_RULES[rule].severity,
        message,
        path=path,
        why=explain_rule(rule),
    )


def _capability_finding(capability: Capability, severity: Severity) -> Finding:
    where = {
        Phase.INSTALL: " at install time",
        Phase.STARTUP: " at interpreter start-up",
        Phase.IMPORT: " at import time",
        Phase.RUNTIME: "",
    }[capability.phase]
    message = capability.message
    if where and capability.rule not in _PHASE_RULES and where.strip() not in message:
        message += where
    return Finding(
        capability.rule,
        severity,
        message,
        path=capability.path,
        line=capability.line,
        snippet=capability.snippet,
        why=explain(capability),
    )


class _Side:
    """One archive and the profiles of the files read from it."""

    def __init__(self, archive: Archive, record: dict[str, RecordEntry]) -> None:
        self.archive = archive
        self.record = record
        self.profiles: dict[str, FileProfile] = {}
        #: The RECORD-style digest of each file read, for the RECORD check (the bytes themselves
        #: are not kept: a wheel of many large files would hold them all at once).
        self.read_digests: dict[str, str | None] = {}
        self.errors: list[Finding] = []
        #: What each file does when the distribution is installed (``None``: all installed).
        self.reach: Reach | None = None

    def profile(self, path: str, *, keep: bool = False) -> FileProfile | None:
        if path in self.profiles:
            return self.profiles[path]
        try:
            data = self.archive.read(path)
        except ArchiveError as exc:
            self.errors.append(_finding("archive-bomb", str(exc), path))
            return None
        if keep:
            self.read_digests[path] = digest_as_recorded(self.record.get(path), data)
        role = self.role(path)
        profile = profile_file(
            path,
            data,
            # setup.py runs whole; other build-time modules are imported by the build.
            loads_at_install=role is Role.INSTALL and not is_setup_script(path),
        )
        self.profiles[path] = profile
        return profile

    def role(self, path: str) -> Role:
        return self.reach.role(path) if self.reach is not None else Role.INSTALLED

    def rated_role(self, path: str) -> Role:
        """The role a finding in ``path`` is rated by: :meth:`role`, except that ``setup.py``
        is never inert. A PEP 517 backend other than setuptools does not run it, but
        ``python setup.py install`` and older installers do, and that is whom it targets."""
        if is_setup_script(path):
            return Role.INSTALL
        return self.role(path)

    def capabilities(self) -> Iterable[Capability]:
        for profile in self.profiles.values():
            yield from profile.capabilities

    def hosts(self) -> set[str]:
        return {host for profile in self.profiles.values() for host in profile.hosts}


def _project_hosts(*metadata: DistMetadata | None) -> set[str]:
    hosts = set()
    for meta in metadata:
        if meta is None:
            continue
        for url in meta.project_urls.values():
            host = url.partition("://")[2].split("/", 1)[0].split("@")[-1].split(":")[0].lower()
            if host:
                hosts.add(host.removeprefix("www."))
    return hosts


def _host_known(host: str, known: set[str]) -> bool:
    bare = host.removeprefix("www.")
    # A subdomain of a known host (docs.project.example under project.example) is known.
    return bare in known or any(bare.endswith("." + k) for k in known)


def _read_metadata(archive: Archive) -> tuple[DistMetadata | None, tuple[Finding, ...]]:
    return read_metadata([m.path for m in archive.files()], archive.read)


def _in_tests(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return any(p in ("tests", "test", "testing") for p in parts[:-1]) or (
        name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    )


def _rate(capability: Capability, *, has_baseline: bool, role: Role = Role.INSTALLED) -> Severity:
    """A capability's severity from what it is, when it runs, and how it hides.

    Generic capabilities (a process, a connection) are judged by when they run: an action
    taken at install time, at interpreter start-up or on import runs for everyone who
    installs the package, before anyone calls anything, and is rated high even without a
    baseline, unless it is a build tool run in plain sight. Hiding it (a hidden window, an
    encoded command, output thrown away) makes it critical. Without a baseline, other generic
    capabilities stay at medium: a first release has to do something.
    """
    severity = capability.severity
    if capability.rule == "credential-read" and capability.key in _TOOL_CREDENTIALS:
        severity = Severity.MEDIUM
    if role is Role.INERT:
        # Shipped but neither installed nor run by installing (an sdist's tests, docs, CI
        # files): what it does runs only if someone runs it by hand. One step lower, and
        # generic capabilities two; never below medium for what is malicious on its own.
        steps = -1 if capability.specific else -2
        lowered = raise_severity(severity, steps)
        floor = Severity.MEDIUM if capability.specific else Severity.INFO
        return max(lowered, floor, key=SEVERITY_ORDER.index)
    early = capability.phase is not Phase.RUNTIME
    if early and capability.rule not in _PHASE_RULES:
        severity = raise_severity(severity)
    if not capability.specific and role is not Role.INSTALL and _in_tests(capability.path):
        # Test suites shipped in a package run only when someone runs them; what they do
        # generically (spawn, connect, name odd hosts) is one step less telling.
        severity = raise_severity(severity, -1)
        early = False
    if not has_baseline and not capability.specific:
        severity = raise_severity(severity, 0, cap=Severity.MEDIUM)
    if capability.rule in _ACTIONS and not capability.routine:
        if early:
            floor = Severity.CRITICAL if capability.concealed else Severity.HIGH
            severity = max(severity, floor, key=SEVERITY_ORDER.index)
        elif capability.concealed:
            # Hidden, but only when called: worth a look, never nothing.
            severity = max(severity, Severity.MEDIUM, key=SEVERITY_ORDER.index)
    if (
        capability.rule in _INSTALL_ACTIONS
        and early
        and capability.phase in (Phase.INSTALL, Phase.STARTUP)
    ):
        severity = max(severity, Severity.HIGH, key=SEVERITY_ORDER.index)
    return severity


def _rate_problem(problem: Finding, role: Role) -> Finding:
    """A problem with reading a file, rated by whether the file runs.

    Code the parser cannot read hides what it does from the analysis: in a file that runs
    when the package is built or imported, that is itself reason to stop (the text scan that
    replaces the parse can miss what a parse would have shown).
    """
    if problem.rule != "unparsable-source" or problem.path is None or role is Role.INERT:
        return problem
    severity = Severity.HIGH
    if role is not Role.INSTALL and _in_tests(problem.path):
        severity = Severity.MEDIUM
    return dataclasses.replace(
        problem, severity=max(severity, problem.severity, key=SEVERITY_ORDER.index)
    )


def _census(new: _Side, old: _Side | None, files: FileDiff, *, pure: bool) -> list[Finding]:
    findings: list[Finding] = []
    archive = new.archive
    sizes = {m.path: m.size for m in archive.files()}
    old_paths = [m.path for m in old.archive.files()] if old else []
    old_dirs = {posixpath.dirname(p) for p in old_paths}
    # Natives the baseline shipped, by name: extension modules and other binaries apart.
    old_extensions = any(p.endswith((".so", ".pyd")) for p in old_paths)
    old_binaries = (
        any(
            (old.profiles.get(p) is not None and old.profiles[p].kind == "native")
            or p.endswith((".dll", ".dylib", ".exe"))
            for p in old_paths
        )
        if old
        else False
    )
    new_dirs_seen: set[str] = set()
    for path in files.added:
        directory = posixpath.dirname(path)
        if directory and directory not in old_dirs:
            odd = _odd_component(directory, sdist=archive.format != "wheel")
            if odd and odd not in new_dirs_seen:
                new_dirs_seen.add(odd)
                findings.append(
                    _finding(
                        "hidden-directory",
                        f"new directory {odd!r}" + ("" if old else " (no baseline)"),
                        path,
                    )
                )
        profile = new.profiles.get(path)
        is_native = (profile is not None and profile.kind == "native") or path.endswith(
            (*NATIVE_SUFFIXES, ".exe")
        )
        if not is_native:
            continue
        extension = path.endswith((".so", ".pyd")) or ".cpython-" in path
        if extension and not old_extensions and (old is not None or pure):
            findings.append(
                _finding(
                    "native-extension-added",
                    f"native extension {posixpath.basename(path)} in a "
                    + ("pure-Python wheel" if pure else "package that had none"),
                    path,
                )
            )
        elif not extension and not old_binaries:
            findings.append(
                _finding(
                    "binary-added",
                    f"bundled executable {posixpath.basename(path)} ({sizes.get(path, 0):,} "
                    "bytes) in a package that had none",
                    path,
                )
            )
    if old is None:
        return findings
    largest_before = max((m.size for m in old.archive.files()), default=0)
    for path in (*files.added, *files.changed):
        size = sizes.get(path, 0)
        if size >= OUTLIER_MIN_SIZE and size > OUTLIER_FACTOR * max(largest_before, 1):
            findings.append(
                _finding(
                    "size-outlier",
                    f"{path} is {size:,} bytes; the largest file before was "
                    f"{largest_before:,} bytes",
                    path,
                )
            )
    old_languages = {language_of(p) for p in old_paths}
    added_by_language: dict[str, list[str]] = {}
    for path in files.added:
        language = language_of(path)
        if language and language not in ("python", "native") and language not in old_languages:
            added_by_language.setdefault(language, []).append(path)
    for language, paths in added_by_language.items():
        total = sum(sizes.get(p, 0) for p in paths)
        if total >= NEW_LANGUAGE_MIN_SIZE:
            biggest = max(paths, key=lambda p: sizes.get(p, 0))
            findings.append(
                _finding(
                    "new-language",
                    f"{len(paths)} new {language} file(s), {total:,} bytes, in a package that "
                    f"shipped no {language} before (largest: {biggest})",
                    biggest,
                )
            )
    for path in files.changed:
        before, after = old.profiles.get(path), new.profiles.get(path)
        if before is None or after is None or after.kind not in ("python", "javascript", "shell"):
            continue
        entropy_jump = after.entropy - before.entropy > 1.0 and after.entropy > 5.0
        line_jump = after.max_line >= 2000 and after.max_line > 4 * max(before.max_line, 1)
        if entropy_jump or line_jump:
            findings.append(
                _finding(
                    "profile-jump",
                    f"{path}: entropy {before.entropy:.1f} -> {after.entropy:.1f} bits/byte, "
                    f"longest line {before.max_line:,} -> {after.max_line:,} characters",
                    path,
                )
            )
    return findings


def _odd_component(directory: str, *, sdist: bool) -> str | None:
    for part in directory.split("/"):
        if part.startswith(".") and not (sdist and part in _KNOWN_DOT_DIRS):
            return part
        if any(not (ch.isascii() and ch.isprintable()) or ch.isspace() for ch in part):
            return part
    return None


def _is_pure(filename: str) -> bool:
    return filename.endswith("-none-any.whl")


def _expected_name_version(filename: str) -> tuple[str | None, str | None]:
    version = file_version(filename)
    if version is None:
        return None, None
    stem = filename.rsplit("/", 1)[-1]
    name = stem.split("-", 1)[0]
    return canonicalize_name(name), str(version)


def diff_distributions(
    new: DistFile,
    old: DistFile | None,
    *,
    baseline_reason: str | None = None,
    popular: PopularNames | None = None,
    limits: ArchiveLimits = DEFAULT_LIMITS,
    strict_baseline: bool = False,
) -> BehaviourDiff:
    """Compare ``new`` with its baseline ``old`` (``None``: analyse ``new`` alone).

    Raises :class:`~verify.errors.ArchiveError` when ``new`` cannot be read at all; a
    baseline that cannot be read is reported in ``baseline_reason`` and ``new`` is then
    analysed alone, unless ``strict_baseline`` (a baseline the user named) makes that an
    error too.
    """
    with contextlib.ExitStack() as stack:
        new_archive = stack.enter_context(open_archive(new.path, limits=limits))
        old_archive: Archive | None = None
        reason = baseline_reason or (f"compared with {old.filename}" if old else "none")
        if old is not None:
            try:
                old_archive = stack.enter_context(open_archive(old.path, limits=limits))
            except ArchiveError as exc:
                if strict_baseline:
                    raise
                reason = f"none: the baseline {old.filename} cannot be read ({exc})"
        return _diff(new, old if old_archive else None, new_archive, old_archive, reason, popular)


def _diff(
    new: DistFile,
    old: DistFile | None,
    new_archive: Archive,
    old_archive: Archive | None,
    reason: str,
    popular: PopularNames | None,
) -> BehaviourDiff:
    findings: list[Finding] = []
    context: list[Finding] = []
    old_problems = {(f.rule, f.path) for f in old_archive.findings} if old_archive else set()
    for problem in new_archive.findings:
        (context if (problem.rule, problem.path) in old_problems else findings).append(problem)

    new_record, record_findings = read_record(new_archive)
    old_record = read_record(old_archive)[0] if old_archive else {}
    files = diff_files(old_archive, new_archive, old_record=old_record, new_record=new_record)

    new_meta, meta_problems = _read_metadata(new_archive)
    old_meta = _read_metadata(old_archive)[0] if old_archive else None
    name, version = _expected_name_version(new.filename)
    if new_meta is not None:
        metadata = diff_metadata(
            old_meta, new_meta, popular=popular, expected_name=name, expected_version=version
        )
    else:
        metadata = MetadataDiff((), ())
    findings.extend(meta_problems)
    findings.extend(metadata.findings)

    new_side = _Side(new_archive, new_record)
    new_side.reach = reach_archive(new_archive, new_meta)
    old_side = _Side(old_archive, old_record) if old_archive else None
    if old_side is not None and old_archive is not None:
        old_side.reach = reach_archive(old_archive, old_meta)
    for path in (*files.added, *files.changed):
        new_side.profile(path, keep=new_archive.format == "wheel")
    if old_side is not None:
        for path in (*files.changed, *files.removed):
            old_side.profile(path)
    findings.extend(new_side.errors)
    findings.extend(record_findings)
    findings.extend(check_record(new_archive, new_record, new_side.read_digests.items()))

    has_baseline = old_side is not None
    known = {(c.rule, c.key) for c in old_side.capabilities()} if old_side else set()
    known_hosts = old_side.hosts() if old_side else set()
    fresh = [c for c in new_side.capabilities() if (c.rule, c.key) not in known]
    skipped = len(files.unchanged)
    if (
        has_baseline
        and files.unchanged
        and any(
            severity_at_least(
                _rate(c, has_baseline=True, role=new_side.rated_role(c.path)), Severity.MEDIUM
            )
            for c in fresh
        )
    ):
        # Something new looks serious: read the files both sides share to learn whether the
        # package already did the same elsewhere (then it is context, not news).
        shared = _Side(new_archive, new_record)
        shared.reach = new_side.reach
        for path in files.unchanged:
            shared.profile(path)
        known |= {(c.rule, c.key) for c in shared.capabilities()}
        known_hosts |= shared.hosts()
        fresh = [c for c in fresh if (c.rule, c.key) not in known]
        skipped = 0
        new_side.profiles.update(shared.profiles)

    seen: set[tuple[str, str]] = set()
    for capability in new_side.capabilities():
        identity = (capability.rule, capability.key)
        if identity in known:
            if identity not in seen:
                seen.add(identity)
                context.append(_capability_finding(capability, Severity.LOW))
            continue
        severity = _rate(
            capability, has_baseline=has_baseline, role=new_side.rated_role(capability.path)
        )
        findings.append(_capability_finding(capability, severity))

    for path in (*files.added, *files.changed):
        profile = new_side.profiles.get(path)
        if profile is None:
            continue
        before = old_side.profiles.get(path) if old_side is not None else None
        already = {f.rule for f in before.findings} if before is not None else set()
        for problem in profile.findings:
            if problem.rule in already:
                context.append(dataclasses.replace(problem, severity=Severity.LOW))
            else:
                findings.append(_rate_problem(problem, new_side.rated_role(path)))

    project_hosts = _project_hosts(new_meta, old_meta)
    new_hosts: list[str] = []
    if has_baseline:
        known_all = {h.removeprefix("www.") for h in known_hosts} | project_hosts
        for path, profile in new_side.profiles.items():
            if path not in files.added and path not in files.changed:
                continue
            for host in sorted(profile.hosts):
                if host in _QUIET_HOSTS or host in new_hosts or _host_known(host, known_all):
                    continue
                new_hosts.append(host)
                findings.append(
                    _finding(
                        "new-endpoint",
                        f"names {host}, a host the project did not use before",
                        path,
                    )
                )

    findings.extend(_census(new_side, old_side, files, pure=_is_pure(new.filename)))
    if (
        old is not None
        and old.upload_time is not None
        and new.upload_time is not None
        and (new.upload_time - old.upload_time).days >= GAP_YEARS * 365
    ):
        years = (new.upload_time - old.upload_time).days / 365.25
        findings.append(
            _finding(
                "release-gap",
                f"{years:.1f} years after {old.filename}: long-dormant projects are taken over",
                None,
            )
        )
    analysed = list(new_side.profiles.values())
    return BehaviourDiff(
        filename=new.filename,
        baseline=old.filename if old else None,
        baseline_reason=reason,
        files=files,
        metadata=metadata,
        findings=tuple(_ordered(findings)),
        context=tuple(context),
        analysed_files=len(analysed),
        analysed_bytes=sum(p.size for p in analysed),
        skipped_files=skipped,
        new_hosts=tuple(new_hosts),
    )


_RANK = {s: i for i, s in enumerate(Severity)}


def _ordered(findings: Sequence[Finding]) -> list[Finding]:
    unique = list(dict.fromkeys(findings))
    return sorted(unique, key=lambda f: (-_RANK[f.severity], f.path or "", f.line or 0))


def compare_sdist_and_wheel(sdist: Path, wheel: Path) -> tuple[Finding, ...]:
    """Python modules a release's wheel ships that its sdist does not have.

    A wheel is built from its sdist; a module only the wheel has came from somewhere else
    (a poisoned build, or a wheel uploaded apart from its source). Paths are matched by
    suffix, so ``src/`` layouts and other roots match.
    """
    with open_archive(sdist) as source, open_archive(wheel) as built:
        # Every tail of every sdist path: "src/pkg/mod.py" also answers for "pkg/mod.py".
        tails: set[str] = set()
        for member in source.files():
            parts = member.path.split("/")
            tails.update("/".join(parts[i:]) for i in range(len(parts)))
        missing = [
            m.path
            for m in built.files()
            if m.path.endswith(".py")
            and not m.path.split("/", 1)[0].endswith((".dist-info", ".data"))
            and m.path not in tails
        ]
    if not missing:
        return ()
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return (
        _finding(
            "sdist-wheel-mismatch",
            f"{wheel.name} ships {len(missing)} module(s) that {sdist.name} does not have: {shown}",
            missing[0],
        ),
    )
