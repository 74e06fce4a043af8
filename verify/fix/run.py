"""Running ``pip-verify fix`` (see :mod:`verify.fix` for what it does and why)."""

from __future__ import annotations

import dataclasses
import difflib
import tempfile
from collections.abc import Sequence
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from verify._index.client import IndexClient
from verify._index.urls import normalize_index_url, redact
from verify._resolve.lock_commands import lock_commands
from verify._resolve.lockfields import LockKind
from verify._resolve.lockfiles import lock_kind
from verify._resolve.pylock import read_pylock
from verify._resolve.pylock_write import (
    PylockEdit,
    PylockEntry,
    confirm_edits,
    find_entry,
    release_files,
    rewrite,
)
from verify._resolve.requirements import read_requirements
from verify._resolve.select import file_version
from verify.check import (
    CheckSettings,
    gather_candidates,
    index_settings,
    network_session,
    run_check,
)
from verify.errors import UsageError
from verify.fix.model import FixChange, FixOutcome, FixSettings, UpdateKind
from verify.models import Decision, IndexFile, PackageResult, Report
from verify.policy import Policy
from verify.settings import InputSettings

__all__ = ["fixed_lock_path", "lock_diff", "run_fix"]

#: Rules whose firing makes a package need a fix even when the policy only warns.
_VULNERABLE = ("vulnerability", "known-malicious")
#: A candidate release must not fire these either, whatever the policy decides: a fix never
#: moves to a release younger than the cooldown.
_CANDIDATE_GUARDS = (*_VULNERABLE, "release-age")


def run_fix(settings: FixSettings, *, policy: Policy | None = None) -> FixOutcome:
    """Find and write the nearest passing lock (see :mod:`verify.fix`).

    Raises :class:`~verify.errors.UsageError` unless the input is one hashed requirements file
    or one lock file, and :class:`~verify.errors.InvalidInputError` when a ``pylock.toml``
    entry cannot be rewritten faithfully (nothing is written then).
    """
    path, kind = _lock_input(settings.check)
    report = run_check(settings.check, policy=policy)
    broken = [(p, p.version) for p in report.packages if _needs_fix(p) and p.version is not None]
    # A pylock.toml is rewritten byte for byte outside its changes: CRLF line ends included.
    text = path.read_bytes().decode("utf-8") if kind else path.read_text(encoding="utf-8")
    original = text
    if not broken:
        return FixOutcome((), text, report, original=original)
    gathered = gather_candidates(settings.check)
    indexes = index_settings(settings.check, gathered)
    changes = []
    edits: list[PylockEdit] = []
    with network_session(settings.check.network) as session:
        client = IndexClient(session, indexes.urls)
        for package, version in broken:
            entry = None
            if kind is LockKind.PYLOCK:
                line = package.source.line if package.source is not None else None
                entry = find_entry(text, path, package.name, version, line)
            change, files = _fix_one(settings, client, package, version, policy, entry)
            changes.append(change)
            if change.new is None:
                continue
            if entry is not None:
                edits.append(PylockEdit(entry, change.new, files))
            elif kind is None:
                hashes = sorted({f.hashes["sha256"] for f in files})
                text = _repin(text, path, package.name, change.new, hashes)
    if edits:
        text = rewrite(text, path, edits)
    if not any(c.new is not None for c in changes):
        return FixOutcome(tuple(changes), text, report, original=original)
    if kind is not None and kind is not LockKind.PYLOCK:
        # The tool owns the file: say how to make the change with it; the user runs it and
        # checks the new lock.
        moves = [(c.name, c.old, c.new) for c in changes if c.new is not None]
        commands = lock_commands(kind, text, path, moves)
        return FixOutcome(tuple(changes), text, report, commands=commands, original=original)
    final = _check_rewritten(settings, policy, path, text, edits)
    outcome = FixOutcome(tuple(changes), text, final, original=original)
    if settings.dry_run or final.decision is Decision.DENY or final.incomplete:
        return outcome
    target = settings.output or path
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind is None:
        target.write_text(text, encoding="utf-8")
    else:
        target.write_bytes(text.encode("utf-8"))
    return dataclasses.replace(outcome, written=target)


