"""``pip-verify fix``: the nearest passing lock, written for a hashed requirements file or a
``pylock.toml``; for the locks uv, Poetry and Pipenv own, the commands that make the change."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verify._cli.check import (
    NO_INPUTS_OR_TARGET,
    add_index_arguments,
    add_verification_arguments,
)

if TYPE_CHECKING:
    from verify.fix import FixOutcome, Guardrails

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``fix`` subcommand."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "fix",
        help="find the nearest releases that pass and rewrite the lock with them",
        description="For every package the policy denies or that has a known vulnerability, "
        "try the releases after the pinned one, smallest upgrade first (patch, minor, then "
        "major, within --allow), verify each with its dependencies, and rewrite the lock with "
        "the first that passes (every file's sha256 from the index). The rewritten lock is "
        "verified in full before it is written. For uv.lock, poetry.lock and Pipfile.lock, "
        "which their tools own, print the commands that make the change instead. The "
        "guardrails (the policy's [fix] table, overridden by the options below): the largest "
        "update, a cooldown, the index the package is pinned to, its publisher, and no "
        "downgrade unless allowed; never a pre-release. In GitHub Actions, what changes (a "
        "diff of the lock, or the commands) is also appended to the job summary.",
    )
    parser.add_argument(
        "lock",
        type=Path,
        metavar="LOCK",
        help="a hashed requirements file or pylock.toml (rewritten), or uv.lock, poetry.lock "
        "or Pipfile.lock (their tool's commands printed)",
    )
    guardrails = parser.add_argument_group(
        "guardrails",
        "Each overrides the policy's [fix] table for this run (see docs/policy.md).",
    )
    guardrails.add_argument(
        "--allow",
        choices=("patch", "minor", "major"),
        help="the largest update allowed (default: the policy's; minor in the embedded one)",
    )
    guardrails.add_argument(
        "--cooldown-days",
        type=_days,
        metavar="N",
        help="never a release younger than N days, 0 for none (default: the policy's; unset "
        "there, the release-age rule's min-age)",
    )
    guardrails.add_argument(
        "--same-index",
        action=argparse.BooleanOptionalAction,
        help="only releases from the index the package is pinned to (default: the policy's; "
        "on in the embedded one)",
    )
    guardrails.add_argument(
        "--same-publisher",
        action=argparse.BooleanOptionalAction,
        help="only releases from the pinned release's or the trust store's publisher "
        "(default: the policy's; on in the embedded one)",
    )
    guardrails.add_argument(
        "--allow-downgrade",
        action=argparse.BooleanOptionalAction,
        help="when no upgrade passes, the nearest downgrade that does (default: the policy's; "
        "off in the embedded one)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would change; write nothing"
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="for uv.lock, poetry.lock or Pipfile.lock: run the printed commands (the tool "
        "must be on PATH) in the lock's directory, then check the new lock; put the files "
        "back when it does not pass",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write the fixed lock here (default: over LOCK)",
    )
    output.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="write the fixed lock under DIR, at LOCK's relative path (never over LOCK)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )
    add_index_arguments(parser)
    add_verification_arguments(parser)
    parser.set_defaults(handler=run, quiet=False, **NO_INPUTS_OR_TARGET)


def run(args: argparse.Namespace) -> int:
    """Fix the lock and say what changed."""
    import dataclasses

    from verify._cli.check import settings_from_args
    from verify._resolve.lockfiles import lock_kind
    from verify.fix import FixSettings, UpdateKind, fixed_lock_path, run_fix
    from verify.settings import InputSettings

    inputs = (
        InputSettings(lock_files=(args.lock,))
        if lock_kind(args.lock) is not None
        else InputSettings(requirement_files=(args.lock,))
    )
    check = dataclasses.replace(settings_from_args(args), inputs=inputs)
    tool = None
    if args.apply:
        from verify._cli.fix_apply import tool_for

        tool = tool_for(args)
    output = args.output
    if args.output_dir is not None:
        output = fixed_lock_path(args.output_dir, args.lock)
    settings = FixSettings(
        check=check,
        allow=UpdateKind(args.allow) if args.allow else None,
        cooldown_days=args.cooldown_days,
        same_index=args.same_index,
        same_publisher=args.same_publisher,
        downgrade=args.allow_downgrade,
        output=output,
        dry_run=args.dry_run,
    )
    outcome = run_fix(settings)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if os.environ.get("GITHUB_ACTIONS") == "true" and summary:
        from verify._cli.fix_summary import append_fix_summary

        allow = outcome.guardrails.allow.value
        append_fix_summary(outcome, args.lock.as_posix(), allow, Path(summary))
    applied = None
    if tool is not None and outcome.commands and outcome.fixed:
        from verify._cli.fix_apply import apply_fix

        applied = apply_fix(outcome, settings, args.lock, tool, os.environ)
    if args.format == "json":
        data = _as_data(outcome)
        if tool is not None:
            from verify._cli.fix_apply import applied_data

            data["applied"] = applied_data(applied) if applied is not None else None
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(_as_text(outcome, args.lock, applying=tool is not None))
        if applied is not None:
            from verify._cli.fix_apply import applied_text

            sys.stdout.write(applied_text(applied, args.lock))
        elif tool is not None and outcome.changes:
            sys.stdout.write("pip-verify fix --apply: nothing run, not every package passes\n")
    if outcome.report.incomplete:
        return 3
    if applied is not None:
        return applied.exit_code
    return 0 if outcome.fixed else 1


def _days(text: str) -> int:
    """A whole number of days, 0 or more (``--cooldown-days``)."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days (0 or more)")
    return int(text)


