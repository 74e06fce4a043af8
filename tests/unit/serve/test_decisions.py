"""verify._serve.decisions and verify._serve.reviewers: the decision log the proxy and the gate
share, and who may decide."""

from __future__ import annotations

import multiprocessing
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from verify._serve.decisions import Action, Decision, Decisions
from verify._serve.reviewers import Reviewers
from verify.errors import UsageError


def decision(sha: str = "a" * 64, action: Action = Action.ALLOW, **fields: object) -> Decision:
    values: dict[str, object] = {
        "sha256": sha,
        "filename": "acme-1.1-py3-none-any.whl",
        "action": action,
        "reason": "reviewed",
        "by": "alice",
        "at": datetime.now(timezone.utc),
        **fields,
    }
    return Decision(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "names no reviewer"),
        ("# nobody\n", "names no reviewer"),
        ("alice\n", "not NAME:TOKEN"),
        ("alice:short\n", "16 characters"),
        (":" + "t" * 20 + "\n", "not NAME:TOKEN"),
    ],
)
def test_bad_reviewer_files_are_usage_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "reviewers"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        Reviewers.load(path)
    with pytest.raises(UsageError, match="cannot read"):
        Reviewers.load(tmp_path / "absent")


def test_reviewers_sign_in_with_name_and_token(tmp_path: Path) -> None:
    path = tmp_path / "reviewers"
    path.write_text("alice:" + "t" * 20 + "\n", encoding="utf-8")
    reviewers = Reviewers.load(path)
    assert reviewers.who("alice", "t" * 20) == "alice"
    assert reviewers.who("alice", "t" * 19) is None
    assert reviewers.who("bob", "t" * 20) is None
    assert reviewers.who(None, None) is None


def test_an_allow_expires_and_a_torn_log_line_is_skipped(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    until = date.today() + timedelta(days=1)
    first = decision(expires=until, reason="temporary")
    Decisions(log).record(first)
    with log.open("a", encoding="utf-8") as handle:
        handle.write('{"sha256": "a')  # a crash mid-append
    reread = Decisions(log)
    assert reread.history("a" * 64) == [first]
    assert reread.allowed("a" * 64, until) == first
    assert reread.allowed("a" * 64, until + timedelta(days=1)) is None
    # The next decision ends the torn line instead of joining it, and counts.
    later = decision(action=Action.KEEP_BLOCKED, reason="no")
    reread.record(later)
    assert Decisions(log).history("a" * 64) == [first, later]
    assert reread.allowed("a" * 64, until) is None


def _record_elsewhere(log: Path, sha: str) -> None:
    Decisions(log).record(decision(sha))


def test_decisions_made_by_another_process_count_here(tmp_path: Path) -> None:
    log = tmp_path / "decisions.jsonl"
    here = Decisions(log)
    assert here.allowed("b" * 64, date.today()) is None
    process = multiprocessing.get_context("spawn").Process(
        target=_record_elsewhere, args=(log, "b" * 64)
    )
    process.start()
    process.join(60)
    assert process.exitcode == 0
    allowed = here.allowed("b" * 64, date.today())
    assert allowed is not None
    assert allowed.by == "alice"
    assert [d.sha256 for d in here.history("b" * 64)] == ["b" * 64]


def test_a_decision_that_cannot_be_written_raises(tmp_path: Path) -> None:
    decisions = Decisions(tmp_path / "state" / "decisions.jsonl")
    (tmp_path / "state").write_text("", encoding="utf-8")  # its directory cannot be made
    with pytest.raises(FileExistsError):
        decisions.record(decision())
    assert decisions.history("a" * 64) == []


def test_an_unreadable_log_at_start_up_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "decisions.jsonl").mkdir()
    with pytest.raises(UsageError, match="cannot read the review decisions"):
        Decisions(tmp_path / "decisions.jsonl")
