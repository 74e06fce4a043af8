"""The gate's routing for every kind of verdict and failure, through Werkzeug's test client.

The screener is a stand-in here (the end-to-end tests in tests/integration/test_gate.py run
the real one); the quarantine and the request parsing are the real ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from urllib3 import encode_multipart_formdata
from werkzeug.test import Client, TestResponse

from tests.helpers.pypiserver import free_port
from verify._index.session import HttpSession
from verify._upload.app import GateConfig, UploadGate
from verify._upload.quarantine import Quarantine
from verify._upload.verdict import Outcome, Verdict
from verify.errors import ArchiveError, InvalidInputError, NetworkError

WHEEL = "demo-1.0-py3-none-any.whl"
CONTENT = b"PK\x03\x04 stand-in wheel bytes"


class _Screener:
    def __init__(self, answer: Callable[[Path], Verdict]) -> None:
        self.answer = answer
        self.seen: list[Path] = []

    def screen(self, path: Path) -> Verdict:
        self.seen.append(path)
        return self.answer(path)


def _raise(exc: Exception) -> Callable[[Path], Verdict]:
    def answer(path: Path) -> Verdict:
        raise exc

    return answer


def _verdict(outcome: Outcome, code: int, reason: str) -> Callable[[Path], Verdict]:
    return lambda path: Verdict(outcome, code, reason, '{"decision": "deny"}')


def _gate(tmp_path: Path, screener: _Screener, session: HttpSession) -> UploadGate:
    return UploadGate(
        GateConfig(
            upstream_url=f"http://127.0.0.1:{free_port()}/",
            work_dir=tmp_path / "quarantine" / ".spool",
        ),
        screener=screener,
        quarantine=Quarantine(tmp_path / "quarantine"),
        session=session,
    )


def _post(client: Client, *, auth: bool = True) -> TestResponse:
    body, content_type = encode_multipart_formdata(
        [
            (":action", "file_upload"),
            ("protocol_version", "1"),
            ("name", "demo"),
            ("version", "1.0"),
            ("sha256_digest", hashlib.sha256(CONTENT).hexdigest()),
            ("content", (WHEEL, CONTENT, "application/octet-stream")),
        ]
    )
    headers = {"Authorization": "Basic dXBsb2FkZXI6c2VjcmV0"} if auth else {}
    return client.post("/", data=body, content_type=content_type, headers=headers)


@pytest.mark.parametrize(
    ("answer", "status", "reason", "decision"),
    [
        (_raise(RuntimeError("boom")), 500, "pip-verify gate internal error", "internal-error"),
        (_raise(NetworkError("index.example unreachable")), 503, "could not screen", "unavailable"),
        (
            _raise(InvalidInputError("invalid trust store", path=Path("t.toml"))),
            503,
            "could not screen",
            "unavailable",
        ),
        (
            _raise(ArchiveError("not a zip archive", path=Path(WHEEL))),
            400,
            "Bad upload",
            "bad-request",
        ),
        (_verdict(Outcome.REFUSE, 2, "not a zip archive"), 400, "Bad upload", "bad-request"),
        (_verdict(Outcome.UNAVAILABLE, 3, "index down"), 503, "index down", "unavailable"),
        (
            _verdict(Outcome.REFUSE, 1, "pip-verify refused it"),
            403,
            "pip-verify refused it",
            "refused",
        ),
        (_verdict(Outcome.ACCEPT, 0, "accepted"), 503, "upstream index", "upstream-unavailable"),
    ],
)
def test_every_outcome_is_routed_and_only_refusals_are_quarantined(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    answer: Callable[[Path], Verdict],
    status: int,
    reason: str,
    decision: str,
) -> None:
    screener = _Screener(answer)
    with HttpSession(retries=0, timeout=5) as session:
        gate = _gate(tmp_path, screener, session)
        with caplog.at_level(logging.INFO, logger="verify.gate"):
            response = _post(Client(gate))
        gate.close()
    assert response.status_code == status
    assert reason in response.status
    assert "Traceback" not in response.get_data(as_text=True)
    records = [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith("{")]
    assert [r["decision"] for r in records] == [decision]
    assert records[0]["status"] == status
    held = Quarantine(tmp_path / "quarantine").list()
    assert len(held) == (1 if status == 403 else 0)
    assert screener.seen[0].name == WHEEL
    # Nothing of the upload is left in the spool, whatever happened.
    assert not [p for p in (tmp_path / "quarantine" / ".spool").rglob("*") if p.is_file()]


def test_no_credentials_means_401_before_any_work(tmp_path: Path) -> None:
    screener = _Screener(_verdict(Outcome.ACCEPT, 0, "accepted"))
    with HttpSession(retries=0) as session:
        gate = _gate(tmp_path, screener, session)
        response = _post(Client(gate), auth=False)
        gate.close()
    assert response.status_code == 401
    assert "Basic" in response.headers["WWW-Authenticate"]
    assert screener.seen == []


def test_reads_and_other_methods(tmp_path: Path) -> None:
    with HttpSession(retries=0) as session:
        gate = _gate(tmp_path, _Screener(_raise(RuntimeError())), session)
        client = Client(gate)
        assert client.get("/health").status_code == 200
        assert client.get("/").status_code == 405
        assert client.put("/").status_code == 405
        gate.close()


def test_a_refusal_never_reads_as_already_existing(tmp_path: Path) -> None:
    screener = _Screener(_verdict(Outcome.REFUSE, 1, "pip-verify refused: File already exists"))
    with HttpSession(retries=0) as session:
        gate = _gate(tmp_path, screener, session)
        response = _post(Client(gate))
        gate.close()
    assert response.status_code == 403
    assert "already exist" not in response.status.lower()
    assert "already exist" not in response.get_data(as_text=True).lower()


def test_gates_sharing_a_quarantine_keep_their_own_spools(tmp_path: Path) -> None:
    screener = _Screener(_verdict(Outcome.ACCEPT, 0, "accepted"))
    with HttpSession(retries=0) as session:
        first = _gate(tmp_path, screener, session)
        marker = first._spool.path / "in-flight"
        marker.write_text("an upload being screened")
        second = _gate(tmp_path, screener, session)  # starts while the first is running
        assert marker.exists()
        second.close()
        first.close()
    assert not list((tmp_path / "quarantine" / ".spool").iterdir())


def test_an_allow_never_forwards_an_upload_whose_screening_did_not_finish(
    tmp_path: Path,
) -> None:
    from datetime import datetime, timezone

    from verify._serve.decisions import Action, Decision, Decisions

    decisions = Decisions(tmp_path / "decisions.jsonl")
    decisions.record(
        Decision(
            hashlib.sha256(CONTENT).hexdigest(),
            WHEEL,
            Action.ALLOW,
            "reviewed earlier",
            "alice",
            datetime.now(timezone.utc),
        )
    )
    screener = _Screener(_verdict(Outcome.UNAVAILABLE, 3, "index down"))
    with HttpSession(retries=0, timeout=5) as session:
        gate = UploadGate(
            GateConfig(
                upstream_url=f"http://127.0.0.1:{free_port()}/",
                work_dir=tmp_path / "quarantine" / ".spool",
            ),
            screener=screener,
            quarantine=Quarantine(tmp_path / "quarantine"),
            session=session,
            decisions=decisions,
        )
        response = _post(Client(gate))
        gate.close()
    # Screening that could not finish is never overruled: 503, nothing forwarded or kept.
    assert response.status_code == 503
    assert "index down" in response.status
    assert not list((tmp_path / "quarantine").glob("[0-9a-f]" * 64))
