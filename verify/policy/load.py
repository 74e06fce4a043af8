"""Reading and validating policy files (TOML)."""

from __future__ import annotations

import difflib
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from verify.errors import PolicyError
from verify.models import Decision
from verify.policy.model import Policy, RuleConfig
from verify.policy.rules import RULES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DEFAULT_POLICY_NAME", "default_policy_text", "load_policy", "parse_policy"]

DEFAULT_POLICY_NAME = "default.toml"
_TOP_KEYS = ("version", "description", "rules")
_RULE_KEYS = ("decision", "on-error")
_DECISIONS = tuple(d.value for d in Decision)


def default_policy_text() -> str:
    """The embedded default policy, as shipped in the package."""
    return (resources.files("verify") / "_policies" / DEFAULT_POLICY_NAME).read_text("utf-8")


def load_policy(path: Path | None = None) -> Policy:
    """The policy at ``path``, or the embedded default when ``path`` is ``None``."""
    if path is None:
        return parse_policy(default_policy_text(), origin="<embedded default>")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PolicyError("policy file not found", path=path) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read the policy file: {exc}", path=path) from exc
    return parse_policy(text, origin=str(path), path=path)


_HEADER = re.compile(r"^\s*\[\[?\s*(?P<path>[^\[\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGNMENT = re.compile(r"^\s*(?P<path>[A-Za-z0-9_\-\"'.\s]+?)\s*=")


def _split_key(path: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in path.split("."))


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The first line (1-based) of every table and key path in ``text``.

    TOML parsers do not report positions; a line scanner is enough for policy files, which
    are small and written by hand, to point a person at the right line.
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header is not None:
            table = _split_key(header["path"])
            lines.setdefault(table, number)
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment is not None:
            lines.setdefault(table + _split_key(assignment["path"]), number)
    return lines


def _line_of(text: str, *keys: str) -> int | None:
    """The line of the longest prefix of ``keys`` that the text defines."""
    lines = _key_lines(text)
    for length in range(len(keys), 0, -1):
        if keys[:length] in lines:
            return lines[keys[:length]]
    return None


def _unknown(kind: str, key: str, allowed: tuple[str, ...] | list[str]) -> str:
    near = difflib.get_close_matches(key, list(allowed), n=1)
    suggestion = f" (did you mean {near[0]!r}?)" if near else ""
    return f"unknown {kind} {key!r}{suggestion}; allowed: {', '.join(allowed)}"


def parse_policy(text: str, *, origin: str, path: Path | None = None) -> Policy:
    """Validate policy TOML; raise :class:`~verify.errors.PolicyError` naming file, line and key."""
    where = path if path is not None else origin
    try:
        document: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise PolicyError(
            f"invalid TOML: {exc}", path=where, line=int(match.group(1)) if match else None
        ) from exc
    for key in document:
        if key not in _TOP_KEYS:
            raise PolicyError(_unknown("key", key, _TOP_KEYS), path=where, line=_line_of(text, key))
    version = document.get("version", 1)
    if version != 1:
        raise PolicyError(
            f"policy version {version!r} is not supported; use version = 1",
            path=where,
            line=_line_of(text, "version"),
        )
    rules_table = document.get("rules", {})
    if not isinstance(rules_table, dict):
        raise PolicyError(
            "'rules' must be a table of rule ids", path=where, line=_line_of(text, "rules")
        )
    rules: dict[str, RuleConfig] = {}
    for rule_id, settings in rules_table.items():
        line = _line_of(text, "rules", rule_id)
        if rule_id not in RULES:
            raise PolicyError(_unknown("rule", rule_id, sorted(RULES)), path=where, line=line)
        if not isinstance(settings, dict):
            raise PolicyError(
                f"rules.{rule_id} must be a table with 'decision' and 'on-error'",
                path=where,
                line=line,
            )
        info = RULES[rule_id]
        values: dict[str, Decision] = {}
        for key, value in settings.items():
            key_line = _line_of(text, "rules", rule_id, key) or line
            if key not in _RULE_KEYS:
                raise PolicyError(
                    _unknown(f"key in rules.{rule_id}:", key, _RULE_KEYS), path=where, line=key_line
                )
            if value not in _DECISIONS:
                raise PolicyError(
                    f"rules.{rule_id}.{key} is {value!r}; allowed: {', '.join(_DECISIONS)}",
                    path=where,
                    line=key_line,
                )
            values[key] = Decision(value)
        decision = values.get("decision", info.decision)
        if info.fixed and decision.rank < info.decision.rank:
            raise PolicyError(
                f"rules.{rule_id}.decision cannot be lowered below {info.decision.value!r}",
                path=where,
                line=line,
            )
        rules[rule_id] = RuleConfig(decision, values.get("on-error", info.on_error))
    return Policy(rules=rules, origin=origin, path=path)
