"""Trust policies: which rule outcomes allow, warn about or deny a package."""

from __future__ import annotations

from verify.policy.load import default_policy_text, load_policy, parse_policy
from verify.policy.model import Policy, RuleConfig
from verify.policy.rules import RULES, RuleInfo

__all__ = [
    "RULES",
    "Policy",
    "RuleConfig",
    "RuleInfo",
    "default_policy_text",
    "load_policy",
    "parse_policy",
]
