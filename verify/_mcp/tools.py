"""What ``pip-verify mcp`` offers a coding agent, as plain functions that return data: check
packages, explain a release's findings, suggest the project a name probably meant, and install
exactly the verified bytes.

Every function runs under the settings the server was started with: the same policy file as
the command line, which no argument can loosen. Requirements are taken only as named
requirements (``requests``, ``flask>=3``): no paths, URLs or pip options, which would let an
agent install what the index does not serve.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from verify._checks.resemblance import closest_popular, popular_compound
from verify._checks.typosquat import PopularNames, typosquat_suspicion
from verify.check import CheckSettings, run_check
from verify.errors import VerifyError
from verify.install import InstallSettings, run_install, target_environment
from verify.models import Decision, PackageResult, Report
from verify.settings import InputSettings

__all__ = ["MAX_REQUIREMENTS", "NEXT_STEP", "AgentTools"]

#: Requirements one call may name: an agent adds a few at a time.
MAX_REQUIREMENTS = 50

#: What an agent should do after each kind of answer.
NEXT_STEP = {
    "allow": "Allowed: install these packages with the install tool (or pip-verify install).",
    "warn": "Allowed with warnings: read them; install only if they are acceptable.",
    "deny": (
        "Denied: do not install these packages and do not work around the denial. Ask a human "
        "to review the reasons, or, for an unknown or look-alike name, use the suggest tool "
        "and pick the established project it meant."
    ),
    "could-not-verify": (
        "Verification could not finish, so nothing may be installed. Report the error to a "
        "human; do not install the packages another way."
    ),
}


@dataclass(frozen=True, slots=True)
class AgentTools:
    """The tools, over ``settings`` (the server's indexes, policy, caches and network);
    ``python`` is the environment :meth:`install` installs into unless a call names one."""

    settings: CheckSettings
    python: str | None = None

    def check_packages(
        self, requirements: Sequence[str], index_url: str | None = None
    ) -> dict[str, Any]:
        """The decision on ``requirements`` and every package they resolve to, with reasons."""
        try:
            report = run_check(self._settings(requirements, index_url))
        except VerifyError as exc:
            return _failed(exc)
        return _decided(report)

    def explain(self, package: str, version: str) -> dict[str, Any]:
        """One release's findings with their evidence (file, line, code), its behaviour diff
        against the release before it, and its provenance."""
        try:
            requirement = _requirement(f"{package}=={version}")
            report = run_check(self._settings([requirement], None))
        except VerifyError as exc:
            return _failed(exc)
        name = canonicalize_name(package)
        found = [p for p in report.packages if p.name == name]
        if not found:
            return _failed_text(f"{package} {version} was not among the packages checked")
        result = _package(found[0])
        result["findings"] = [
            {
                "rule": f.rule,
                "severity": f.severity.value,
                "message": f.message,
                "path": f.path,
                "line": f.line,
                "code": f.snippet,
                "why": f.why,
            }
            for f in found[0].findings
        ]
        result["behaviour"] = [
            {"baseline": b.baseline, "reason": b.reason} for b in found[0].behaviour
        ]
        provenance = found[0].provenance
        result["provenance"] = {
            "status": provenance.status.value,
            "publisher": dict(provenance.publisher) if provenance.publisher else None,
            "reason": provenance.reason,
        }
        result["next_step"] = NEXT_STEP[found[0].decision.value]
        return result

    def suggest(self, name: str) -> dict[str, Any]:
        """The established projects ``name`` most likely stands for, and why it resembles
        them; from the shipped popularity list, without asking any service."""
        try:
            requirement = Requirement(name)
        except InvalidRequirement:
            return _failed_text(f"not a project name: {name[:100]!r}")
        norm = canonicalize_name(requirement.name)
        popular = PopularNames.load()
        rank = popular.rank(norm)
        suspicion = typosquat_suspicion(norm, popular=popular)
        compound = popular_compound(norm, popular=popular)
        resembles = [s.message for s in (suspicion,) if s is not None and s.rank is not None]
        resembles += [f"{norm} is {compound.message}"] if compound is not None else []
        return {
            "name": norm,
            "popular": rank is not None,
            "rank": rank,
            "suggestions": [] if rank is not None else closest_popular(norm, popular=popular),
            "resembles": resembles,
            "next_step": (
                f"{norm} is itself an established project (#{rank} most downloaded)."
                if rank is not None
                else "Use one of the suggestions if it is what was meant; otherwise ask a "
                "human before adding an unknown or young project."
            ),
        }

    def install(self, requirements: Sequence[str], python: str | None = None) -> dict[str, Any]:
        """Verify ``requirements`` and install exactly the verified files into ``python``'s
        environment; a denial installs nothing and says why."""
        environment = target_environment(python or self.python)
        try:
            check = self._settings(requirements, None)
            resolution = dataclasses.replace(
                check.resolution, ignore_installed=False, environment=environment
            )
            outcome = run_install(
                InstallSettings(
                    check=dataclasses.replace(check, resolution=resolution), python=environment
                )
            )
        except VerifyError as exc:
            return _failed(exc) | {"installed": []}
        result = _decided(outcome.report)
        result["python"] = outcome.python
        result["installed"] = list(outcome.installed)
        result["skipped"] = outcome.skipped
        return result

    def _settings(self, requirements: Sequence[str], index_url: str | None) -> CheckSettings:
        if isinstance(requirements, str):
            requirements = [requirements]
        if not requirements:
            raise _usage("name at least one requirement, e.g. 'requests' or 'flask>=3'")
        if len(requirements) > MAX_REQUIREMENTS:
            raise _usage(f"at most {MAX_REQUIREMENTS} requirements per call")
        checked = tuple(_requirement(text) for text in requirements)
        resolution = self.settings.resolution
        if index_url:
            resolution = dataclasses.replace(resolution, index_url=index_url)
        return dataclasses.replace(
            self.settings, inputs=InputSettings(requirements=checked), resolution=resolution
        )


def _requirement(text: str) -> str:
    """``text`` if it is a named requirement (no URL, path or option)."""
    stripped = text.strip()
    try:
        requirement = Requirement(stripped)
    except InvalidRequirement as exc:
        raise _usage(f"not a named requirement: {stripped[:100]!r} ({exc})") from None
    if requirement.url:
        raise _usage(f"{requirement.name}: a URL requirement has no index to verify it against")
    return stripped


def _usage(message: str) -> VerifyError:
    from verify.errors import UsageError

    return UsageError(message)


def _package(package: PackageResult) -> dict[str, Any]:
    return {
        "name": package.name,
        "version": str(package.version) if package.version is not None else None,
        "decision": package.decision.value,
        "requested": package.requested,
        "reasons": [
            {
                "rule": reason.rule,
                "decision": reason.decision.value,
                "message": reason.message,
                "unchecked": reason.unchecked,
            }
            for reason in package.reasons
        ],
    }


def _decided(report: Report) -> dict[str, Any]:
    decision = "could-not-verify" if report.incomplete else report.decision.value
    denied = [p.name for p in report.packages if p.decision is Decision.DENY]
    return {
        "decision": decision,
        "summary": (
            f"{len(report.packages)} package(s) checked; denied: {', '.join(denied)}"
            if denied
            else f"{len(report.packages)} package(s) checked; none denied"
        ),
        "packages": [_package(p) for p in report.packages],
        "errors": [error.message for error in report.errors],
        "next_step": NEXT_STEP[decision],
    }


def _failed(exc: VerifyError) -> dict[str, Any]:
    return _failed_text(exc.one_line())


def _failed_text(message: str) -> dict[str, Any]:
    return {
        "decision": "could-not-verify",
        "error": message,
        "packages": [],
        "next_step": NEXT_STEP["could-not-verify"],
    }
