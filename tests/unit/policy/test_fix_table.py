"""The policy's ``[fix]`` table: ``pip-verify fix``'s guardrails, their defaults (stated in the
embedded policy), inheritance through ``extends``, the cooldown taken from ``release-age``
when the table sets none, and a one-line error naming the file, the line and the key for
anything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verify._cli import main
from verify.errors import PolicyError
from verify.policy import load_policy, parse_policy
from verify.policy.describe import cooldown_days, describe_fix
from verify.policy.model import FIX_DEFAULTS, FixPolicy, UpdateKind

DAY = 86400


def test_the_embedded_default_states_the_defaults() -> None:
    embedded = load_policy()
    assert embedded.fix == FIX_DEFAULTS
    assert parse_policy("version = 1\n", origin="inline").fix_guardrails() == FIX_DEFAULTS
    assert FixPolicy(UpdateKind.MINOR, None, True, True, False) == FIX_DEFAULTS


def test_every_key_is_read() -> None:
    policy = parse_policy(
        '[fix]\nallow = "major"\ncooldown-days = 10\nsame-index = false\n'
        "same-publisher = false\ndowngrade = true\n",
        origin="inline",
    )
    assert policy.fix == FixPolicy(UpdateKind.MAJOR, 10, False, False, True)
    assert policy.fix_cooldown() == 10 * DAY


def test_a_child_sets_only_what_it_names(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text('[fix]\nallow = "patch"\ndowngrade = true\n')
    (tmp_path / "team.toml").write_text('extends = "base.toml"\n[fix]\ndowngrade = false\n')
    policy = load_policy(tmp_path / "team.toml")
    assert policy.fix == FixPolicy(allow=UpdateKind.PATCH, downgrade=False)
    assert policy.fix_guardrails() == FixPolicy(UpdateKind.PATCH, None, True, True, False)


def test_without_cooldown_days_the_release_age_rule_decides() -> None:
    policy = parse_policy(
        '[rules.release-age]\nmin-age = "12h"\n'
        '[[packages]]\nmatch = "acme-*"\n[packages.rules.release-age]\ndecision = "allow"\n'
        '[[packages]]\nmatch = "slow"\n[packages.rules.release-age]\nmin-age = "2w"\n',
        origin="inline",
    )
    assert policy.fix_cooldown() == DAY // 2
    assert policy.fix_cooldown(package="acme-tools") == 0  # the rule is off for it
    assert policy.fix_cooldown(package="slow") == 14 * DAY
    assert describe_fix(policy)["cooldown-days"] == 0.5
    assert describe_fix(policy)["cooldown-from"] == "release-age"
    # cooldown-days wins over the rule, for every package.
    fixed = parse_policy(
        '[fix]\ncooldown-days = 0\n[rules.release-age]\nmin-age = "9d"\n', origin="inline"
    )
    assert fixed.fix_cooldown(package="anything") == 0
    assert describe_fix(fixed) == {
        "allow": "minor",
        "cooldown-days": 0,
        "cooldown-from": "fix",
        "same-index": True,
        "same-publisher": True,
        "downgrade": False,
    }


@pytest.mark.parametrize(("seconds", "days"), [(3 * DAY, 3), (DAY // 2, 0.5), (3600, 0.0417)])
def test_cooldowns_read_as_days(seconds: int, days: float) -> None:
    assert cooldown_days(seconds) == days


@pytest.mark.parametrize(
    ("text", "line", "fragments"),
    [
        ('[fix]\nalow = "minor"\n', 2, ["unknown key in [fix]: 'alow'", "did you mean 'allow'"]),
        ('version = 1\n[fix]\nallow = "huge"\n', 3, ["fix.allow is 'huge'", "patch, minor, major"]),
        ("[fix]\nallow = 2\n", 2, ["fix.allow is 2"]),
        ("[fix]\ncooldown-days = -1\n", 2, ["fix.cooldown-days is -1", "0 or more"]),
        ("[fix]\ncooldown-days = 1.5\n", 2, ["fix.cooldown-days is 1.5", "whole number"]),
        ("[fix]\ncooldown-days = true\n", 2, ["fix.cooldown-days is True"]),
        ('[fix]\ncooldown-days = "3d"\n', 2, ["fix.cooldown-days is '3d'"]),
        ('[fix]\nsame-index = "yes"\n', 2, ["fix.same-index is 'yes'", "true or false"]),
        ("[fix]\nsame-publisher = 1\n", 2, ["fix.same-publisher is 1"]),
        ("\n[fix]\ndowngrade = 0\n", 3, ["fix.downgrade is 0"]),
        ('fix = "minor"\n', 1, ["'fix' must be a table"]),
        ('[fixes]\nallow = "minor"\n', 1, ["unknown key 'fixes'", "did you mean 'fix'"]),
    ],
)
def test_a_bad_fix_table_names_file_line_and_key(
    tmp_path: Path, text: str, line: int, fragments: list[str]
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    message = raised.value.one_line()
    assert raised.value.exit_code == 2
    assert message.startswith(f"{path}:{line}: "), message
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_policy_show_ends_with_the_guardrails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[fix]\nallow = "patch"\ncooldown-days = 7\n')
    assert main(["policy", "show", "--policy", str(path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "fix: allow = patch, cooldown-days = 7 (from fix), same-index = true, "
        "same-publisher = true, downgrade = false" in out
    )
    assert main(["policy", "show", "--policy", str(path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["fix"]["allow"] == "patch"
