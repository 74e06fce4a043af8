"""Resolve loose requirements with pip's own resolver (``pip install --dry-run --report``).

pip decides what would be installed, exactly as it would for ``pip install``; pip-verify then
fetches and checks the files pip chose. By default pip may only use wheels while resolving
(``--only-binary=:all:``), because building an sdist to learn its dependencies runs its code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from verify._index.urls import redact
from verify._resolve.pip_local import check_local_files, direct_flags
from verify._resolve.pip_request import PipResolveRequest
from verify.errors import InvalidInputError, ResolutionError, UsageError
from verify.models import Candidate, LockedFile

__all__ = [
    "PipResolveRequest",
    "Resolution",
    "parse_hash_mismatches",
    "parse_report",
    "resolve_with_pip",
]

#: How long pip may take to resolve before we give up.
RESOLVE_TIMEOUT = 15 * 60


@dataclass(frozen=True, slots=True)
class Resolution:
    """What pip's resolver produced."""

    candidates: tuple[Candidate, ...]
    #: Set when pip stopped before resolving everything (it met a file whose bytes did not
    #: match the index's digest); ``candidates`` then holds the files pip refused.
    stopped: str | None = None


def _check_requirements(requirements: Sequence[str]) -> None:
    for text in requirements:
        try:
            Requirement(text)
        except InvalidRequirement as exc:
            raise InvalidInputError(
                f"invalid requirement {text!r}: {exc}",
                hint="use the PEP 508 form, e.g. 'requests>=2.31' or 'flask[async]==3.1.0'",
            ) from exc


def pip_command(request: PipResolveRequest, report: Path, python: str) -> list[str]:
    """The ``pip install --dry-run`` command line for ``request``."""
    resolution = request.resolution
    command = [python, "-m", "pip"]
    if resolution.environment:
        command += ["--python", resolution.environment]
    command += [
        "install",
        "--dry-run",
        *(["--ignore-installed"] if resolution.ignore_installed else []),
        *(["--upgrade"] if resolution.upgrade else []),
        *resolution.install_options,
        "--quiet",
        "--no-input",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "--report",
        str(report),
    ]
    if not resolution.allow_source_builds:
        command.append("--only-binary=:all:")
    if resolution.no_index:
        command.append("--no-index")
    if resolution.index_url:
        command += ["--index-url", resolution.index_url]
    for url in resolution.extra_index_urls:
        command += ["--extra-index-url", url]
    for location in resolution.find_links:
        command += ["--find-links", location]
    if resolution.pre:
        command.append("--pre")
    if request.timeout is not None:
        command += ["--timeout", f"{request.timeout:g}"]
    if request.retries is not None:
        # With no retry at all pip does not even log why a connection failed.
        command += ["--retries", str(max(1, request.retries))]
    command += resolution.target.pip_args()
    for path in request.requirement_files:
        command += ["--requirement", str(path)]
    for path in request.constraint_files:
        command += ["--constraint", str(path)]
    command += list(request.requirements)
    return command


