"""Candidates from a hash-pinned requirements file: one per ``name==version --hash=...``."""

from __future__ import annotations

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from verify._resolve.requirements_model import RequirementLine, RequirementsFile, pin_problem
from verify.errors import InvalidInputError
from verify.models import Candidate

__all__ = ["hash_pinned_candidates"]


def hash_pinned_candidates(
    reqs: RequirementsFile, *, environment: dict[str, str] | None = None
) -> list[Candidate]:
    """One candidate per pinned requirement of a hash-pinned requirements file.

    Requirements whose environment marker is false for ``environment`` (by default the
    running interpreter) are skipped. A project named twice with the same version gets one
    candidate whose allowed digests are those both lines allow, as pip does.

    :raises InvalidInputError: the file is not :attr:`RequirementsFile.is_hash_pinned`, a
        project is pinned to two versions, or a marker cannot be evaluated.
    """
    if not reqs.lines:
        raise InvalidInputError(
            "no requirements to verify",
            path=reqs.path,
            hint="add `name==version --hash=sha256:...` lines (pip-compile --generate-hashes)",
        )
    pinned: list[tuple[RequirementLine, Requirement]] = []
    for line in reqs.lines:
        problem = pin_problem(line)
        if problem is not None or line.requirement is None:
            raise InvalidInputError(
                f"{line.raw!r} {problem}",
                path=line.location.path,
                line=line.location.line,
                hint="every line of a hash-pinned file must be `name==version "
                "--hash=sha256:...`; regenerate it with pip-compile --generate-hashes",
            )
        pinned.append((line, line.requirement))

    by_name: dict[NormalizedName, Candidate] = {}
    for line, requirement in pinned:
        if requirement.marker is not None and not _marker_applies(
            requirement.marker, environment, line
        ):
            continue
        name = canonicalize_name(requirement.name)
        version = _pinned_version(requirement, line)
        allowed = line.hashes["sha256"]
        previous = by_name.get(name)
        if previous is None:
            by_name[name] = Candidate(
                name=name,
                version=version,
                files=(),
                allowed_sha256=allowed,
                source=line.location,
                origin="requirements",
                requested=True,
                preselected=False,
            )
            continue
        if previous.version != version:
            raise InvalidInputError(
                f"{name} is pinned to {version} here but to {previous.version} "
                f"at {previous.source}",
                path=line.location.path,
                line=line.location.line,
                hint="keep one version of each project",
            )
        common = previous.allowed_sha256 & allowed
        if not common:
            raise InvalidInputError(
                f"{name}=={version} is listed again with none of the hashes of {previous.source}",
                path=line.location.path,
                line=line.location.line,
                hint="no file could satisfy both lines; keep one of them",
            )
        by_name[name] = Candidate(
            name=name,
            version=version,
            files=(),
            allowed_sha256=common,
            source=previous.source,
            origin="requirements",
            requested=True,
            preselected=False,
        )
    return list(by_name.values())


def _pinned_version(requirement: Requirement, line: RequirementLine) -> Version:
    (specifier,) = requirement.specifier
    try:
        return Version(specifier.version)
    except InvalidVersion:
        raise InvalidInputError(
            f"{specifier.version!r} in {line.raw!r} is not a valid version",
            path=line.location.path,
            line=line.location.line,
            hint="pin a PEP 440 version with ==",
        ) from None


def _marker_applies(
    marker: Marker, environment: dict[str, str] | None, line: RequirementLine
) -> bool:
    try:
        return marker.evaluate(environment)
    except (UndefinedComparison, UndefinedEnvironmentName) as exc:
        raise InvalidInputError(
            f"cannot evaluate the marker {str(marker)!r}: {exc}",
            path=line.location.path,
            line=line.location.line,
        ) from None
