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
from verify.policy.model import PackageOverride, Policy, RuleConfig, RuleSettings
from verify.policy.rules import RULES, ParamSpec, RuleInfo

__all__ = [
    "BUILTIN_POLICIES",
    "RULES",
    "PackageOverride",
    "ParamSpec",
    "Policy",
    "RuleConfig",
    "RuleInfo",
    "RuleSettings",
    "builtin_policy_text",
    "default_policy_text",
    "load_policy",
    "parse_duration",
    "parse_policy",
]
