"""The job summary of ``pip-verify fix`` with hostile names and reasons, the fenced blocks it
uses, where ``--output-dir`` puts a fixed lock, and the diff of an unchanged lock; without an
index (the real runs are in tests/integration/test_fix_summary.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from verify._cli.fix_summary import render_fix_markdown
from verify._format.markdown import code_block
from verify.errors import UsageError
from verify.fix import FixChange, FixOutcome, fixed_lock_path, lock_diff
from verify.models import Decision, Report

ALLOW = Report(Decision.ALLOW, ())


def outcome(before: str, after: str, *changes: FixChange) -> FixOutcome:
    return FixOutcome(changes, after, ALLOW, original=before)


def change(why: str, new: str | None = "1.2", tried: tuple[tuple[str, str], ...] = ()) -> FixChange:
    return FixChange(
        canonicalize_name("foo"), Version("1.0"), Version(new) if new else None, why, tried
    )


def test_a_line_of_backticks_cannot_close_the_diff_block() -> None:
    before = "foo==1.0\n"
    after = "foo==1.2\n# ```` closing?\n"
    text = render_fix_markdown(outcome(before, after, change("x")), "requirements.txt", "minor")
    assert "\n`````diff\n" in text
    assert "+# ```` closing?\n`````\n" in text


def test_reasons_and_tried_releases_are_inert_markdown() -> None:
    why = "[vulnerability] <img src=x> | @acme-example/team *bold*"
    tried = (("1.1", "foo 1.1: [pth-exec] a `.pth` \x1b[31mred"),)
    text = render_fix_markdown(
        outcome("a\n", "b\n", change(why, tried=tried)), "requirements.txt", "minor"
    )
    row = next(line for line in text.splitlines() if line.startswith("| foo |"))
    assert row.count(" | ") == 3  # the reason's pipe is escaped, not a new cell
    assert "&lt;img src=x&gt;" in row
    assert "@\u200bacme" in row
    assert "\\*bold\\*" in row
    assert "\x1b" not in text


def test_control_characters_in_the_lock_are_shown_as_escapes() -> None:
    text = render_fix_markdown(
        outcome("foo==1.0\n", "foo==1.2 # \u202e\x1b\n", change("x")), "requirements.txt", "minor"
    )
    assert "+foo==1.2 # \\u202e\\x1b\n" in text


def test_a_partial_fix_suggests_nothing() -> None:
    fixed = change("why foo")
    kept = FixChange(canonicalize_name("bar"), Version("1.0"), None, "why bar")
    text = render_fix_markdown(outcome("a\n", "b\n", fixed, kept), "requirements.txt", "major")
    assert "No lock within major updates passes the policy" in text
    assert "| foo | 1.0 | **1.2** | why foo |" in text
    assert "| bar | 1.0 | kept | why bar |" in text
    assert "```" not in text


def test_code_block_keeps_at_least_three_backticks() -> None:
    assert code_block("uv lock\n", "sh") == "```sh\nuv lock\n```\n"


def test_lock_diff_is_empty_when_nothing_changed() -> None:
    assert lock_diff(outcome("same\n", "same\n"), "uv.lock") == ""


def test_lock_diff_has_gits_paths() -> None:
    diff = lock_diff(outcome("a\n", "b\n"), "sub/requirements.txt")
    assert diff == ("--- a/sub/requirements.txt\n+++ b/sub/requirements.txt\n@@ -1 +1 @@\n-a\n+b\n")


@pytest.mark.parametrize(
    ("lock", "expected"),
    [
        ("requirements.txt", "out/requirements.txt"),
        ("services/api/pylock.toml", "out/services/api/pylock.toml"),
        ("../elsewhere/requirements.txt", "out/requirements.txt"),
        ("/abs/requirements.txt", "out/requirements.txt"),
    ],
)
def test_fixed_lock_path_mirrors_relative_paths_only(lock: str, expected: str) -> None:
    assert fixed_lock_path(Path("out"), Path(lock)) == Path(expected)


def test_fixed_lock_path_refuses_the_lock_itself(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="written over"):
        fixed_lock_path(tmp_path, tmp_path / "requirements.txt")
