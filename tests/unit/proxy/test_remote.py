"""verify._proxy.remote: the proxy's job messages and the workers' answers, checked rather
than trusted in both directions. (The real queue, Redis and a worker run in
tests/integration/test_proxy.py.)"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from verify._proxy.remote import decode_job, encode_job, judged_from_dict, judged_to_dict
from verify._proxy.verification import FileJob, Judged, incomplete

JOB = FileJob(canonicalize_name("acme"), Version("1.1"), "acme-1.1-py3-none-any.whl", "a" * 64)
DIGEST = "d" * 64


def test_a_job_round_trips() -> None:
    assert decode_job(encode_job(JOB, DIGEST)) == (JOB, DIGEST)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "not a pip-verify proxy job"),
        ({"project": 7}, "not text"),
        ({"project": "Acme"}, "unusable project"),
        ({"filename": "../../etc/passwd"}, "unusable project or file"),
        ({"sha256": "A" * 64}, "not a sha256"),
        ({"digest": "short"}, "not a sha256"),
        ({"release": "not a version"}, "version is invalid"),
    ],
)
def test_a_malformed_job_is_refused(change: dict[str, Any], message: str) -> None:
    payload = encode_job(JOB, DIGEST) | change
    with pytest.raises(ValueError, match=message):
        decode_job(payload)
    with pytest.raises(ValueError, match="not a pip-verify proxy job"):
        decode_job(["not", "a", "job"])


def test_an_outcome_round_trips_and_a_malformed_one_is_refused() -> None:
    judged = Judged(
        allowed=False,
        complete=True,
        reason="pip-verify denied acme-1.1-py3-none-any.whl: pth-exec: ...",
        rules=("pth-exec",),
        judged_at=datetime(2026, 12, 6, tzinfo=timezone.utc),
        report_json="{}",
        severity="high",
        publisher="none (absent)",
    )
    assert judged_from_dict(judged_to_dict(judged)) == judged
    failed = incomplete("the upstream is down")
    assert judged_from_dict(judged_to_dict(failed)).complete is False
    for broken in (
        judged_to_dict(judged) | {"allowed": "yes"},
        judged_to_dict(judged) | {"rules": "pth-exec"},
        {"allowed": True},
        None,
    ):
        with pytest.raises((KeyError, TypeError, ValueError)):
            judged_from_dict(broken)