def lock_diff(outcome: FixOutcome, path: str) -> str:
    """The change ``fix`` made to the lock at ``path`` as a unified diff in git's form
    (``a/PATH`` to ``b/PATH``, so ``git apply`` takes it from the repository's root); empty
    when the text did not change (nothing to fix, or a lock its tool changes)."""
    if outcome.lock_text == outcome.original:
        return ""
    lines = difflib.unified_diff(
        outcome.original.splitlines(),
        outcome.lock_text.splitlines(),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
        lineterm="",
    )
    return "\n".join(lines) + "\n"


def fixed_lock_path(directory: Path, lock: Path) -> Path:
    """Where the fixed copy of ``lock`` goes under ``directory``: at the lock's relative path
    (so that the directory mirrors the repository), or by its name alone when the path is
    absolute or climbs out with ``..``; a usage error when that is the lock itself."""
    relative = not lock.is_absolute() and ".." not in lock.parts and lock.name != ""
    target = directory / (lock if relative else Path(lock.name))
    if target.resolve() == lock.resolve():
        raise UsageError(
            f"the fixed lock would be written over {lock}",
            hint="pass an output directory other than the lock's own tree",
        )
    return target


def _check_rewritten(
    settings: FixSettings, policy: Policy | None, path: Path, text: str, edits: list[PylockEdit]
) -> Report:
    """The check of the rewritten lock, from a scratch copy; a ``pylock.toml`` is first read
    back with pip-verify's own reader, which must find every edit as it was meant."""
    with tempfile.TemporaryDirectory(prefix="pip-verify-fix-") as scratch:
        candidate = Path(scratch) / path.name
        candidate.write_bytes(text.encode("utf-8"))
        if edits:
            confirm_edits(read_pylock(candidate), edits, path)
            check = _with_inputs(settings.check, lock_files=(candidate,))
        else:
            check = _with_inputs(settings.check, requirement_files=(candidate,))
        return run_check(check, policy=policy)


def _lock_input(check: CheckSettings) -> tuple[Path, LockKind | None]:
    """The one lock ``fix`` works on: a hashed requirements file (kind ``None``) or a lock
    file; a usage error for anything else."""
    inputs = check.inputs
    if inputs.requirements or inputs.dist_files or inputs.constraint_files:
        raise UsageError("pip-verify fix takes one lock file")
    if len(inputs.lock_files) == 1 and not inputs.requirement_files:
        path = inputs.lock_files[0]
        kind = lock_kind(path)
        if kind is None:
            raise UsageError(
                f"{path} is not a lock file pip-verify knows",
                hint="pass a hashed requirements file, pylock.toml, uv.lock, poetry.lock or "
                "Pipfile.lock",
            )
        return path, kind
    files = inputs.requirement_files
    if len(files) != 1 or inputs.lock_files:
        raise UsageError(
            "pip-verify fix takes one lock file",
            hint="a hashed requirements file, pylock.toml, uv.lock, poetry.lock or Pipfile.lock",
        )
    if not read_requirements(files[0]).is_hash_pinned:
        raise UsageError(
            f"{files[0]} is not pinned with hashes (name==version --hash=sha256:...)",
            hint="pip-verify fix rewrites a hashed lock; pin it first (pip-compile "
            "--generate-hashes, uv pip compile --generate-hashes)",
        )
    return files[0], None


def _needs_fix(package: PackageResult, rules: tuple[str, ...] = _VULNERABLE) -> bool:
    if package.decision is Decision.DENY:
        return True
    return any(
        r.rule in rules and r.decision is not Decision.ALLOW and not r.unchecked
        for r in package.reasons
    )


