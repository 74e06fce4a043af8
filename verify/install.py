"""``install``: verify what pip would install, then install exactly those bytes.

The library entry point behind ``pip-verify install``::

    from verify.check import CheckSettings
    from verify.install import InstallSettings, run_install
    from verify.settings import InputSettings, ResolutionSettings

    outcome = run_install(
        InstallSettings(
            check=CheckSettings(
                InputSettings(requirements=("requests",)),
                # Keep what is installed, as pip install does (check resolves from scratch).
                ResolutionSettings(ignore_installed=False),
            )
        )
    )

Resolution is pip's own (wheels only unless the policy allows builds), in dry-run report
mode, for the target environment. Verification is ``check``'s. Installation hands pip the
verified files from the content-addressed cache, copied into a private directory, with
``--no-index --no-deps --require-hashes``: pip resolves nothing and downloads nothing, and
a file whose bytes changed after the check fails pip's hash check instead of installing.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from verify._fetch.fetch import ProgressSink
from verify.check import CheckSettings, run_check
from verify.errors import IncompleteError, UsageError
from verify.models import Decision, HashStatus, PackageResult, Report

__all__ = [
    "InstallOutcome",
    "InstallSettings",
    "install_files",
    "run_install",
    "target_environment",
]

#: How long pip may take to install from local files.
INSTALL_TIMEOUT = 1800


@dataclass(frozen=True, slots=True)
class InstallSettings:
    """What to verify and where to install it."""

    check: CheckSettings
    #: The interpreter of the environment to install into (default: the active one).
    python: str | None = None
    dry_run: bool = False
    #: pip options for the final install that change where it goes (``--target DIR``,
    #: ``--prefix DIR``, ``--user``) or how (``--no-build-isolation``).
    install_options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class InstallOutcome:
    """What was decided, and what was installed (nothing unless the report allows it)."""

    report: Report
    python: str
    installed: tuple[str, ...] = ()
    #: Why nothing was installed, when nothing was.
    skipped: str | None = None
    pip_output: str = ""
    #: The requirements file pip was given (its lines; for the record).
    requirements: tuple[str, ...] = field(default_factory=tuple)


def target_environment(python: str | None = None, *, virtual_env: str | None = None) -> str:
    """The interpreter pip would install for: ``python``, else that of the virtual
    environment at ``virtual_env`` (the CLI passes ``$VIRTUAL_ENV``), else the one running
    pip-verify."""
    if python:
        return python
    venv = virtual_env
    if venv:
        for candidate in (Path(venv) / "bin" / "python", Path(venv) / "Scripts" / "python.exe"):
            if candidate.exists():
                return str(candidate)
    return sys.executable


def _install_lines(report: Report) -> list[tuple[PackageResult, str, str]]:
    """(package, path of the verified file, its sha256) for every package to install."""
    chosen = []
    for package in report.packages:
        files = [
            (f.filename, f.cache_path, f.sha256)
            for f in package.files
            if f.cache_path is not None
            and f.sha256
            and f.hash_status in (HashStatus.VERIFIED, HashStatus.UNVERIFIABLE)
        ]
        if not files:
            raise UsageError(
                f"{package.name} has no verified file to install",
                hint="unverifiable sources (VCS, directories, editables) cannot be installed "
                "by pip-verify; install them with pip yourself",
            )
        wheels = [f for f in files if f[0].endswith(".whl")]
        _filename, path, sha256 = (wheels or files)[0]
        chosen.append((package, str(path), str(sha256)))
    return chosen


def install_files(
    report: Report,
    *,
    python: str,
    install_options: Sequence[str] = (),
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
    """Install the verified files of ``report`` into ``python``'s environment.

    Returns the installed ``name==version`` list, pip's output and the requirement lines.
    Raises :class:`~verify.errors.IncompleteError` when pip fails: pip installs all of a
    requirements file or none of it.
    """
    chosen = _install_lines(report)
    if not chosen:
        return (), "", ()
    with tempfile.TemporaryDirectory(prefix="pip-verify-install-") as scratch:
        private = Path(scratch)
        lines = []
        for package, cached, sha256 in chosen:
            # A private copy: nothing else can swap the bytes between here and pip's read,
            # and pip checks them against the verified digest anyway (--require-hashes).
            folder = private / sha256
            folder.mkdir()
            copy = folder / Path(cached).name
            shutil.copyfile(cached, copy)
            lines.append(f"{package.name} @ {copy.as_uri()} --hash=sha256:{sha256}")
        requirements = private / "verified-requirements.txt"
        requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-index",
            "--no-deps",
            "--require-hashes",
            "--disable-pip-version-check",
            "--no-input",
            "--progress-bar",
            "off",
            *install_options,
            "--requirement",
            str(requirements),
        ]
        # The user's pip configuration may add indexes or find-links; the install needs none.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
        try:
            completed = run(
                command,
                capture_output=True,
                text=True,
                check=False,
                timeout=INSTALL_TIMEOUT,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise IncompleteError(
                f"pip did not finish installing within {INSTALL_TIMEOUT} s"
            ) from exc
        except OSError as exc:
            raise IncompleteError(f"cannot run pip: {exc.strerror}") from exc
    output = (completed.stdout or "") + (completed.stderr or "")
    if completed.returncode != 0:
        last = next(
            (line.strip() for line in reversed(output.splitlines()) if line.strip()),
            f"exit code {completed.returncode}",
        )
        raise IncompleteError(
            f"pip could not install the verified files: {last}",
            hint="nothing was installed by pip-verify's run of pip (pip installs all or nothing)",
        )
    installed = tuple(f"{p.name}=={p.version}" for p, _path, _sha in chosen)
    return installed, output, tuple(lines)


def run_install(
    settings: InstallSettings,
    *,
    confirm: Callable[[Report], bool] | None = None,
    progress: ProgressSink | None = None,
) -> InstallOutcome:
    """Resolve, verify, and (when the report allows it and ``confirm`` agrees) install.

    ``confirm`` is asked only when the report has warnings; ``None`` accepts them (the policy
    allows warnings).
    """
    python = target_environment(settings.python)
    check = settings.check
    if check.resolution.environment is None:
        resolution = dataclasses.replace(check.resolution, environment=python)
        check = dataclasses.replace(check, resolution=resolution)
    report = run_check(check, progress=progress)
    if report.denied_by_policy or report.decision is Decision.DENY:
        return InstallOutcome(report, python, skipped="denied: nothing was installed")
    if report.incomplete:
        return InstallOutcome(
            report, python, skipped="verification did not complete: nothing was installed"
        )
    if not report.packages:
        return InstallOutcome(
            report, python, skipped="nothing to install: the requirements are already satisfied"
        )
    if settings.dry_run:
        return InstallOutcome(report, python, skipped="--dry-run: nothing was installed")
    if report.decision is Decision.WARN and confirm is not None and not confirm(report):
        return InstallOutcome(report, python, skipped="not confirmed: nothing was installed")
    installed, output, lines = install_files(
        report, python=python, install_options=settings.install_options
    )
    return InstallOutcome(report, python, installed, pip_output=output, requirements=lines)
