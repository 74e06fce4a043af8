"""The rule ids pip-verify knows, with what each one guards. Ids are stable: reports,
policies and SARIF name them, so they are never renamed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from verify._rules.behaviour import BEHAVIOUR_RULES
from verify.models import Decision

__all__ = ["RULES", "ParamSpec", "RuleInfo"]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """A rule parameter: its kind (``duration``, ``integer``, ``string``), default and help."""

    kind: str
    default: object
    help: str


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule's id, what it checks, and its defaults."""

    id: str
    summary: str
    decision: Decision
    on_error: Decision
    #: The decision can never be lowered below ``decision`` by a policy.
    fixed: bool = False
    params: Mapping[str, ParamSpec] = field(default_factory=dict)
    #: A behaviour finding: unless a policy sets its decision, the ``behaviour`` rule's
    #: severity thresholds decide.
    by_severity: bool = False


RULES: dict[str, RuleInfo] = {
    rule.id: rule
    for rule in (
        RuleInfo(
            "hash-mismatch",
            "A file's bytes differ from the digest the lock file, the resolver or the index "
            "gave; on error: the bytes could not be read at all.",
            Decision.DENY,
            Decision.DENY,
            fixed=True,
        ),
        RuleInfo(
            "verification-incomplete",
            "A check could not finish: an index or file host was unreachable or answered "
            "badly, or the cache failed. Always deny: pip-verify fails closed.",
            Decision.DENY,
            Decision.DENY,
            fixed=True,
        ),
        RuleInfo(
            "not-found",
            "The input names a release or file that no configured index serves.",
            Decision.DENY,
            Decision.DENY,
        ),
        RuleInfo(
            "provenance-invalid",
            "A file's PEP 740 provenance does not verify: a bad signature or log entry, an "
            "attestation for other bytes or another file, or a publisher other than the one "
            "the provenance claims.",
            Decision.DENY,
            Decision.DENY,
        ),
        RuleInfo(
            "publisher-mismatch",
            "A file's verified publisher is not the identity pinned for the package (a lock "
            "file's attestation-identities or --expect), or a pinned file has no provenance; "
            "on error: its provenance could not be checked.",
            Decision.DENY,
            Decision.DENY,
        ),
        RuleInfo(
            "provenance-required",
            "A file has no PEP 740 provenance (set decision to allow to turn the requirement "
            "off); on error: its provenance could not be checked. Files from an index and "
            "uploads are held to it; local files named on the command line only with "
            "local-files = true.",
            Decision.WARN,
            Decision.WARN,
            params={
                "local-files": ParamSpec(
                    "boolean", False, "true or false: local distribution files need it too"
                )
            },
        ),
        RuleInfo(
            "publisher-change",
            "A file's verified publisher differs from the one the trust store records for the "
            "package (first seen, pinned or accepted); on error: its provenance could not be "
            "checked.",
            Decision.DENY,
            Decision.DENY,
        ),
        RuleInfo(
            "provenance-regression",
            "The trust store records a publisher for the package (an earlier release was "
            "attested) but this file has no provenance.",
            Decision.DENY,
            Decision.DENY,
        ),
        RuleInfo(
            "index-pinning",
            "A package bound to one index by the policy ([[indexes]] packages) is served by "
            "another configured index too: dependency confusion.",
            Decision.DENY,
            Decision.DENY,
        ),
        RuleInfo(
            "public-name",
            "Upload screening: the uploaded project's name is served by a public index, and "
            "the policy does not bind it to the private index ([[indexes]] packages): "
            "dependency confusion, or a fork that needs its own name. On error: the public "
            "index could not be asked.",
            Decision.DENY,
            Decision.WARN,
        ),
        RuleInfo(
            "index-unknown",
            "A file came from an index the policy's [[indexes]] does not list.",
            Decision.DENY,
            Decision.DENY,
        ),
        RuleInfo(
            "index-shadowing",
            "The same project name is served by more than one configured index.",
            Decision.WARN,
            Decision.WARN,
        ),
        RuleInfo(
            "hash-missing",
            "Nobody gave a strong digest (sha256 or better) to compare the bytes with.",
            Decision.WARN,
            Decision.WARN,
        ),
        RuleInfo(
            "index-metadata",
            "The index's record of the file (upload time, yanked, provenance URL) could not "
            "be read, e.g. with --offline.",
            Decision.ALLOW,
            Decision.WARN,
        ),
        RuleInfo(
            "index-unlisted",
            "The file is not listed by any configured index (a direct URL or --find-links).",
            Decision.WARN,
            Decision.WARN,
        ),
        RuleInfo(
            "release-age",
            "A file was uploaded less recently than the cooldown (min-age) allows: new "
            "releases are where hijacked accounts and poisoned pipelines strike first. On "
            "error: the index gives no upload time.",
            Decision.WARN,
            Decision.WARN,
            params={"min-age": ParamSpec("duration", 3 * 86400, 'e.g. "3d", "12h", "90m"')},
        ),
        RuleInfo(
            "project-status",
            "The index marks the project quarantined, archived or deprecated (PEP 792).",
            Decision.WARN,
            Decision.WARN,
        ),
        RuleInfo(
            "build-from-source",
            "No usable wheel: installing runs the sdist's build backend, which executes "
            "the package's code.",
            Decision.WARN,
            Decision.WARN,
        ),
        RuleInfo(
            "known-malicious",
            "An OSV malicious-package report (MAL-) names this release. Always deny.",
            Decision.DENY,
            Decision.DENY,
            fixed=True,
        ),
        RuleInfo(
            "vulnerability",
            "A known vulnerability (OSV) affects this release at or above min-severity "
            "(unknown severities count); ignore entries need a reason and may expire. On "
            "error: the vulnerability source could not answer.",
            Decision.WARN,
            Decision.WARN,
            params={
                "min-severity": ParamSpec("severity", "low", "low, medium, high or critical"),
                "ignore": ParamSpec(
                    "ignore-list", (), '[{ id = "GHSA-...", reason = "...", expires = 2026-12-31 }]'
                ),
            },
        ),
        RuleInfo(
            "typosquat",
            "The name is a small edit, a look-alike or an affix away from a popular project "
            "(or from another package in the same tree) without being popular itself.",
            Decision.WARN,
            Decision.WARN,
        ),
        RuleInfo(
            "name-unknown",
            "No configured index serves the name at all: a name mistyped or made up (coding "
            "assistants invent plausible ones, and attackers register what they invent). The "
            "report suggests the popular projects it most likely stands for.",
            Decision.DENY,
            Decision.DENY,
        ),
        RuleInfo(
            "project-age",
            "The project's first upload (the earliest upload time of any of its files on "
            "its index) is younger than min-age: a project that did not exist a few weeks ago "
            "has no history to trust. On error: the index gives no upload times.",
            Decision.WARN,
            Decision.ALLOW,
            params={"min-age": ParamSpec("duration", 30 * 86400, 'e.g. "30d", "8w"')},
        ),
        RuleInfo(
            "project-thin",
            "A young project (first upload within young) with a single release, no project "
            "URLs in its metadata, and a name that resembles a popular project or is one with "
            "words added (requests-toolbelt-pro): the shape of a registered hallucinated name.",
            Decision.DENY,
            Decision.ALLOW,
            params={"young": ParamSpec("duration", 90 * 86400, 'e.g. "90d", "12w"')},
        ),
        RuleInfo(
            "yanked",
            "The file was yanked from its index (PEP 592).",
            Decision.WARN,
            Decision.WARN,
        ),
        RuleInfo(
            "behaviour",
            "What a release adds compared with the release before it (install hooks, .pth "
            "files, decoded execution, network and process access, credential reads, binaries, "
            "new dependencies): findings at or above deny-at are denied, at or above warn-at "
            "warned about; decision caps them all. On error: the baseline could not be fetched, "
            "so the file was analysed alone. A file that cannot be read as a distribution is "
            "denied whatever on-error says.",
            Decision.DENY,
            Decision.WARN,
            params={
                "deny-at": ParamSpec("severity", "high", "info, low, medium, high or critical"),
                "warn-at": ParamSpec("severity", "medium", "info, low, medium, high or critical"),
            },
        ),
        RuleInfo(
            "unverifiable-source",
            "A VCS checkout, local directory or editable install: there are no published "
            "bytes to verify.",
            Decision.WARN,
            Decision.WARN,
        ),
    )
}

RULES.update(
    (
        rule.id,
        RuleInfo(
            rule.id,
            f"Behaviour ({rule.severity.value} when new): {rule.summary}",
            Decision.WARN,
            Decision.WARN,
            by_severity=True,
        ),
    )
    for rule in BEHAVIOUR_RULES.values()
)