def _fix_one(
    settings: FixSettings,
    client: IndexClient,
    package: PackageResult,
    current: Version,
    policy: Policy | None,
    entry: PylockEntry | None = None,
) -> tuple[FixChange, tuple[IndexFile, ...]]:
    """The nearest release of ``package`` that passes, and its files on the index (for a
    ``pylock.toml`` ``entry``: the files that replace the entry's, and only releases that
    have files of each kind the entry has)."""
    why = "; ".join(
        f"[{r.rule}] {r.message}" for r in package.reasons if r.decision is not Decision.ALLOW
    )
    index_url = _index_of(client, entry)
    page = client.page(index_url, package.name) if index_url else None
    by_version: dict[Version, list[IndexFile]] = {}
    for file in page.files if page is not None else ():
        version = file_version(file.filename)
        if version is not None and file.hashes.get("sha256") and not file.yanked:
            by_version.setdefault(version, []).append(file)
    tried: list[tuple[str, str]] = []
    for version in _candidates(current, by_version, settings.allow):
        files: tuple[IndexFile, ...] | str = tuple(by_version[version])
        if entry is not None:
            files = release_files(entry, by_version[version])
        if isinstance(files, str):
            tried.append((str(version), files))
            continue
        check = _with_inputs(settings.check, requirements=(f"{package.name}=={version}",))
        report = run_check(check, policy=policy)
        result = next((p for p in report.packages if p.name == package.name), None)
        failing = [p for p in report.packages if _needs_fix(p, _CANDIDATE_GUARDS)]
        if result is not None and not failing and not report.incomplete:
            return FixChange(package.name, current, version, why, tuple(tried)), files
        first = failing[0] if failing else result
        reason = "verification did not complete"
        if first is not None:
            reason = next(
                (
                    f"{first.name} {first.version}: [{r.rule}] {r.message}"
                    for r in first.reasons
                    if r.decision is not Decision.ALLOW
                ),
                reason,
            )
        tried.append((str(version), reason))
    return FixChange(package.name, current, None, why, tuple(tried)), ()


def _index_of(client: IndexClient, entry: PylockEntry | None) -> str | None:
    """The index whose releases are tried: the lock entry's own, which must be one this run
    consults (never another index than the lock's), else the first configured one."""
    if entry is None or entry.index is None:
        return next(iter(client.index_urls), None)
    index = normalize_index_url(entry.index)
    if index not in client.index_urls:
        raise UsageError(
            f"{entry.name}'s entry in the lock names the index {redact(index)}, which this run "
            "does not consult",
            hint=f"pass --index-url {redact(index)} (or --extra-index-url)",
        )
    return index


def _candidates(
    current: Version, available: dict[Version, list[IndexFile]], allow: UpdateKind
) -> list[Version]:
    """Releases after ``current`` within ``allow``, smallest update first."""

    def kind(version: Version) -> int:
        if version.release[:1] != current.release[:1]:
            return 2
        if version.release[:2] != current.release[:2]:
            return 1
        return 0

    limit = {UpdateKind.PATCH: 0, UpdateKind.MINOR: 1, UpdateKind.MAJOR: 2}[allow]
    newer = [v for v in available if v > current and not v.is_prerelease and kind(v) <= limit]
    return sorted(newer, key=lambda v: (kind(v), v))


def _with_inputs(check: CheckSettings, **inputs: object) -> CheckSettings:
    return dataclasses.replace(check, inputs=InputSettings(**inputs))  # type: ignore[arg-type]


def _repin(
    text: str, path: Path, name: NormalizedName, version: Version, hashes: Sequence[str]
) -> str:
    """``text`` with ``name``'s requirement pinned to ``version`` with ``hashes``; the rest of
    the file (comments, order, other lines) as it was."""
    lines = text.splitlines(keepends=True)
    for line in read_requirements(path).lines:
        requirement = line.requirement
        if requirement is None or Path(line.location.path).resolve() != path.resolve():
            continue
        if canonicalize_name(requirement.name) != name or line.location.line is None:
            continue
        start = line.location.line - 1
        end = start
        while end < len(lines) and lines[end].rstrip("\r\n").endswith("\\"):
            end += 1
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f" ; {requirement.marker}" if requirement.marker else ""
        pinned = f"{requirement.name}{extras}=={version}{marker}"
        body = " \\\n".join([pinned, *(f"    --hash=sha256:{h}" for h in hashes)]) + "\n"
        return "".join([*lines[:start], body, *lines[end + 1 :]])
    raise UsageError(f"cannot find {name}'s line in {path} to rewrite")
