"""pip-verify: a verification gate for Python dependencies.

Resolve what would be installed, check every file's bytes, provenance and publisher, diff what
each release adds, and decide by a trust policy whether it may be installed.

The public API is what ``__all__`` lists: each command as a function with its settings, the
policy, the result models and the errors. Everything else (modules starting with ``_``) may
change between releases. The library never prints, exits or reads environment variables::

    from verify import CheckSettings, InputSettings, run_check

    report = run_check(CheckSettings(InputSettings(requirements=("requests==2.32.3",))))
    print(report.decision)

Every command's settings are composed of the same parts (``verify.settings``): what to verify
(``InputSettings``), how pip resolves it (``ResolutionSettings``), what it is verified against
(``VerificationSettings``) and how the network is used (``NetworkSettings``).

Names are imported on first use, so ``import verify`` stays cheap for the CLI.

Imports flow one way, down these layers (``tests/unit/test_layering.py`` enforces it):

0. The public API: this module, which re-exports from every layer below.
1. CLI: ``verify._cli``, ``verify.__main__``.
2. Commands: ``check``, ``screen``, ``install``, ``diff``, ``_upload`` (the quarantine
   gate's server), ``_proxy`` (the verified pull-through index) and ``_serve`` (what those
   two servers share: HTTP answers and the review page).
3. Engine: ``verify._verifier``.
4. Rendering: ``verify._format`` (reads results; never a command or the CLI).
5. Concerns, none importing another in a cycle: ``_behaviour``, ``_dist``, ``_checks``,
   ``_vulnerabilities``, ``_provenance``, ``_resolve``, ``policy``, ``trust_store``.
6. Index access and fetching: ``_index``, ``_fetch``.
7. Base: ``models``, ``errors``, ``settings``, ``_documents``, ``_records``, ``_rules``,
   ``_version``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # Commands and their settings.
    "CheckSettings": "verify.check",
    "run_check": "verify.check",
    "ScreenSettings": "verify.screen",
    "run_screen": "verify.screen",
    "DiffSettings": "verify.diff",
    "DiffResult": "verify.diff",
    "run_diff": "verify.diff",
    "InstallSettings": "verify.install",
    "InstallOutcome": "verify.install",
    "run_install": "verify.install",
    # The settings every command shares.
    "InputSettings": "verify.settings",
    "ResolutionSettings": "verify.settings",
    "VerificationSettings": "verify.settings",
    "NetworkSettings": "verify.settings",
    "TargetEnvironment": "verify.settings",
    # The policy.
    "Policy": "verify.policy",
    "load_policy": "verify.policy",
    # Results.
    "BehaviourSummary": "verify.models",
    "Decision": "verify.models",
    "FileResult": "verify.models",
    "Finding": "verify.models",
    "HashStatus": "verify.models",
    "KnownVulnerability": "verify.models",
    "PackageResult": "verify.models",
    "Provenance": "verify.models",
    "ProvenanceStatus": "verify.models",
    "Reason": "verify.models",
    "Report": "verify.models",
    "ReportError": "verify.models",
    "Severity": "verify.models",
    # Errors, one class per exit code and what failed.
    "VerifyError": "verify.errors",
    "UsageError": "verify.errors",
    "InvalidInputError": "verify.errors",
    "PolicyError": "verify.errors",
    "ArchiveError": "verify.errors",
    "IncompleteError": "verify.errors",
    "NetworkError": "verify.errors",
    "IndexResponseError": "verify.errors",
    "ResolutionError": "verify.errors",
    "CacheError": "verify.errors",
    "OfflineError": "verify.errors",
}

__all__ = [
    "ArchiveError",
    "BehaviourSummary",
    "CacheError",
    "CheckSettings",
    "Decision",
    "DiffResult",
    "DiffSettings",
    "FileResult",
    "Finding",
    "HashStatus",
    "IncompleteError",
    "IndexResponseError",
    "InputSettings",
    "InstallOutcome",
    "InstallSettings",
    "InvalidInputError",
    "KnownVulnerability",
    "NetworkError",
    "NetworkSettings",
    "OfflineError",
    "PackageResult",
    "Policy",
    "PolicyError",
    "Provenance",
    "ProvenanceStatus",
    "Reason",
    "Report",
    "ReportError",
    "ResolutionError",
    "ResolutionSettings",
    "ScreenSettings",
    "Severity",
    "TargetEnvironment",
    "UsageError",
    "VerificationSettings",
    "VerifyError",
    "__version__",
    "load_policy",
    "run_check",
    "run_diff",
    "run_install",
    "run_screen",
]

if TYPE_CHECKING:
    from verify.check import CheckSettings, run_check
    from verify.diff import DiffResult, DiffSettings, run_diff
    from verify.errors import (
        ArchiveError,
        CacheError,
        IncompleteError,
        IndexResponseError,
        InvalidInputError,
        NetworkError,
        OfflineError,
        PolicyError,
        ResolutionError,
        UsageError,
        VerifyError,
    )
    from verify.install import InstallOutcome, InstallSettings, run_install
    from verify.models import (
        BehaviourSummary,
        Decision,
        FileResult,
        Finding,
        HashStatus,
        KnownVulnerability,
        PackageResult,
        Provenance,
        ProvenanceStatus,
        Reason,
        Report,
        ReportError,
        Severity,
    )
    from verify.policy import Policy, load_policy
    from verify.screen import ScreenSettings, run_screen
    from verify.settings import (
        InputSettings,
        NetworkSettings,
        ResolutionSettings,
        TargetEnvironment,
        VerificationSettings,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'verify' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
