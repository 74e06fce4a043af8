"""The effective policy, rule by rule, as ``pip-verify policy show`` prints it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verify._rules.behaviour import BEHAVIOUR_RULES
from verify.policy.model import IgnoredVulnerability, Policy
from verify.policy.rules import RULES

__all__ = [
    "EffectiveRule",
    "cooldown_days",
    "describe_fix",
    "describe_policy",
    "effective_rules",
    "format_duration",
]


@dataclass(frozen=True, slots=True)
class EffectiveRule:
    """One rule as it applies (to every package, or to one named package)."""

    id: str
    decision: str
    on_error: str
    params: dict[str, object]
    summary: str


def format_duration(seconds: int) -> str:
    """The shortest exact form: ``3d``, ``12h``, ``90m``, ``45s``."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _shown_value(kind: str | None, value: object) -> object:
    if kind == "duration" and isinstance(value, int):
        return format_duration(value)
    if kind == "ignore-list" and isinstance(value, tuple):
        return [
            {
                "id": e.id,
                "reason": e.reason,
                **({"expires": e.expires.isoformat()} if e.expires else {}),
            }
            for e in value
            if isinstance(e, IgnoredVulnerability)
        ]
    return value


def _shown(rule_id: str, params: dict[str, object]) -> dict[str, object]:
    specs = RULES[rule_id].params
    return {
        key: _shown_value(specs[key].kind if key in specs else None, value)
        for key, value in params.items()
    }


def effective_rules(policy: Policy, *, package: str | None = None) -> list[EffectiveRule]:
    """Every rule pip-verify knows, with the decisions ``policy`` gives it."""
    rules = []
    for rule_id, info in RULES.items():
        config = policy.rule(rule_id, package=package)
        params = _shown(rule_id, dict(config.params))
        decision = config.decision
        if info.by_severity:
            # What a finding of this kind gets at its default severity, unless the policy
            # names the rule: the thresholds of the ``behaviour`` rule decide.
            severity = BEHAVIOUR_RULES[rule_id].severity
            decision = policy.behaviour_decision(rule_id, severity, package=package)
            params = {"severity": severity.value, **params}
        rules.append(
            EffectiveRule(rule_id, decision.value, config.on_error.value, params, info.summary)
        )
    return rules


def cooldown_days(seconds: int) -> int | float:
    """A cooldown in days, whole when it is (``3``, ``0.5``)."""
    days = seconds / 86400
    return int(days) if days.is_integer() else round(days, 4)


def describe_fix(policy: Policy, *, package: str | None = None) -> dict[str, object]:
    """The ``[fix]`` guardrails as they apply (to ``package``), defaults filled in, with where
    the cooldown comes from (``fix``: the table's ``cooldown-days``; ``release-age``: that
    rule's ``min-age``)."""
    guardrails = policy.fix_guardrails()
    return {
        "allow": guardrails.allow.value if guardrails.allow else None,
        "cooldown-days": cooldown_days(policy.fix_cooldown(package=package)),
        "cooldown-from": "fix" if policy.fix.cooldown_days is not None else "release-age",
        "same-index": guardrails.same_index,
        "same-publisher": guardrails.same_publisher,
        "downgrade": guardrails.downgrade,
    }


def describe_policy(policy: Policy, *, package: str | None = None) -> dict[str, Any]:
    """The effective policy as JSON-ready data."""
    return {
        "origin": policy.origin,
        "description": policy.description,
        "extends": list(policy.chain[:-1]),
        "package": package,
        "rules": {
            rule.id: {"decision": rule.decision, "on-error": rule.on_error, **rule.params}
            for rule in effective_rules(policy, package=package)
        },
        "packages": [
            {
                "match": override.match,
                "rules": {
                    rule_id: {
                        key: value
                        for key, value in (
                            ("decision", s.decision.value if s.decision else None),
                            ("on-error", s.on_error.value if s.on_error else None),
                            *_shown(rule_id, dict(s.params)).items(),
                        )
                        if value is not None
                    }
                    for rule_id, s in override.rules.items()
                },
            }
            for override in policy.packages
        ],
        "fix": describe_fix(policy, package=package),
    }