def _as_data(outcome: FixOutcome) -> dict[str, Any]:
    from verify.policy.describe import cooldown_days

    guardrails = outcome.guardrails
    return {
        "settings": {
            "allow": guardrails.allow.value,
            "cooldown-days": guardrails.cooldown_days,
            "same-index": guardrails.same_index,
            "same-publisher": guardrails.same_publisher,
            "downgrade": guardrails.downgrade,
            "set-by": dict(guardrails.set_by),
        },
        "changes": [
            {
                "name": c.name,
                "from": str(c.old),
                "to": str(c.new) if c.new is not None else None,
                "downgrade": c.downgrade,
                "why": c.why,
                "index": c.index,
                "cooldown-days": cooldown_days(c.cooldown),
                "publisher": c.publisher,
                "blocked": c.blocked,
                "tried": [{"version": v, "reason": r} for v, r in c.tried],
            }
            for c in outcome.changes
        ],
        "dependencies": [
            {
                "name": d.name,
                "from": str(d.old) if d.old is not None else None,
                "to": str(d.new),
                "for": c.name,
                "needed-by": d.needed_by,
                "requirement": d.requirement,
            }
            for c in outcome.changes
            for d in c.dependencies
        ],
        "decision": outcome.report.decision.value,
        "written": str(outcome.written) if outcome.written else None,
        "commands": list(outcome.commands),
    }


def _as_text(outcome: FixOutcome, lock: Path, *, applying: bool = False) -> str:
    from verify._format.untrusted import one_line
    from verify._resolve.lock_commands import LOCK_TOOLS
    from verify._resolve.lockfiles import LockKind, lock_kind

    if not outcome.changes:
        return "pip-verify fix: nothing to fix; every package passes\n"
    lines = []
    for change in outcome.changes:
        if change.new is not None:
            how = "downgrade; " if change.downgrade else ""
            lines.append(
                f"{change.name}: {change.old} -> {change.new} ({how}was: {one_line(change.why)})"
            )
        elif change.blocked is not None:
            lines.append(f"{change.name}: {change.old} kept: {one_line(change.blocked)}")
        else:
            limits = _limits(outcome.guardrails, change.cooldown)
            lines.append(
                f"{change.name}: {change.old} kept, no release within the limits passes ({limits})"
            )
        lines += [f"  {version}: {one_line(reason)}" for version, reason in change.tried]
        if change.publisher is not None:
            lines.append(f"  publisher: {one_line(change.publisher)}")
    lines += _dependencies_text(outcome)
    verdict = outcome.report.decision.value
    kind = lock_kind(lock)
    if outcome.commands and kind is not None:
        lines.append(f"pip-verify fix: {LOCK_TOOLS[kind]} owns {lock.name}; make the change with:")
        lines += [f"  {command}" for command in outcome.commands]
        if kind is LockKind.POETRY:
            lines.append(
                "(poetry add writes each pin into pyproject.toml; relax it once the lock checks)"
            )
        if not applying:
            lines.append(f"then check the new lock: pip-verify check {lock}")
    elif outcome.written is not None:
        lines.append(f"pip-verify fix: wrote {outcome.written}; the fixed lock checks {verdict}")
    else:
        lines.append(f"pip-verify fix: nothing written; the fixed lock checks {verdict}")
    return "\n".join(lines) + "\n"


def _dependencies_text(outcome: FixOutcome) -> list[str]:
    """What the new releases add to the lock or move in it, apart from what fix was asked to
    fix, each with what needs it."""
    from verify._format.untrusted import one_line

    lines = []
    for change in outcome.changes:
        for dep in change.dependencies:
            what = f"added {dep.name} {dep.new}"
            if dep.old is not None:
                what = f"moved {dep.name} {dep.old} -> {dep.new}"
            if dep.needed_by:
                what += f", needed by {one_line(dep.needed_by)}"
                what += f" (Requires-Dist: {one_line(dep.requirement)})"
            lines.append(f"  {what}")
    return ["dependencies the new releases need:", *lines] if lines else []


def _limits(guardrails: Guardrails, cooldown: int) -> str:
    """The guardrails a package's search kept, in a few words."""
    from verify._verifier.rules.age import span

    return ", ".join(
        [
            f"allow {guardrails.allow.value}",
            f"cooldown {span(cooldown)}" if cooldown > 0 else "no cooldown",
            "same index" if guardrails.same_index else "any index",
            "same publisher" if guardrails.same_publisher else "any publisher",
            "downgrades allowed" if guardrails.downgrade else "no downgrade",
        ]
    )
