"""``RuleId`` is the one registry of rule ids: the policy's rules, the behaviour catalogue,
the engine and every finding the package files are checked against it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from verify._rules.behaviour import BEHAVIOUR_RULES
from verify._rules.ids import RuleFamily, RuleId, family
from verify.policy.rules import RULES

PACKAGE = Path(__file__).resolve().parents[3] / "verify"
DOCS = Path(__file__).resolve().parents[3] / "docs"
ENGINE = PACKAGE / "_verifier"

#: A string literal that opens a Finding, a Reason or a catalogue entry: the id it files.
_FILED = re.compile(
    r"(?:Finding\(\s*(?:rule=)?|_finding\(\s*|_mismatch\(\s*|Reason\(\s*|BehaviourRule\(\s*"
    r"|RuleInfo\(\s*)\"([a-z][a-z0-9-]+)\""
)


def _ids(*families: RuleFamily) -> set[str]:
    return {rule.value for rule in RuleId if family(rule) in families}


def test_the_policy_knows_every_rule_but_the_notes() -> None:
    notes = _ids(RuleFamily.NOTES)
    assert set(RULES) == {rule.value for rule in RuleId} - notes


def test_the_behaviour_catalogue_is_the_behaviour_family() -> None:
    assert set(BEHAVIOUR_RULES) == _ids(RuleFamily.BEHAVIOUR) - {"behaviour"}
    # The behaviour rule itself is the policy's switch for the whole family.
    assert family(RuleId.BEHAVIOUR) is RuleFamily.BEHAVIOUR


def test_every_id_filed_anywhere_is_registered() -> None:
    registered = {rule.value for rule in RuleId}
    filed = {
        (path.relative_to(PACKAGE.parent).as_posix(), found)
        for path in PACKAGE.rglob("*.py")
        for found in _FILED.findall(path.read_text(encoding="utf-8"))
    }
    unknown = sorted(f"{where}: {rule}" for where, rule in filed if rule not in registered)
    assert not unknown, "rule ids missing from RuleId: " + ", ".join(unknown)
    assert len({rule for _, rule in filed}) > 40  # the scan does see the package's ids


def test_the_engine_names_rules_only_through_rule_id() -> None:
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in ENGINE.rglob("*.py")]
    adds = [
        node
        for tree in trees
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "plan"
    ]
    assert len(adds) > 20
    for call in adds:
        first = call.args[0]
        assert isinstance(first, ast.Attribute), ast.unparse(call)
        assert isinstance(first.value, ast.Name), ast.unparse(call)
        assert first.value.id == "RuleId", ast.unparse(call)
        assert first.attr in RuleId.__members__


def test_notes_are_documented_with_the_rules() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    for rule in _ids(RuleFamily.NOTES):
        assert f"`{rule}`" in text, rule


def test_values_are_the_ids_reports_use() -> None:
    for rule in RuleId:
        assert rule.value == rule.name.lower().replace("_", "-")
