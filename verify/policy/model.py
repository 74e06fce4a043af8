"""The policy as pip-verify applies it: a decision and an on-error decision per rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from verify.models import Decision
from verify.policy.rules import RULES

__all__ = ["Policy", "RuleConfig"]


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """What one rule yields when it fires, and when it cannot be evaluated."""

    decision: Decision
    on_error: Decision


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated policy. Rules the file does not mention keep their defaults."""

    rules: Mapping[str, RuleConfig] = field(default_factory=dict)
    #: Where the policy came from (a path, or ``<embedded default>``).
    origin: str = "<embedded default>"
    path: Path | None = None

    def rule(self, rule_id: str) -> RuleConfig:
        """The configuration of ``rule_id`` (its defaults when the policy is silent)."""
        configured = self.rules.get(rule_id)
        if configured is not None:
            return configured
        info = RULES[rule_id]
        return RuleConfig(info.decision, info.on_error)
