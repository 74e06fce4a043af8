"""Reading and validating policy files (TOML)."""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from verify._documents import parse_toml
from verify._index.urls import normalize_index_url
from verify.errors import PolicyError, UsageError
from verify.models import Decision
from verify.policy.model import (
    FixPolicy,
    IgnoredVulnerability,
    IndexBinding,
    PackageOverride,
    Policy,
    RuleSettings,
    UpdateKind,
)
from verify.policy.rules import RULES, ParamSpec

__all__ = [
    "BUILTIN_POLICIES",
    "DEFAULT_POLICY_NAME",
    "builtin_policy_text",
    "default_policy_text",
    "load_policy",
    "parse_duration",
    "parse_policy",
]

DEFAULT_POLICY_NAME = "default.toml"
#: Policies shipped in the package, usable as ``extends = "<name>"``.
BUILTIN_POLICIES = ("default", "strict")
_TOP_KEYS = ("version", "description", "extends", "rules", "packages", "indexes", "fix")
_FIX_KEYS = ("allow", "cooldown-days", "same-index", "same-publisher", "downgrade")
_INDEX_KEYS = ("url", "packages")
_RULE_KEYS = ("decision", "on-error")
_PACKAGE_KEYS = ("match", "rules")
_DECISIONS = tuple(d.value for d in Decision)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_GLOB = re.compile(r"^[a-z0-9*?\[\]!.-]+$")


def builtin_policy_text(name: str) -> str:
    """A policy shipped in the package (``default``, ``strict``)."""
    return (resources.files("verify") / "_policies" / f"{name}.toml").read_text("utf-8")


def default_policy_text() -> str:
    """The embedded default policy, as shipped in the package."""
    return builtin_policy_text("default")


