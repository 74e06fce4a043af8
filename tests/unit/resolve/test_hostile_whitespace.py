"""Long runs of whitespace in requirements files and policies read in linear time (issue 15).

Both come from pull requests. The comment pattern of requirements files took 7.6 s for 40,000
spaces (quadratic), and the policy's key-line scanner minutes for 4,000 (cubic). Each case
runs under a deadline that interrupts the regex engine, so a regression fails instead of
hanging the suite.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from verify._resolve.requirements import RequirementsFile, read_requirements
from verify.policy.load import load_policy

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="the deadline needs SIGALRM, which Windows lacks"
)

RUN = 200_000
#: Generous for a loaded 2-core runner: the linear readers take about 0.1 s.
LIMIT = 1.0
SHA = "0569859f95fc761b18b45ef421b1290a0f65f147e92a1e5eb3e635f9a5e4e66f"


class _TooSlow(Exception):
    pass


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`_TooSlow` in the code run within, after ``seconds``."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _TooSlow(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _summary(parsed: RequirementsFile) -> list[tuple[object, ...]]:
    return [
        (
            str(line.requirement),
            dict(line.hashes),
            line.location.line,
            line.editable,
            line.url,
            line.options,
        )
        for line in parsed.lines
    ]


def _read(tmp_path: Path, text: str) -> RequirementsFile:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return read_requirements(path)


#: Each case with ``{ws}`` where the run goes; one space reads the same as the run.
CASES = {
    "spaces at the end": "requests==2.31.0{ws}\n",
    "spaces then a comment": "requests==2.31.0{ws}# pinned\n",
    "tabs at the end": "requests==2.31.0{tabs}\n",
    "tabs then a comment": "requests==2.31.0{tabs}# pinned\n",
    "a line of spaces": "{ws}\nrequests==2.31.0\n",
    "an indented comment": "{ws}# comment\nrequests==2.31.0\n",
    "spaces before a marker": "requests==2.31.0 ;{ws}python_version >= '3.8'\n",
    "spaces before a continuation": "requests==2.31.0{ws}\\\n    --hash=sha256:" + SHA + "\n",
    "spaces before a hash": "requests==2.31.0{ws}--hash=sha256:" + SHA + "  # via x\n",
}


@pytest.mark.parametrize("template", CASES.values(), ids=list(CASES))
def test_long_whitespace_run_in_requirements_reads_fast(tmp_path: Path, template: str) -> None:
    expected = _summary(_read(tmp_path, template.format(ws=" ", tabs="\t")))
    assert expected  # every case has a requirement to compare
    hostile = template.format(ws=" " * RUN, tabs="\t" * RUN)
    started = time.monotonic()
    with _deadline(LIMIT):
        parsed = _read(tmp_path, hostile)
    assert time.monotonic() - started < LIMIT
    assert _summary(parsed) == expected


def test_ordinary_comments_are_still_dropped(tmp_path: Path) -> None:
    parsed = _read(
        tmp_path,
        "# a comment\n"
        "  # an indented comment\n"
        "idna==3.6 # trailing\n"
        "certifi==2024.2.2\t# after a tab\n"
        "six==1.16.0 \\\n"
        "  # a comment ends a continuation\n"
        "urllib3==2.2.1\n",
    )
    assert [str(line.requirement) for line in parsed.lines] == [
        "idna==3.6",
        "certifi==2024.2.2",
        "six==1.16.0",
        "urllib3==2.2.1",
    ]
    assert [line.location.line for line in parsed.lines] == [3, 4, 5, 7]


POLICY_CASES = {
    "an indented comment": "{ws}# comment\n",
    "spaces after a table header": "[rules.yanked]{ws}\n",
    "spaces inside a table header": "[rules.yanked{ws}]\n",
    "spaces before an assignment": "[rules.yanked]\n{ws}decision = 'deny'\n",
    "spaces in an array": "[[packages]]\nmatch = 'a'\nrules.yanked.decision = [\n{ws}'deny']\n",
}


@pytest.mark.parametrize("template", POLICY_CASES.values(), ids=list(POLICY_CASES))
def test_long_whitespace_run_in_a_policy_reads_fast(tmp_path: Path, template: str) -> None:
    # The scanner that finds the line of a key runs on every policy, valid or not.
    policy = tmp_path / "policy.toml"
    policy.write_text('version = 1\n[rules.release-age]\nmin-age = "1d"\n' + template.format(ws=""))
    try:
        expected: object = load_policy(policy).rules
    except Exception as exc:  # an invalid case must stay invalid, with the same message
        expected = str(exc)
    policy.write_text(
        'version = 1\n[rules.release-age]\nmin-age = "1d"\n' + template.format(ws=" " * RUN)
    )
    started = time.monotonic()
    with _deadline(LIMIT):
        try:
            found: object = load_policy(policy).rules
        except _TooSlow:
            raise
        except Exception as exc:
            found = str(exc)
    assert time.monotonic() - started < LIMIT
    assert found == expected
