"""Policy files: the embedded default, every file in policies/, and invalid policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify.errors import PolicyError
from verify.models import Decision, Severity
from verify.policy import RULES, default_policy_text, load_policy, parse_policy

REPO = Path(__file__).resolve().parents[3]
POLICIES = sorted((REPO / "policies").glob("*.toml"))


def test_embedded_default_equals_policies_default() -> None:
    assert default_policy_text() == (REPO / "policies" / "default.toml").read_text("utf-8")


def test_there_are_policies_to_validate() -> None:
    assert POLICIES


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_every_policy_file_is_valid(path: Path) -> None:
    policy = load_policy(path)
    assert policy.path == path
    for rule_id in policy.rules:
        assert rule_id in RULES


def test_default_policy_decisions() -> None:
    policy = load_policy()
    assert policy.origin == "<embedded default>"
    assert policy.rule("hash-mismatch").decision is Decision.DENY
    assert policy.rule("hash-mismatch").on_error is Decision.DENY
    assert policy.rule("yanked").decision is Decision.WARN
    assert policy.rule("index-metadata").decision is Decision.ALLOW
    assert policy.rule("index-metadata").on_error is Decision.WARN
    assert policy.rule("verification-incomplete").decision is Decision.DENY


def test_unmentioned_rules_keep_their_defaults() -> None:
    policy = parse_policy("version = 1\n", origin="inline")
    for rule_id, info in RULES.items():
        assert policy.rule(rule_id).decision is info.decision
        assert policy.rule(rule_id).on_error is info.on_error


def test_override_one_rule() -> None:
    policy = parse_policy('[rules.yanked]\ndecision = "deny"\n', origin="inline")
    assert policy.rule("yanked").decision is Decision.DENY
    assert policy.rule("yanked").on_error is RULES["yanked"].on_error


@pytest.mark.parametrize(
    ("text", "line", "fragments"),
    [
        ('version = 1\n[rules.yanky]\ndecision = "deny"\n', 2, ["yanky", "did you mean 'yanked'"]),
        (
            'version = 1\n\n[rules.yanked]\ndecison = "deny"\n',
            4,
            ["decison", "did you mean 'decision'"],
        ),
        ('[rules.yanked]\ndecision = "block"\n', 2, ["'block'", "allow, warn, deny"]),
        ("[rules.yanked]\ndecision = 3\n", 2, ["3", "allow, warn, deny"]),
        ("version = 2\n", 1, ["version 2"]),
        ("versoin = 1\n", 1, ["did you mean 'version'"]),
        ('rules = "all"\n', 1, ["table"]),
        ("[rules]\nyanked = 'deny'\n", 2, ["must be a table"]),
        ('[rules.hash-mismatch]\ndecision = "warn"\n', 1, ["cannot be lowered"]),
        ('[rules.yanked\ndecision = "deny"\n', 1, ["invalid TOML"]),
    ],
)
def test_invalid_policies_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, fragments: list[str]
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    error = raised.value
    assert error.exit_code == 2
    assert error.path == path
    assert error.line == line
    message = error.one_line()
    assert message.startswith(f"{path}:{line}: ")
    for fragment in fragments:
        assert fragment in message


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "absent.toml")


@pytest.mark.parametrize("name", ["default", "strict"])
def test_embedded_policies_equal_the_repository_copies(name: str) -> None:
    from verify.policy import builtin_policy_text

    assert builtin_policy_text(name) == (REPO / "policies" / f"{name}.toml").read_text("utf-8")


def test_extends_builtin_and_relative_files(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text('extends = "strict"\n[rules.release-age]\nmin-age = "2d"\n')
    (tmp_path / "team.toml").write_text(
        'extends = "base.toml"\n[rules.yanked]\ndecision = "warn"\n'
    )
    policy = load_policy(tmp_path / "team.toml")
    assert policy.rule("yanked").decision is Decision.WARN  # the child wins
    assert policy.rule("build-from-source").decision is Decision.DENY  # from strict
    assert policy.rule("release-age").params["min-age"] == 2 * 86400  # from base.toml
    assert policy.rule("release-age").decision is Decision.DENY  # strict, kept by base
    assert policy.chain[0] == "<embedded default>"
    assert policy.chain[-1] == str((tmp_path / "team.toml").resolve())


def test_package_overrides_match_globs_and_later_ones_win() -> None:
    policy = parse_policy(
        '[rules.yanked]\ndecision = "deny"\n'
        '[[packages]]\nmatch = "acme-*"\n[packages.rules.yanked]\ndecision = "warn"\n'
        '[[packages]]\nmatch = "acme-legacy"\n[packages.rules.yanked]\ndecision = "allow"\n',
        origin="inline",
    )
    assert policy.rule("yanked", package="requests").decision is Decision.DENY
    assert policy.rule("yanked", package="acme-tools").decision is Decision.WARN
    assert policy.rule("yanked", package="acme-legacy").decision is Decision.ALLOW
    assert policy.rule("yanked").decision is Decision.DENY


@pytest.mark.parametrize(
    ("value", "seconds"), [('"3d"', 259200), ('"12h"', 43200), ('"90m"', 5400), ("60", 60)]
)
def test_durations(value: str, seconds: int) -> None:
    policy = parse_policy(f"[rules.release-age]\nmin-age = {value}\n", origin="inline")
    assert policy.rule("release-age").params["min-age"] == seconds


@pytest.mark.parametrize(
    ("files", "line", "fragments"),
    [
        ({"p.toml": '[rules.release-age]\nmin-age = "3 days"\n'}, 2, ["not a duration"]),
        ({"p.toml": "[rules.release-age]\nmin-age = true\n"}, 2, ["not a duration"]),
        ({"p.toml": '[[packages]]\nmatch = "Acme_*"\n'}, 1, ["bad package pattern", "normalized"]),
        ({"p.toml": '[[packages]]\nmatch = "acme-[x"\n'}, 1, ["bad package pattern"]),
        ({"p.toml": "[[packages]]\nrules = {}\n"}, 1, ["match needs a glob"]),
        ({"p.toml": '[[packages]]\nmatch = "a"\nrule = {}\n'}, 1, ["did you mean 'rules'"]),
        ({"p.toml": 'extends = "nope.toml"\n'}, 1, ["extends 'nope.toml'", "no such policy"]),
        (
            {"p.toml": 'extends = "q.toml"\n', "q.toml": 'extends = "p.toml"\n'},
            None,
            ["extends itself"],
        ),
        ({"p.toml": "extends = 3\n"}, 1, ["'extends' must be"]),
    ],
)
def test_more_invalid_policies(
    tmp_path: Path, files: dict[str, str], line: int | None, fragments: list[str]
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(PolicyError) as raised:
        load_policy(tmp_path / "p.toml")
    assert raised.value.exit_code == 2
    if line is not None:
        assert raised.value.line == line
    for fragment in fragments:
        assert fragment in raised.value.one_line()


@pytest.mark.parametrize(
    ("severity", "default", "strict"),
    [
        (Severity.INFO, Decision.ALLOW, Decision.ALLOW),
        (Severity.LOW, Decision.ALLOW, Decision.WARN),
        (Severity.MEDIUM, Decision.WARN, Decision.DENY),
        (Severity.HIGH, Decision.DENY, Decision.DENY),
        (Severity.CRITICAL, Decision.DENY, Decision.DENY),
    ],
)
def test_behaviour_findings_are_decided_by_severity(
    severity: Severity, default: Decision, strict: Decision
) -> None:
    assert load_policy().behaviour_decision("process-spawn", severity) is default
    strict_policy = load_policy(REPO / "policies" / "strict.toml")
    assert strict_policy.behaviour_decision("process-spawn", severity) is strict


def test_a_behaviour_rule_id_overrides_the_severity_thresholds() -> None:
    policy = parse_policy(
        "[rules.process-spawn]\n"
        'decision = "allow"\n'
        "[[packages]]\n"
        'match = "acme-*"\n'
        "[packages.rules.process-spawn]\n"
        'decision = "deny"\n',
        origin="inline",
    )
    assert policy.behaviour_decision("process-spawn", Severity.CRITICAL) is Decision.ALLOW
    assert policy.behaviour_decision("pth-exec", Severity.CRITICAL) is Decision.DENY
    assert (
        policy.behaviour_decision("process-spawn", Severity.LOW, package="acme-tool")
        is Decision.DENY
    )


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ('decision = "warn"', Decision.WARN),
        ('decision = "allow"', Decision.ALLOW),
        ('deny-at = "critical"', Decision.WARN),
        ('warn-at = "critical"\ndeny-at = "critical"', Decision.ALLOW),
    ],
)
def test_the_behaviour_rule_caps_and_moves_thresholds(settings: str, expected: Decision) -> None:
    policy = parse_policy(f"[rules.behaviour]\n{settings}\n", origin="inline")
    assert policy.behaviour_decision("credential-read", Severity.HIGH) is expected


def test_behaviour_thresholds_must_be_severities() -> None:
    with pytest.raises(PolicyError, match=r"rules\.behaviour\.deny-at"):
        parse_policy('[rules.behaviour]\ndeny-at = "severe"\n', origin="inline")


def test_the_docs_document_every_rule_id() -> None:
    # The rule ids table is docs/policy.md's, the behaviour finding ids docs/behaviour.md's.
    docs = "".join(
        (REPO / "docs" / page).read_text("utf-8") for page in ("policy.md", "behaviour.md")
    )
    missing = [rule_id for rule_id in RULES if f"`{rule_id}`" not in docs]
    assert missing == []
