"""Trust policies: which rule outcomes allow, warn about or deny a package."""

from __future__ import annotations

from verify.policy.load import (
    BUILTIN_POLICIES,
    builtin_policy_text,
    default_policy_text,
    load_policy,
    parse_duration,
    parse_policy,
)
from verify.policy.model import (
    FixPolicy,
    PackageOverride,
    Policy,
    RuleConfig,
    RuleSettings,
    UpdateKind,
)
from verify.policy.rules import RULES, ParamSpec, RuleInfo

__all__ = [
    "BUILTIN_POLICIES",
    "RULES",
    "FixPolicy",
    "PackageOverride",
    "ParamSpec",
    "Policy",
    "RuleConfig",
    "RuleInfo",
    "RuleSettings",
    "UpdateKind",
    "builtin_policy_text",
    "default_policy_text",
    "load_policy",
    "parse_duration",
    "parse_policy",
]