def parse_duration(value: object) -> int:
    """Seconds in ``"3d"``, ``"12h"``, ``"90m"``, ``"30s"``, ``"1w"`` (or a plain integer)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match:
            return int(float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"{value!r} is not a duration; use a number and a unit: 30m, 12h, 3d, 1w")


def load_policy(path: Path | None = None) -> Policy:
    """The policy at ``path`` (following ``extends``), or the embedded default."""
    if path is None:
        return parse_policy(default_policy_text(), origin="<embedded default>")
    return _load_file(path, ())


def _read(path: Path, chain: tuple[str, ...]) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        via = f" (extended from {chain[-1]})" if chain else ""
        raise PolicyError(f"policy file not found{via}", path=path) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read the policy file: {exc}", path=path) from exc


def _load_file(path: Path, chain: tuple[str, ...]) -> Policy:
    key = str(path.resolve())
    if key in chain:
        cycle = " -> ".join([*chain[chain.index(key) :], key])
        raise PolicyError(f"policy extends itself: {cycle}", path=path)
    return parse_policy(_read(path, chain), origin=str(path), path=path, chain=(*chain, key))


# Matched against a line without its leading whitespace, and with no optional whitespace
# beside the key path (_split_key strips its parts): whitespace that two neighbouring
# quantifiers can both take is retried in every split, cubic in a long run of spaces.
_HEADER = re.compile(r"\[\[?(?P<path>[^\[\]]+)\]\]?(?P<rest>.*)")
_ASSIGNMENT = re.compile(r"(?P<path>[A-Za-z0-9_\-\"'.\s]+)=")


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
        line = line.lstrip()
        header = _HEADER.match(line)
        rest = header["rest"].lstrip() if header is not None else ""
        if header is not None and (not rest or rest.startswith("#")):
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


def _decision(value: object, where: str, path: Path | str, line: int | None) -> Decision:
    if value not in _DECISIONS:
        raise PolicyError(
            f"{where} is {value!r}; allowed: {', '.join(_DECISIONS)}", path=path, line=line
        )
    return Decision(value)


def _rule_settings(
    rule_id: str,
    settings: object,
    text: str,
    keys: tuple[str, ...],
    where: Path | str,
    *,
    line: int | None,
) -> RuleSettings:
    dotted = ".".join(keys)
    if rule_id not in RULES:
        raise PolicyError(_unknown("rule", rule_id, sorted(RULES)), path=where, line=line)
    if not isinstance(settings, dict):
        raise PolicyError(
            f"{dotted} must be a table with 'decision' and 'on-error'", path=where, line=line
        )
    info = RULES[rule_id]
    allowed = (*_RULE_KEYS, *info.params)
    decision: Decision | None = None
    on_error: Decision | None = None
    params: dict[str, object] = {}
    for key, value in settings.items():
        key_line = _line_of(text, *keys, key) or line
        if key not in allowed:
            raise PolicyError(
                _unknown(f"key in {dotted}:", key, list(allowed)), path=where, line=key_line
            )
        if key == "decision":
            decision = _decision(value, f"{dotted}.decision", where, key_line)
        elif key == "on-error":
            on_error = _decision(value, f"{dotted}.on-error", where, key_line)
        else:
            params[key] = _param(info.params[key], value, f"{dotted}.{key}", where, key_line)
    if info.fixed and decision is not None and decision.rank < info.decision.rank:
        raise PolicyError(
            f"{dotted}.decision cannot be lowered below {info.decision.value!r}",
            path=where,
            line=line,
        )
    return RuleSettings(decision, on_error, params)


def _param(
    spec: ParamSpec, value: object, dotted: str, where: Path | str, line: int | None
) -> object:
    try:
        if spec.kind == "duration":
            return parse_duration(value)
        if spec.kind == "severity" and value in _SEVERITIES:
            return value
        if spec.kind == "ignore-list":
            return _ignore_list(value)
        if spec.kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if spec.kind == "string" and isinstance(value, str):
            return value
        if spec.kind == "boolean" and isinstance(value, bool):
            return value
        raise ValueError(f"expected {spec.kind} ({spec.help})")
    except ValueError as exc:
        raise PolicyError(f"{dotted}: {exc}", path=where, line=line) from exc


_SEVERITIES = ("info", "low", "medium", "high", "critical")


def _ignore_list(value: object) -> tuple[IgnoredVulnerability, ...]:
    if not isinstance(value, list):
        raise ValueError("ignore must be a list of { id, reason, expires } tables")
    entries = []
    for item in value:
        if not isinstance(item, dict):
            raise ValueError("each ignore entry must be a table { id, reason, expires }")
        unknown = sorted(set(item) - {"id", "reason", "expires"})
        if unknown:
            raise ValueError(
                f"unknown key {unknown[0]!r} in an ignore entry; allowed: id, reason, expires"
            )
        vuln_id, reason, expires = item.get("id"), item.get("reason"), item.get("expires")
        if not isinstance(vuln_id, str) or not vuln_id:
            raise ValueError("an ignore entry needs an id")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"ignoring {vuln_id} needs a reason")
        if expires is not None and (not isinstance(expires, date) or isinstance(expires, datetime)):
            raise ValueError(f"expires of {vuln_id} must be a date like 2026-12-31")
        entries.append(IgnoredVulnerability(vuln_id, reason.strip(), expires))
    return tuple(entries)


def _rules_table(
    table: object,
    text: str,
    prefix: tuple[str, ...],
    where: Path | str,
    *,
    line: int | None,
) -> dict[str, RuleSettings]:
    if not isinstance(table, dict):
        raise PolicyError(
            f"'{'.'.join(prefix)}' must be a table of rule ids", path=where, line=line
        )
    return {
        rule_id: _rule_settings(
            rule_id,
            settings,
            text,
            (*prefix, rule_id),
            where,
            line=_line_of(text, *prefix, rule_id) or line,
        )
        for rule_id, settings in table.items()
    }


def _package_lines(text: str) -> list[int]:
    return [
        n
        for n, line in enumerate(text.splitlines(), start=1)
        if re.match(r"^\s*\[\[\s*packages\s*\]\]", line)
    ]


def _overrides(entries: object, text: str, where: Path | str) -> tuple[PackageOverride, ...]:
    lines = _package_lines(text)
    if not isinstance(entries, list):
        raise PolicyError(
            "'packages' must be an array of tables ([[packages]])",
            path=where,
            line=_line_of(text, "packages"),
        )
    overrides = []
    for position, entry in enumerate(entries):
        line = lines[position] if position < len(lines) else None
        if not isinstance(entry, dict):
            raise PolicyError("each [[packages]] entry must be a table", path=where, line=line)
        for key in entry:
            if key not in _PACKAGE_KEYS:
                raise PolicyError(
                    _unknown("key in [[packages]]:", key, _PACKAGE_KEYS), path=where, line=line
                )
        pattern = _pattern(entry.get("match"), where, line, "[[packages]] match")
        rules = _rules_table(entry.get("rules", {}), text, ("packages", "rules"), where, line=line)
        overrides.append(PackageOverride(pattern, rules))
    return tuple(overrides)


def _pattern(pattern: object, where: Path | str, line: int | None, what: str) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise PolicyError(
            f'{what} needs a glob over normalized names, e.g. "acme-*"', path=where, line=line
        )
    if not _GLOB.match(pattern) or pattern.count("[") != pattern.count("]"):
        raise PolicyError(
            f"bad package pattern {pattern!r}: use a glob over normalized names "
            "(lower case, '-' between words), e.g. \"acme-*\"",
            path=where,
            line=line,
        )
    return pattern


def _indexes(entries: object, text: str, where: Path | str) -> tuple[IndexBinding, ...]:
    lines = [
        n
        for n, line in enumerate(text.splitlines(), start=1)
        if re.match(r"^\s*\[\[\s*indexes\s*\]\]", line)
    ]
    if not isinstance(entries, list):
        raise PolicyError(
            "'indexes' must be an array of tables ([[indexes]])",
            path=where,
            line=_line_of(text, "indexes"),
        )
    bindings = []
    for position, entry in enumerate(entries):
        line = lines[position] if position < len(lines) else None
        if not isinstance(entry, dict):
            raise PolicyError("each [[indexes]] entry must be a table", path=where, line=line)
        for key in entry:
            if key not in _INDEX_KEYS:
                raise PolicyError(
                    _unknown("key in [[indexes]]:", key, _INDEX_KEYS), path=where, line=line
                )
        url = entry.get("url")
        try:
            if not isinstance(url, str):
                raise UsageError('[[indexes]] needs url = "<simple API root>"')
            normalized = normalize_index_url(url)
        except UsageError as exc:
            raise PolicyError(exc.message, path=where, line=line) from exc
        patterns = entry.get("packages", [])
        if not isinstance(patterns, list):
            raise PolicyError("[[indexes]] packages must be a list of globs", path=where, line=line)
        bindings.append(
            IndexBinding(
                normalized,
                tuple(_pattern(p, where, line, "[[indexes]] packages") for p in patterns),
            )
        )
    return tuple(bindings)


def _fix_table(table: object, text: str, where: Path | str) -> FixPolicy:
    """The ``[fix]`` table: ``pip-verify fix``'s guardrails (TOML has no null: a key that is
    there has a value)."""
    line = _line_of(text, "fix")
    if not isinstance(table, dict):
        raise PolicyError("'fix' must be a table ([fix])", path=where, line=line)
    for key, value in table.items():
        key_line = _line_of(text, "fix", key) or line
        problem = _fix_problem(key, value)
        if problem is not None:
            raise PolicyError(problem, path=where, line=key_line)
    allow = table.get("allow")
    return FixPolicy(
        allow=UpdateKind(allow) if allow is not None else None,
        cooldown_days=table.get("cooldown-days"),
        same_index=table.get("same-index"),
        same_publisher=table.get("same-publisher"),
        downgrade=table.get("downgrade"),
    )


def _fix_problem(key: str, value: object) -> str | None:
    """What is wrong with ``key = value`` in ``[fix]``, in one line; ``None``: nothing."""
    if key not in _FIX_KEYS:
        return _unknown("key in [fix]:", key, _FIX_KEYS)
    if key == "allow":
        kinds = tuple(kind.value for kind in UpdateKind)
        return None if value in kinds else f"fix.allow is {value!r}; allowed: {', '.join(kinds)}"
    if key == "cooldown-days":
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return None
        return (
            f"fix.cooldown-days is {value!r}; use a whole number of days, 0 or more "
            "(0 turns the cooldown off)"
        )
    return None if isinstance(value, bool) else f"fix.{key} is {value!r}; use true or false"


def _merge(base: Policy, child: Policy) -> Policy:
    rules = dict(base.rules)
    for rule_id, settings in child.rules.items():
        inherited = rules.get(rule_id)
        if inherited is None:
            rules[rule_id] = settings
            continue
        rules[rule_id] = RuleSettings(
            settings.decision or inherited.decision,
            settings.on_error or inherited.on_error,
            {**inherited.params, **settings.params},
        )
    return Policy(
        rules=rules,
        packages=base.packages + child.packages,
        indexes=child.indexes or base.indexes,
        origin=child.origin,
        path=child.path,
        description=child.description or base.description,
        chain=base.chain + child.chain,
        fix=child.fix.over(base.fix),
    )


def _base(
    target: str, text: str, where: Path | str, path: Path | None, chain: tuple[str, ...]
) -> Policy:
    line = _line_of(text, "extends")
    if target in BUILTIN_POLICIES:
        name = f"<embedded {target}>"
        if name in chain:
            raise PolicyError(
                f"policy extends itself: {' -> '.join([*chain, name])}", path=where, line=line
            )
        return parse_policy(builtin_policy_text(target), origin=name, chain=(*chain, name))
    base_path = (path.parent if path is not None else Path.cwd()) / target
    if not base_path.is_file():
        raise PolicyError(
            f"extends {target!r}: no such policy file ({base_path}); use a path relative to "
            f"this file or one of: {', '.join(BUILTIN_POLICIES)}",
            path=where,
            line=line,
        )
    return _load_file(base_path, chain)


def parse_policy(
    text: str, *, origin: str, path: Path | None = None, chain: tuple[str, ...] = ()
) -> Policy:
    """Validate policy TOML; raise :class:`~verify.errors.PolicyError` naming file, line and key."""
    where: Path | str = path if path is not None else origin
    document = parse_toml(text, where, error=PolicyError)
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
    description = document.get("description")
    if description is not None and not isinstance(description, str):
        raise PolicyError(
            "'description' must be a string", path=where, line=_line_of(text, "description")
        )
    own_chain = chain or ((str(path.resolve()),) if path is not None else (origin,))
    own = Policy(
        rules=_rules_table(
            document.get("rules", {}), text, ("rules",), where, line=_line_of(text, "rules")
        ),
        packages=_overrides(document.get("packages", []), text, where),
        indexes=_indexes(document.get("indexes", []), text, where),
        origin=origin,
        path=path,
        description=description,
        chain=own_chain[-1:],
        fix=_fix_table(document.get("fix", {}), text, where),
    )
    extends = document.get("extends")
    if extends is None:
        return own
    if not isinstance(extends, str) or not extends:
        raise PolicyError(
            "'extends' must be a policy name or a relative path",
            path=where,
            line=_line_of(text, "extends"),
        )
    return _merge(_base(extends, text, where, path, own_chain), own)
