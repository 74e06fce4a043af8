"""``pip-verify fix --apply``: run the commands that make ``fix``'s changes to a lock its tool
owns (uv, Poetry, Pipenv), then hold the lock they write to what ``fix`` verified
(:func:`verify.fix.check_applied`).

Before ``fix`` starts, the tool must be on PATH and ``--apply`` must make sense (not with
``--dry-run`` or an output option, only for those locks). The commands run in the lock's
directory, one by one, never through a shell, with the tool's path as found then, and without
the environment's index settings (:func:`~verify._resolve.lock_commands.tool_environment`);
uv is given the index the lock uses. When a command fails, or the new lock is not what ``fix``
verified or does not pass, the lock and the project files the tools write are put back as they
were: ``--apply`` leaves a lock that checks clean, or the files as it found them.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify._format.untrusted import one_line
from verify._index.urls import redact
from verify._resolve.lock_commands import (
    LOCK_EXECUTABLES,
    LOCK_TOOLS,
    apply_commands,
    lock_registry,
    tool_environment,
)
from verify._resolve.lockfields import LockKind
from verify._resolve.lockfiles import lock_kind
from verify.errors import UsageError
from verify.fix import AppliedCheck, check_applied
from verify.models import Decision

if TYPE_CHECKING:
    from verify.fix import FixOutcome, FixSettings

__all__ = ["Applied", "applied_data", "applied_text", "apply_fix", "tool_for"]

#: The project files the tools write besides the lock (Poetry's ``add`` pins into
#: ``pyproject.toml``), put back with it.
_PROJECT_FILES = ("pyproject.toml", "Pipfile")
#: Lines of a failed command's output shown.
_TAIL = 5


def tool_for(args: argparse.Namespace) -> tuple[str, LockKind]:
    """The path of the tool ``fix --apply`` will run for ``args.lock``, and the lock's kind; a
    usage error when ``--apply`` does not fit the other options or the lock, or the tool is
    not on PATH."""
    lock: Path = args.lock
    if args.dry_run:
        raise UsageError(
            "--apply runs the tool's commands and --dry-run changes nothing: pass one of them"
        )
    if args.output is not None or args.output_dir is not None:
        raise UsageError(
            f"--apply changes {lock} in place with its tool; -o and --output-dir do not apply"
        )
    kind = lock_kind(lock)
    if kind is None or kind not in LOCK_TOOLS:
        raise UsageError(
            f"--apply runs the commands of a lock its tool owns (uv.lock, poetry.lock, "
            f"Pipfile.lock); fix rewrites {lock.name} itself",
            hint="drop --apply",
        )
    if lock.is_file():
        lock_registry(kind, lock.read_text(encoding="utf-8"), lock)  # one index, or a usage error
    executable = LOCK_EXECUTABLES[kind]
    found = shutil.which(executable)
    if found is None:
        raise UsageError(
            f"--apply needs {executable} on PATH to change {lock.name}, and there is none",
            hint=f"install {LOCK_TOOLS[kind]}, or run the printed commands yourself",
        )
    return found, kind


@dataclass(frozen=True, slots=True)
class Applied:
    """What ``--apply`` ran, and what came of it."""

    commands: tuple[tuple[str, ...], ...]
    directory: Path
    #: The check of the new lock; ``None`` when a command failed.
    check: AppliedCheck | None = None
    #: The command that failed and its last lines of output, if one did.
    error: str | None = None
    #: The files put back as they were.
    restored: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """3 when a command failed or the check could not complete, 1 when the new lock is
        not what fix verified or is denied, 0 when it checks clean."""
        if self.check is None or self.check.report.incomplete:
            return 3
        return 0 if self.check.passes else 1


def apply_fix(
    outcome: FixOutcome,
    settings: FixSettings,
    lock: Path,
    tool: tuple[str, LockKind],
    environ: Mapping[str, str],
) -> Applied:
    """Run ``outcome``'s commands for ``lock`` with ``tool`` (its path and the lock's kind, as
    :func:`tool_for` gives them) in ``environ`` less its index settings, then check the lock
    they wrote."""
    executable, kind = tool
    moves = [(c.name, c.old, c.new) for c in outcome.changes if c.new is not None]
    commands = apply_commands(kind, outcome.lock_text, lock, moves)
    directory = lock.parent
    saved = _snapshot(lock)
    env = tool_environment(environ)
    try:
        for command in commands:
            error = _run(command, executable, directory, env)
            if error is not None:
                return Applied(commands, directory, error=error, restored=_restore(saved))
        check = check_applied(settings, outcome, lock)
    except BaseException:
        _restore(saved)
        raise
    restored = () if check.passes else _restore(saved)
    return Applied(commands, directory, check=check, restored=restored)


def _run(command: tuple[str, ...], tool: str, directory: Path, env: dict[str, str]) -> str | None:
    """Run one command (no shell); ``None``, or what failed with the end of its output."""
    done = subprocess.run(
        [tool, *command[1:]],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )
    if done.returncode == 0:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()[-_TAIL:]
    said = "".join(f"\n    {one_line(line)}" for line in lines)
    return f"{_shown(command)} exited {done.returncode}{said}"


def _snapshot(lock: Path) -> dict[Path, bytes]:
    paths = [lock, *(lock.parent / name for name in _PROJECT_FILES)]
    return {path: path.read_bytes() for path in paths if path.is_file()}


def _restore(saved: Mapping[Path, bytes]) -> tuple[str, ...]:
    """Write back every saved file the commands changed; their names."""
    restored = []
    for path, data in saved.items():
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            restored.append(path.name)
    return tuple(restored)


def _shown(command: tuple[str, ...]) -> str:
    """A command as a line to read (an index URL's password, were there one, hidden)."""
    return shlex.join(redact(arg) if "://" in arg else arg for arg in command)


def applied_text(applied: Applied, lock: Path) -> str:
    """What ``--apply`` ran and what came of it, as text."""
    where = applied.directory.as_posix()
    lines = [f"pip-verify fix --apply: in {where}, without the environment's index settings:"]
    lines += [f"  $ {one_line(_shown(command))}" for command in applied.commands]
    put_back = f"; put back as they were: {', '.join(applied.restored)}" if applied.restored else ""
    check = applied.check
    if check is None:
        lines.append(f"pip-verify fix --apply: {applied.error}")
        kept = put_back.removeprefix("; ") if put_back else f"{lock.name} is not changed"
        lines.append(f"pip-verify fix --apply: {kept}")
        return "\n".join(lines) + "\n"
    lines += [f"  also changed: {one_line(change)}" for change in check.also]
    lines += [f"  not as verified: {one_line(problem)}" for problem in check.problems]
    for package in check.report.packages:
        if package.decision is Decision.DENY:
            reason = next((r for r in package.reasons if r.decision is Decision.DENY), None)
            said = f" [{reason.rule}] {reason.message}" if reason is not None else ""
            lines.append(f"  deny {package.name} {package.version}{one_line(said)}")
    verdict = check.report.decision.value
    if check.passes:
        lines.append(f"pip-verify fix --apply: the new {lock.name} checks {verdict}")
    else:
        lines.append(
            f"pip-verify fix --apply: the new {lock.name} does not pass (it checks {verdict})"
            f"{put_back}"
        )
    return "\n".join(lines) + "\n"


def applied_data(applied: Applied) -> dict[str, Any]:
    """What ``--apply`` ran and what came of it, for ``--format json``."""
    check = applied.check
    return {
        "commands": [list(command) for command in applied.commands],
        "directory": str(applied.directory),
        "error": applied.error,
        "passed": check is not None and check.passes,
        "decision": check.report.decision.value if check is not None else None,
        "problems": list(check.problems) if check is not None else [],
        "also-changed": list(check.also) if check is not None else [],
        "restored": list(applied.restored),
    }
