"""The job summary of ``pip-verify fix`` lists the dependencies the new releases add or move,
apart from the packages fixed, each with what needs it (issue 17)."""

from __future__ import annotations

from packaging.utils import canonicalize_name
from packaging.version import Version

from verify._cli.fix_summary import render_fix_markdown
from verify.fix import DependencyChange, FixChange, FixOutcome
from verify.models import Decision, Report


def outcome(*dependencies: DependencyChange) -> FixOutcome:
    change = FixChange(
        canonicalize_name("foo"),
        Version("1.0"),
        Version("1.2"),
        "[vulnerability] GHSA-aaaa-bbbb-cccc",
        dependencies=dependencies,
    )
    report = Report(Decision.ALLOW, ())
    return FixOutcome((change,), "foo==1.2\n", report, original="foo==1.0\n")


def test_added_and_moved_dependencies_get_a_table_of_their_own() -> None:
    baz = DependencyChange(canonicalize_name("baz"), None, Version("1.0"), "foo 1.2", "baz>=1.0")
    qux = DependencyChange(canonicalize_name("qux"), Version("0.9"), Version("2.0"), "", "")
    markdown = render_fix_markdown(outcome(baz, qux), "requirements.txt", "minor")
    assert (
        "What the new releases need:\n\n"
        "| dependency | from | to | needed by | Requires-Dist |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| baz | added | 1.0 | foo 1.2 | baz&gt;=1.0 |\n"  # inert markdown
        "| qux | 0.9 | 2.0 |  |  |\n"
    ) in markdown


def test_without_dependencies_there_is_no_such_table() -> None:
    assert "What the new releases need" not in render_fix_markdown(outcome(), "r.txt", "minor")
