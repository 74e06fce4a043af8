"""The proxy's workers in this process: what a worker answers a job (verified here against a
real loopback upstream, refused for another verdict digest or a malformed message), and what
the proxy's side makes of a queue it cannot reach (the end-to-end test with Redis and a worker
process is in tests/integration/test_proxy.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.agents import clean_and_hooked
from tests.helpers.policies import without_provenance_requirement
from verify._proxy.index import ProxySettings, VerifiedIndex
from verify._proxy.remote import encode_job, judged_from_dict
from verify._proxy.verdicts import verdict_digest
from verify._proxy.verification import FileJob
from verify.settings import NetworkSettings, VerificationSettings


@pytest.fixture
def settings(
    dist_factory: DistFactory, package_index: PackageIndex, tmp_path: Path
) -> ProxySettings:
    clean_and_hooked(dist_factory, package_index)
    return ProxySettings(
        upstream=package_index.url,
        verification=VerificationSettings(
            policy_path=without_provenance_requirement(),
            record=False,
            vulnerability_db=Path(os.environ["PIP_VERIFY_VULNERABILITY_DB"]),
        ),
        network=NetworkSettings(cache_dir=tmp_path / "cache", retries=0, timeout=10),
    )


def job(index: PackageIndex, filename: str) -> FileJob:
    name, version = filename.split("-")[:2]
    return FileJob(
        canonicalize_name(name), Version(version), filename, index.files[filename].sha256
    )


def test_a_worker_verifies_a_job_and_answers_the_next_from_its_verdict(
    settings: ProxySettings, package_index: PackageIndex
) -> None:
    pytest.importorskip("celery", reason="celery is not installed (it is in the test extra)")
    from verify._proxy.worker import DIGEST_DIFFERS, _ProxyWorker

    digest = verdict_digest(settings.upstream, settings.verification, settings.network)
    worker = _ProxyWorker(settings, digest)
    try:
        hooked = job(package_index, "hookpkg-1.0-py3-none-any.whl")
        first = judged_from_dict(worker.verify(encode_job(hooked, digest)))
        assert (first.allowed, first.complete) == (False, True)
        assert "pth-exec" in first.rules
        again = judged_from_dict(worker.verify(encode_job(hooked, digest)))
        assert again.judged_at == first.judged_at  # from the kept verdict, not verified again
        clean = job(package_index, "cleanpkg-1.0-py3-none-any.whl")
        assert judged_from_dict(worker.verify(encode_job(clean, digest))).allowed
        assert worker.verify(encode_job(clean, "0" * 64)) == {"refused": DIGEST_DIFFERS}
        assert "refused" in worker.verify({"version": 1})
    finally:
        index = worker.index()
        index.close()


def test_a_proxy_whose_queue_cannot_be_reached_verifies_nothing(
    settings: ProxySettings, package_index: PackageIndex
) -> None:
    pytest.importorskip("celery", reason="celery is not installed (it is in the test extra)")
    from verify._proxy.remote import RemoteVerification

    queue = RemoteVerification("redis://127.0.0.1:1/0", "d" * 64, timeout=5)
    try:
        clean = job(package_index, "cleanpkg-1.0-py3-none-any.whl")
        first, shared = queue.submit([clean, clean])
        assert first is shared  # one job per file
        judged = first.result(timeout=60)
        assert (judged.allowed, judged.complete) == (False, False)
        assert "could not verify" in judged.reason
    finally:
        queue.close()
    with pytest.raises(RuntimeError, match="closed"):
        queue.submit([clean])


def test_verify_here_answers_from_a_fresh_verdict(
    settings: ProxySettings, package_index: PackageIndex
) -> None:
    index = VerifiedIndex(settings, verify_locally=True)
    try:
        clean = job(package_index, "cleanpkg-1.0-py3-none-any.whl")
        first = index.verify_here(clean)
        assert first.allowed
        second = index.verify_here(clean)
        assert second.judged_at == first.judged_at
        assert second.report_json
    finally:
        index.close()
