"""verify._behaviour.explain: one sentence on why a finding is dangerous."""

from __future__ import annotations

import pytest

from verify._behaviour.explain import explain, explain_rule
from verify._behaviour.profile import Capability, Phase
from verify.models import Severity


def _capability(rule: str, phase: Phase, concealed: str | None = None) -> Capability:
    return Capability(
        rule, Severity.HIGH, "m", "setup.py", 3, "k", phase=phase, concealed=concealed
    )


def test_the_sentence_says_what_when_and_how_it_hides() -> None:
    why = explain(_capability("process-spawn", Phase.INSTALL, "CREATE_NO_WINDOW"))
    assert why == (
        "Dangerous because it starts programs with the rights of whoever installs or uses it, "
        "during pip install, before anyone has used or reviewed the package; it hides this "
        "behind CREATE_NO_WINDOW."
    )


@pytest.mark.parametrize(
    ("phase", "when"),
    [
        (Phase.STARTUP, "at every interpreter start-up"),
        (Phase.IMPORT, "as soon as the package is imported"),
    ],
)
def test_the_phase_is_named(phase: Phase, when: str) -> None:
    assert f", {when}." in explain(_capability("network-access", phase))


def test_run_time_code_names_no_phase() -> None:
    assert explain(_capability("decode-exec", Phase.RUNTIME)) == (
        "Dangerous because it runs code it keeps encoded, out of sight of readers and scanners."
    )


def test_every_capability_rule_has_its_own_sentence() -> None:
    from verify._behaviour.patterns import SPECIFIC_RULES

    for rule in (*SPECIFIC_RULES, "process-spawn", "network-access", "obfuscation"):
        why = explain_rule(rule)
        assert why is not None, rule
        assert "of what it does" not in explain(_capability(rule, Phase.RUNTIME))


def test_a_rule_without_a_sentence_has_none() -> None:
    assert explain_rule("license-change") is None
