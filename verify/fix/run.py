"""Running ``pip-verify fix`` (see :mod:`verify.fix` for what it does and why)."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from packaging.utils import NormalizedName
from packaging.version import Version

from verify._index.client import IndexClient
from verify._resolve.lock_commands import lock_commands
from verify._resolve.lockfields import LockKind
from verify._resolve.lockfiles import lock_kind, read_lock
from verify._resolve.pylock import read_pylock
from verify._resolve.pylock_write import PylockEdit, confirm_edits, find_entry, rewrite
from verify._resolve.requirements import read_requirements
from verify.check import (
    CheckSettings,
    gather_candidates,
    index_settings,
    network_session,
    run_check,
)
from verify.errors import UsageError
from verify.fix.guardrails import resolve_guardrails
from verify.fix.model import FixOutcome, FixSettings
from verify.fix.requirements_edit import Pin, apply_pins
from verify.fix.search import Search, needs_fix
from verify.models import Decision, Report
from verify.policy import Policy, load_policy
from verify.settings import InputSettings
from verify.trust_store import TrustStore

__all__ = ["fixed_lock_path", "lock_diff", "run_fix"]


def run_fix(settings: FixSettings, *, policy: Policy | None = None) -> FixOutcome:
    """Find and write the nearest passing lock (see :mod:`verify.fix`).

    Raises :class:`~verify.errors.UsageError` unless the input is one hashed requirements file
    or one lock file, and :class:`~verify.errors.InvalidInputError` when a ``pylock.toml``
    entry cannot be rewritten faithfully (nothing is written then).
    """
    path, kind = _lock_input(settings.check)
    policy = policy or load_policy(settings.check.verification.policy_path)
    guardrails = resolve_guardrails(settings, policy)
    report = run_check(settings.check, policy=policy)
    broken = [(p, p.version) for p in report.packages if needs_fix(p) and p.version is not None]
    # A pylock.toml is rewritten byte for byte outside its changes: CRLF line ends included.
    text = path.read_bytes().decode("utf-8") if kind else path.read_text(encoding="utf-8")
    original = text
    done = functools.partial(FixOutcome, original=original, guardrails=guardrails)
    if not broken:
        return done((), text, report)
    gathered = gather_candidates(settings.check)
    indexes = index_settings(settings.check, gathered)
    locked = _lock_indexes(path, kind)
    # Loaded after the check of the lock, which may have recorded a first-seen publisher.
    store_path = settings.check.verification.trust_store
    store = TrustStore.load(store_path) if store_path is not None else None
    changes = []
    edits: list[PylockEdit] = []
    pins: list[Pin] = []
    with network_session(settings.check.network) as session:
        client = IndexClient(session, indexes.urls)
        search = Search(settings, guardrails, policy, client, store, datetime.now(timezone.utc))
        if kind is None or kind is LockKind.PYLOCK:
            # A requirements file gets the dependencies a new release needs (issue 17); a
            # pylock.toml not yet, so a release that needs any is not taken there.
            search = dataclasses.replace(
                search,
                pins={p.name: p.version for p in report.packages if p.version is not None},
                unpinned=frozenset(package.name for package, _ in broken),
                locked={p.name: p for p in report.packages},
                adds=kind is None,
            )
        for package, version in broken:
            entry = None
            lock_index = locked.get((package.name, version))
            if kind is LockKind.PYLOCK:
                line = package.source.line if package.source is not None else None
                entry = find_entry(text, path, package.name, version, line)
                lock_index = entry.index
            change, files = search.nearest(package, version, entry, lock_index)
            changes.append(change)
            if change.new is None:
                continue
            if entry is not None:
                edits.append(PylockEdit(entry, change.new, files))
            elif kind is None:
                pins += [Pin(d.name, d.new, d.hashes, add=True) for d in change.dependencies]
                hashes = tuple(sorted({f.hashes["sha256"] for f in files}))
                pins.append(Pin(package.name, change.new, hashes))
    if edits:
        text = rewrite(text, path, edits)
    if pins:
        text = apply_pins(text, path, pins)
    if not any(c.new is not None for c in changes):
        return done(tuple(changes), text, report)
    if kind is not None and kind is not LockKind.PYLOCK:
        # The tool owns the file: say how to make the change with it; the user runs it (or
        # fix --apply does) and checks the new lock.
        moves = [(c.name, c.old, c.new) for c in changes if c.new is not None]
        commands = lock_commands(kind, text, path, moves)
        return done(tuple(changes), text, report, commands=commands)
    final = _check_rewritten(settings, policy, path, text, edits)
    outcome = done(tuple(changes), text, final)
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


def _lock_indexes(
    path: Path, kind: LockKind | None
) -> dict[tuple[NormalizedName, Version | None], str | None]:
    """The index a lock file names for each package (a requirements file names none)."""
    if kind is None:
        return {}
    candidates = (package.candidate for package in read_lock(path))
    return {(c.name, c.version): c.index_url for c in candidates}


def _with_inputs(check: CheckSettings, **inputs: object) -> CheckSettings:
    return dataclasses.replace(check, inputs=InputSettings(**inputs))  # type: ignore[arg-type]