def resolve_with_pip(
    request: PipResolveRequest,
    *,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Resolution:
    """Run pip's resolver and return one candidate per package pip would install.

    Raises :class:`~verify.errors.ResolutionError` when pip cannot resolve, with pip's own
    error line, and :class:`~verify.errors.InvalidInputError` for malformed requirements.
    """
    _check_requirements(request.requirements)
    if request.resolution.target.is_set and request.resolution.allow_source_builds:
        raise UsageError(
            "--python-version/--platform/--implementation/--abi need wheels-only resolution",
            hint="drop --allow-source-builds: sdists cannot be built for another interpreter",
        )
    with tempfile.TemporaryDirectory(prefix="pip-verify-resolve-") as scratch:
        report = Path(scratch) / "report.json"
        command = pip_command(request, report, python or sys.executable)
        try:
            completed = subprocess.run(
                command,
                capture_output=True,
                text=True,
                check=False,
                timeout=RESOLVE_TIMEOUT,
                env=dict(env) if env is not None else dict(os.environ),
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise ResolutionError(
                f"pip did not finish resolving within {RESOLVE_TIMEOUT} s"
            ) from exc
        except OSError as exc:
            raise ResolutionError(
                f"cannot run pip: {exc.strerror}", hint="is pip installed for this Python?"
            ) from exc
        if completed.returncode != 0 and _MISMATCH_HEAD in completed.stderr:
            refused = parse_hash_mismatches(completed.stderr)
            if refused:
                # pip read a file to learn its dependencies and its bytes did not match the
                # index's digest: report that file as pip-verify's own verification finds it.
                check_local_files([(c, False) for c in refused], request, python=python, env=env)
                return Resolution(
                    tuple(refused),
                    stopped="pip stopped resolving at a file whose bytes do not match the "
                    "index's digest; packages after it were not resolved",
                )
        unreachable = _unreachable_host(completed.stderr)
        if completed.returncode != 0 and unreachable is not None:
            # pip turns an unreachable index into "no matching distribution"; say what it was.
            raise ResolutionError(
                f"pip could not reach {unreachable}, so it could not resolve the requirements",
                hint="check the index URL and your network connection",
            )
        if completed.returncode != 0:
            raise ResolutionError(
                f"pip could not resolve the requirements: {_pip_error(completed.stderr)}",
                hint=_resolution_hint(completed.stderr, request),
                unresolved=_unresolved(completed.stderr),
            )
        try:
            document = json.loads(report.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResolutionError(f"pip wrote no readable installation report: {exc}") from exc
    candidates = parse_report(document)
    check_local_files(
        list(zip(candidates, direct_flags(document), strict=True)),
        request,
        python=python,
        env=env,
    )
    return Resolution(tuple(candidates))


_MISMATCH_HEAD = "DO NOT MATCH THE HASHES"
_URL = re.compile(r"(?:https?|file)://[^\s#]+")
_EXPECTED = re.compile(r"^\s+Expected (?P<algorithm>\w+)\s+(?P<digest>[0-9a-fA-F]+)\s*$")


def parse_hash_mismatches(stderr: str) -> list[Candidate]:
    """Candidates for the files pip refused with "THESE PACKAGES DO NOT MATCH THE HASHES"."""
    candidates: list[Candidate] = []
    url: str | None = None
    hashes: dict[str, str] = {}
    for line in stderr[stderr.find(_MISMATCH_HEAD) :].splitlines()[1:]:
        stripped = line.strip()
        expected = _EXPECTED.match(line)
        if expected is not None:
            hashes.setdefault(expected["algorithm"].lower(), expected["digest"].lower())
        elif stripped.startswith("Got") and url is not None:
            candidate = _refused_candidate(url, hashes)
            if candidate is not None:
                candidates.append(candidate)
            url, hashes = None, {}
        elif stripped.endswith(":") and (found := _URL.search(line)) is not None:
            url, hashes = found.group(0).rstrip(":"), {}
    return candidates


def _refused_candidate(url: str, hashes: dict[str, str]) -> Candidate | None:
    filename = _filename_from_url(url)
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return Candidate(
        name=name,
        version=version,
        files=(LockedFile(filename=filename, url=url, hashes=dict(hashes)),),
        origin="resolver",
        preselected=True,
    )


_TRACEBACK = "Traceback (most recent call last):"


#: pip's words when no release of a requirement is usable at all (no versions listed).
_NO_VERSIONS = re.compile(
    r"Could not find a version that satisfies the requirement (?P<requirement>\S+) "
    r"\(from versions: none\)"
)


def _unresolved(stderr: str) -> NormalizedName | None:
    """The name of the requirement pip found no release of, if that is why it stopped."""
    match = _NO_VERSIONS.search(stderr)
    if match is None:
        return None
    try:
        return canonicalize_name(Requirement(match["requirement"]).name)
    except InvalidRequirement:
        return None


def _pip_error(stderr: str) -> str:
    """pip's own error line; when pip crashed, the exception that ended its traceback."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith("ERROR:")]
    chosen = errors[0] if errors else (lines[-1] if lines else "no error message")
    # pip reports a crash (a malformed index page, say) as "ERROR: Exception:" and a
    # traceback: the header alone tells nothing, the traceback's last exception does.
    crash = _final_exception(stderr)
    if crash is not None and (not errors or chosen.endswith(":")):
        chosen = f"pip failed with {crash}"
    return redact_in_text(chosen)[:400]


def _final_exception(stderr: str) -> str | None:
    """The exception line that ends the last traceback in ``stderr``, if any."""
    start = stderr.rfind(_TRACEBACK)
    if start < 0:
        return None
    # Frames and their source lines are indented; the exception line is the first that is not.
    for line in stderr[start + len(_TRACEBACK) :].splitlines():
        if line.strip() and not line[0].isspace():
            return line.strip()
    return None


def redact_in_text(text: str) -> str:
    """Hide passwords of any URL in ``text``."""
    words = text.split(" ")
    return " ".join(redact(word) if "://" in word and "@" in word else word for word in words)


_CONNECTION = re.compile(
    r"(?:NewConnectionError|ConnectTimeoutError|NameResolutionError|ReadTimeoutError)"
    r"\(.*?host='(?P<host>[^']+)', port=(?P<port>\d+)(?P<rest>.*)"
)
_REASONS = (
    "Connection refused",
    "timed out",
    "Name or service not known",
    "Temporary failure in name resolution",
    "No route to host",
)


def _unreachable_host(stderr: str) -> str | None:
    """``host:port (reason)`` when pip's warnings say it could not connect to an index."""
    found = _CONNECTION.search(stderr)
    if found is None:
        return None
    reason = next((r.lower() for r in _REASONS if r in found["rest"]), None)
    return f"{found['host']}:{found['port']}" + (f" ({reason})" if reason else "")


def _resolution_hint(stderr: str, request: PipResolveRequest) -> str:
    if "No matching distribution" in stderr and not request.resolution.allow_source_builds:
        return (
            "pip resolves with wheels only; if a package ships only an sdist, "
            "--allow-source-builds lets pip build it (this runs its build code)"
        )
    if "Could not fetch URL" in stderr or "Connection" in stderr or "NewConnectionError" in stderr:
        return "check the index URL and your network connection"
    if _TRACEBACK in stderr:
        return (
            "pip itself failed, often on a malformed page from the package index; run the "
            "same requirements through 'pip install --dry-run -v' to see which"
        )
    return "run the same requirements through 'pip install --dry-run' to see pip's full output"


def _filename_from_url(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def parse_report(document: Any) -> list[Candidate]:
    """Candidates from a pip installation report (format version 1)."""
    if not isinstance(document, dict) or not isinstance(document.get("install"), list):
        raise ResolutionError("pip's installation report has no 'install' list")
    version = str(document.get("version", "1"))
    if version.split(".", 1)[0] != "1":
        raise ResolutionError(
            f"pip wrote an installation report of version {version}; "
            "pip-verify understands version 1"
        )
    candidates = []
    for item in document["install"]:
        try:
            candidates.append(_candidate(item))
        except (KeyError, TypeError, ValueError, AttributeError, InvalidVersion) as exc:
            raise ResolutionError(
                f"pip's installation report has a malformed entry: {exc}"
            ) from exc
    return candidates


def _candidate(item: dict[str, Any]) -> Candidate:
    metadata = item["metadata"]
    name = canonicalize_name(str(metadata["name"]))
    version = Version(str(metadata["version"]))
    info = item["download_info"]
    url = str(info["url"])
    requested = bool(item.get("requested", False))
    if "vcs_info" in info:
        return Candidate(
            name,
            version,
            origin="resolver",
            requested=requested,
            unverifiable=f"VCS source {redact(url)}",
        )
    if "dir_info" in info:
        editable = bool(info["dir_info"].get("editable", False))
        what = "editable local directory" if editable else "local directory"
        return Candidate(
            name,
            version,
            origin="resolver",
            requested=requested,
            unverifiable=f"{what} {redact(url)}",
        )
    archive = info.get("archive_info", {})
    hashes: dict[str, str] = {}
    for algorithm, digest in dict(archive.get("hashes") or {}).items():
        hashes[str(algorithm).lower()] = str(digest).lower()
    legacy = archive.get("hash")
    if legacy and "=" in legacy:
        algorithm, _, digest = str(legacy).partition("=")
        hashes.setdefault(algorithm.lower(), digest.lower())
    file = LockedFile(filename=_filename_from_url(url), url=url, hashes=hashes)
    return Candidate(
        name=name,
        version=version,
        files=(file,),
        allowed_sha256=frozenset(),
        origin="resolver",
        requested=requested,
        preselected=True,
    )
