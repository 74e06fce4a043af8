"""Lock file changes since a git ref: what a pull request adds, upgrades or removes.

``check --base REF`` reads each lock file as it is at ``REF`` (``git show``) and in the
working tree, and verifies only the packages that are new or changed (name, version, or
files and hashes). Each upgraded or downgraded package is then diffed against the version
it replaces, not only against the previous release on the index.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from verify._resolve.lockfiles import lock_kind
from verify.errors import UsageError
from verify.models import Candidate, ChangeKind, LockChange

__all__ = [
    "changed_lock_files",
    "compare_candidates",
    "read_at_ref",
]

#: How long one git command may take.
GIT_TIMEOUT = 60


def _git(args: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=GIT_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"--base needs git: {exc}", hint="run inside a git checkout") from exc


def _verify_ref(ref: str, cwd: Path) -> Path:
    """The repository's top directory, once ``ref`` is known to be a commit in it."""
    if ref.startswith("-"):
        raise UsageError(f"--base {ref!r} is not a git ref")
    top = _git(["rev-parse", "--show-toplevel"], cwd)
    if top.returncode != 0:
        raise UsageError(
            f"{cwd} is not inside a git checkout",
            hint="--base compares lock files with a git ref: run it in the repository",
        )
    done = _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd)
    if done.returncode != 0:
        raise UsageError(
            f"--base {ref!r} is not a commit in the git repository at {cwd}",
            hint="fetch it first (a shallow clone may lack the base commit: fetch-depth: 0)",
        )
    return Path(top.stdout.strip())


def changed_lock_files(ref: str, cwd: Path | None = None) -> list[Path]:
    """Lock files and requirements files changed between ``ref`` and the working tree."""
    where = cwd or Path.cwd()
    root = _verify_ref(ref, where)
    done = _git(["diff", "--name-only", "--no-renames", ref, "--"], root)
    if done.returncode != 0:
        raise UsageError(f"git diff against {ref!r} failed: {done.stderr.strip()}")
    found = []
    for line in done.stdout.splitlines():
        path = root / line
        name = path.name
        is_requirements = name.startswith("requirements") and name.endswith(".txt")
        if path.is_file() and (is_requirements or lock_kind(path) is not None):
            # Relative to where the command runs, when it can be: annotations and SARIF
            # locations must be repository paths to attach to a pull request's lines.
            try:
                found.append(path.relative_to(where.resolve()))
            except ValueError:
                found.append(path)
    return found


def read_at_ref(
    path: Path, ref: str, read: Callable[[Path], tuple[Candidate, ...]]
) -> tuple[Candidate, ...] | None:
    """The candidates of ``path`` as it was at ``ref`` (``None``: the file did not exist)."""
    where = path.resolve().parent
    _verify_ref(ref, where)
    done = _git(["show", f"{ref}:./{path.name}"], where)
    if done.returncode != 0:
        return None  # not in that commit: every package in it is new
    with tempfile.TemporaryDirectory(prefix="pip-verify-base-") as scratch:
        # Same name, so the lock format is recognised the same way; relative paths inside
        # the lock resolve against the scratch copy, which only matters for local files.
        copy = Path(scratch) / path.name
        copy.write_text(done.stdout, encoding="utf-8")
        return read(copy)


def _files(candidate: Candidate) -> frozenset[str]:
    digests = {digest for f in candidate.files for digest in f.hashes.values()}
    return frozenset(digests | set(candidate.allowed_sha256))


def compare_candidates(
    old: Sequence[Candidate] | None, new: Sequence[Candidate]
) -> tuple[list[Candidate], list[LockChange]]:
    """The candidates of ``new`` that need verifying, and every change from ``old``."""
    before = {c.name: c for c in old or ()}
    after = {c.name: c for c in new}
    todo: list[Candidate] = []
    changes: list[LockChange] = []
    for name, candidate in after.items():
        previous = before.get(name)
        if previous is None:
            kind = ChangeKind.ADDED
        elif candidate.version != previous.version:
            newer = (
                candidate.version is not None
                and previous.version is not None
                and candidate.version > previous.version
            )
            kind = ChangeKind.UPGRADED if newer else ChangeKind.DOWNGRADED
        elif _files(candidate) != _files(previous) or candidate.unverifiable != (
            previous.unverifiable
        ):
            kind = ChangeKind.CHANGED
        else:
            continue
        todo.append(candidate)
        changes.append(
            LockChange(
                name,
                kind,
                previous.version if previous else None,
                candidate.version,
                candidate.source,
            )
        )
    changes.extend(
        LockChange(name, ChangeKind.REMOVED, previous.version, None, previous.source)
        for name, previous in before.items()
        if name not in after
    )
    return todo, changes
