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

The parts: each archive's profiles in :mod:`~verify._behaviour.diff_side`, severities in
:mod:`~verify._behaviour.rating`, what the file set says on its own in
:mod:`~verify._behaviour.census_findings`; this module compares the two sides.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from verify._behaviour.census import check_record, diff_files, read_record
from verify._behaviour.census_findings import (
    census_findings,
    entropy_can_jump,
    old_entropy_matters,
)
from verify._behaviour.diff_side import Side
from verify._behaviour.links import rate_links
from verify._behaviour.metadata_diff import MetadataDiff, diff_metadata
from verify._behaviour.profile import SHAPED_KINDS
from verify._behaviour.profile_cache import ProfileCache
from verify._behaviour.rating import capability_finding, rate, rate_problem, rule_finding
from verify._behaviour.reach import reach_archive
from verify._behaviour.result import BehaviourDiff, DistFile
from verify._checks.typosquat import PopularNames
from verify._dist.archive import DEFAULT_LIMITS, Archive, ArchiveLimits, open_archive
from verify._dist.metadata import DistMetadata, archive_metadata
from verify._resolve.select import file_project, file_version
from verify._rules.severity import severity_at_least
from verify.errors import ArchiveError
from verify.models import Finding, Severity

__all__ = ["BehaviourDiff", "DistFile", "compare_sdist_and_wheel", "diff_distributions"]

#: Years of silence before a release that make the gap itself worth a note (ctx: 8 years).
GAP_YEARS = 2
#: Hosts no one needs to be told about.
_QUIET_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1"})  # noqa: S104


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


def _is_pure(filename: str) -> bool:
    return filename.endswith("-none-any.whl")


def _expected_name_version(filename: str) -> tuple[str | None, str | None]:
    base = filename.rsplit("/", 1)[-1]
    version, name = file_version(base), file_project(base)
    if version is None or name is None:
        return None, None
    return canonicalize_name(name), str(version)


def diff_distributions(
    new: DistFile,
    old: DistFile | None,
    *,
    baseline_reason: str | None = None,
    popular: PopularNames | None = None,
    limits: ArchiveLimits = DEFAULT_LIMITS,
    strict_baseline: bool = False,
    profiles: ProfileCache | None = None,
    named: bool = True,
) -> BehaviourDiff:
    """Compare ``new`` with its baseline ``old`` (``None``: analyse ``new`` alone).

    Raises :class:`~verify.errors.ArchiveError` when ``new`` cannot be read at all; a
    baseline that cannot be read is reported in ``baseline_reason`` and ``new`` is then
    analysed alone, unless ``strict_baseline`` (a baseline the user named) makes that an
    error too. With ``profiles``, a file analysed before (in any release) is not analysed
    again. ``named`` says ``new``'s file name is the one it is installed or published under,
    so a name that is no valid distribution file name is a finding (``filename-invalid``);
    two files compared as they are (``pip-verify diff OLD NEW``) may be called anything.
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
        return _diff(
            new,
            old if old_archive else None,
            new_archive,
            old_archive,
            reason,
            popular,
            profiles,
            named=named,
        )


def _diff(
    new: DistFile,
    old: DistFile | None,
    new_archive: Archive,
    old_archive: Archive | None,
    reason: str,
    popular: PopularNames | None,
    profiles: ProfileCache | None,
    *,
    named: bool,
) -> BehaviourDiff:
    findings: list[Finding] = []
    context: list[Finding] = []
    old_problems = {(f.rule, f.path) for f in old_archive.findings} if old_archive else set()
    for problem in rate_links(new_archive.findings, new_archive):
        (context if (problem.rule, problem.path) in old_problems else findings).append(problem)

    new_record, record_findings = read_record(new_archive)
    old_record = read_record(old_archive)[0] if old_archive else {}
    files = diff_files(old_archive, new_archive, old_record=old_record, new_record=new_record)

    new_meta, meta_problems = archive_metadata(new_archive)
    old_meta = archive_metadata(old_archive)[0] if old_archive else None
    name, version = _expected_name_version(new.filename)
    if named and name is None:
        findings.append(
            rule_finding(
                "filename-invalid",
                "no valid distribution file name: indexes refuse it and installers skip it on "
                "an index, but pip installs it from a path or a URL, named by its metadata",
                None,
            )
        )
    if new_meta is not None:
        metadata = diff_metadata(
            old_meta, new_meta, popular=popular, expected_name=name, expected_version=version
        )
    else:
        metadata = MetadataDiff((), ())
    findings.extend(meta_problems)
    findings.extend(metadata.findings)

    new_side = Side(new_archive, new_record, profiles)
    new_side.reach = reach_archive(new_archive, new_meta)
    old_side = Side(old_archive, old_record, profiles) if old_archive else None
    if old_side is not None and old_archive is not None:
        old_side.reach = reach_archive(old_archive, old_meta)
    # A changed file's entropy is compared when the new version is of a shaped kind; the old
    # version's is then measured, whatever its own kind, where the comparison can fire.
    changed = frozenset(files.changed)
    for path in (*files.added, *files.changed):
        shaped = SHAPED_KINDS if path in changed else frozenset()
        new_side.profile(path, keep=new_archive.format == "wheel", entropy=shaped)
    if old_side is not None:
        for path in (*files.changed, *files.removed):
            # Measured as it is first read where the new version already says it can matter;
            # a jump of the longest line shows only once the old version is read (below).
            after = new_side.profiles.get(path)
            old_side.profile(path, entropy=after is not None and entropy_can_jump(after))
        for path in files.changed:
            before, after = old_side.profiles.get(path), new_side.profiles.get(path)
            if (
                before is not None
                and after is not None
                and after.kind in SHAPED_KINDS
                and old_entropy_matters(before, after)
            ):
                old_side.profile(path, entropy=True)
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
                rate(c, has_baseline=True, role=new_side.rated_role(c.path)), Severity.MEDIUM
            )
            for c in fresh
        )
    ):
        # Something new looks serious: read the files both sides share to learn whether the
        # package already did the same elsewhere (then it is context, not news).
        shared = Side(new_archive, new_record, profiles)
        shared.reach, shared.calls = new_side.reach, new_side.calls
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
                context.append(capability_finding(capability, Severity.LOW))
            continue
        severity = rate(
            capability, has_baseline=has_baseline, role=new_side.rated_role(capability.path)
        )
        findings.append(capability_finding(capability, severity))

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
                findings.append(rate_problem(problem, new_side.rated_role(path)))

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
                    rule_finding(
                        "new-endpoint",
                        f"names {host}, a host the project did not use before",
                        path,
                    )
                )

    findings.extend(census_findings(new_side, old_side, files, pure=_is_pure(new.filename)))
    if (
        old is not None
        and old.upload_time is not None
        and new.upload_time is not None
        and (new.upload_time - old.upload_time).days >= GAP_YEARS * 365
    ):
        years = (new.upload_time - old.upload_time).days / 365.25
        findings.append(
            rule_finding(
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
        rule_finding(
            "sdist-wheel-mismatch",
            f"{wheel.name} ships {len(missing)} module(s) that {sdist.name} does not have: {shown}",
            missing[0],
        ),
    )
