"""The policy as pip-verify applies it: a decision, an on-error decision and parameters per
rule, with overrides for packages matched by name patterns."""

from __future__ import annotations

import enum
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from verify._rules.severity import severity_at_least
from verify.models import Decision, Severity
from verify.policy.rules import RULES

__all__ = [
    "FIX_DEFAULTS",
    "FixPolicy",
    "IgnoredVulnerability",
    "IndexBinding",
    "PackageOverride",
    "Policy",
    "RuleConfig",
    "RuleSettings",
    "UpdateKind",
]


@dataclass(frozen=True, slots=True)
class IgnoredVulnerability:
    """A known vulnerability a policy accepts, with why, until when."""

    id: str
    reason: str
    expires: date | None = None

    def active(self, today: date) -> bool:
        """Whether the entry still applies on ``today``."""
        return self.expires is None or today <= self.expires


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """What a policy file says about one rule; unset fields inherit."""

    decision: Decision | None = None
    on_error: Decision | None = None
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """What one rule yields when it fires, when it cannot be evaluated, and its parameters."""

    decision: Decision
    on_error: Decision
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PackageOverride:
    """Rule settings for packages whose normalized name matches ``match`` (a glob)."""

    match: str
    rules: Mapping[str, RuleSettings]

    def applies_to(self, package: str) -> bool:
        """Whether this override covers ``package`` (a normalized name)."""
        return fnmatch.fnmatchcase(package, self.match)


@dataclass(frozen=True, slots=True)
class IndexBinding:
    """An index the policy knows, and the package names that may only come from it."""

    url: str
    #: Globs over normalized names bound to this index (``acme-*``).
    packages: tuple[str, ...] = ()

    def binds(self, package: str) -> bool:
        """Whether ``package`` may only come from this index."""
        return any(fnmatch.fnmatchcase(package, pattern) for pattern in self.packages)


class UpdateKind(str, enum.Enum):
    """The largest update ``pip-verify fix`` may make: ``patch`` keeps the major and minor
    version (1.2.3 to 1.2.4), ``minor`` the major version (1.3), ``major`` anything (2.0)."""

    PATCH = "patch"
    MINOR = "minor"
    MAJOR = "major"


@dataclass(frozen=True, slots=True)
class FixPolicy:
    """The policy's ``[fix]`` table: the guardrails of ``pip-verify fix``. A field left
    ``None`` is inherited through ``extends``, else takes its value in :data:`FIX_DEFAULTS`."""

    #: The largest update.
    allow: UpdateKind | None = None
    #: Never a release younger than this many days (0: no cooldown); ``None``: the
    #: ``release-age`` rule's ``min-age`` (see :meth:`Policy.fix_cooldown`).
    cooldown_days: int | None = None
    #: Only releases from the index the package is pinned to.
    same_index: bool | None = None
    #: Only releases from the publisher of the pinned release (or the trust store's).
    same_publisher: bool | None = None
    #: When no upgrade passes, the nearest downgrade that does.
    downgrade: bool | None = None

    def over(self, base: FixPolicy) -> FixPolicy:
        """This table over ``base``'s: the fields this one sets win."""
        return FixPolicy(
            allow=self.allow if self.allow is not None else base.allow,
            cooldown_days=self.cooldown_days
            if self.cooldown_days is not None
            else base.cooldown_days,
            same_index=self.same_index if self.same_index is not None else base.same_index,
            same_publisher=(
                self.same_publisher if self.same_publisher is not None else base.same_publisher
            ),
            downgrade=self.downgrade if self.downgrade is not None else base.downgrade,
        )


#: The guardrails of a policy whose chain sets none (the embedded default states the same;
#: a test keeps the two equal). The cooldown stays ``None``: the ``release-age`` rule's.
FIX_DEFAULTS = FixPolicy(
    allow=UpdateKind.MINOR, same_index=True, same_publisher=True, downgrade=False
)


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated policy. Rules the file does not mention keep their defaults."""

    rules: Mapping[str, RuleSettings] = field(default_factory=dict)
    packages: tuple[PackageOverride, ...] = ()
    #: The indexes the policy allows; empty means any configured index.
    indexes: tuple[IndexBinding, ...] = ()
    #: Where the policy came from (a path, or ``<embedded default>``).
    origin: str = "<embedded default>"
    path: Path | None = None
    description: str | None = None
    #: The files this policy was built from, base first (``extends`` chain).
    chain: tuple[str, ...] = ()
    #: The ``[fix]`` table, as the chain sets it (:meth:`fix_guardrails` fills in defaults).
    fix: FixPolicy = field(default_factory=FixPolicy)

    def rule(self, rule_id: str, *, package: str | None = None) -> RuleConfig:
        """The configuration of ``rule_id`` for ``package`` (later overrides win)."""
        info = RULES[rule_id]
        decision, on_error = info.decision, info.on_error
        params: dict[str, object] = {name: spec.default for name, spec in info.params.items()}
        layers = [self.rules.get(rule_id)]
        if package is not None:
            layers += [o.rules.get(rule_id) for o in self.packages if o.applies_to(package)]
        for layer in layers:
            if layer is None:
                continue
            decision = layer.decision or decision
            on_error = layer.on_error or on_error
            params.update(layer.params)
        return RuleConfig(decision, on_error, params)

    def fix_guardrails(self) -> FixPolicy:
        """The ``[fix]`` table with every field the chain leaves unset at its default."""
        return self.fix.over(FIX_DEFAULTS)

    def fix_cooldown(self, *, package: str | None = None) -> int:
        """Seconds a release must have been on its index before ``fix`` takes it: the
        ``[fix]`` table's ``cooldown-days``, else the ``release-age`` rule's ``min-age`` as it
        applies to ``package`` (none when the policy turns the rule off for it)."""
        if self.fix.cooldown_days is not None:
            return self.fix.cooldown_days * 86400
        release_age = self.rule("release-age", package=package)
        min_age = release_age.params["min-age"]
        if release_age.decision is Decision.ALLOW or not isinstance(min_age, int):
            return 0
        return min_age

    def behaviour_decision(
        self, rule_id: str, severity: Severity, *, package: str | None = None
    ) -> Decision:
        """The decision for a behaviour finding of ``rule_id`` rated ``severity``.

        A decision the policy sets for the finding's own rule id wins; otherwise the
        ``behaviour`` rule's ``deny-at``/``warn-at`` thresholds decide, capped by its
        ``decision`` (``allow`` turns behaviour findings off).
        """
        layers = [self.rules.get(rule_id)]
        if package is not None:
            layers += [o.rules.get(rule_id) for o in self.packages if o.applies_to(package)]
        explicit = [layer.decision for layer in layers if layer is not None and layer.decision]
        if explicit:
            return explicit[-1]
        umbrella = self.rule("behaviour", package=package)
        if severity_at_least(severity, Severity(str(umbrella.params["deny-at"]))):
            by_severity = Decision.DENY
        elif severity_at_least(severity, Severity(str(umbrella.params["warn-at"]))):
            by_severity = Decision.WARN
        else:
            by_severity = Decision.ALLOW
        return min(by_severity, umbrella.decision, key=lambda d: d.rank)
