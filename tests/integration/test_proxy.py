"""``pip-verify proxy`` end to end: real pip and uv resolve and install through it from a
loopback upstream, the upstream stops, and two proxies share verdicts through a real Redis.

The upstream holds ``acme 1.0`` (clean) and ``acme 1.1``, which adds a ``.pth`` file that runs
code at start-up. Through the proxy, clients get 1.0 and never the bytes of 1.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.dists import DistSpec
from tests.helpers.policies import without_provenance_requirement
from tests.helpers.proxy import ProxyProcess, ProxyWorkerProcess
from tests.helpers.redis import RedisServer

pytestmark = pytest.mark.integration

CLEAN = DistSpec("acme", "1.0", files={"acme/__init__.py": "VERSION = '1.0'\n"})
#: A harmless line, but code in a .pth runs at every interpreter start-up: what attackers use.
HOOKED = DistSpec(
    "acme",
    "1.1",
    files={
        "acme/__init__.py": "VERSION = '1.1'\n",
        "acme_hook.pth": "import os; os.environ.setdefault('ACME_HOOK', '1')\n",
    },
)


@pytest.fixture
def upstream(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    package_index.add(dist_factory.wheel(CLEAN))
    package_index.add(dist_factory.wheel(HOOKED))
    return package_index


def proxy_args(upstream: PackageIndex, cache: Path, *extra: str) -> tuple[str, ...]:
    return (
        "--upstream",
        upstream.url,
        "--cache-dir",
        str(cache),
        "--policy",
        str(without_provenance_requirement()),
        *extra,
    )


@pytest.fixture
def proxy(upstream: PackageIndex, tmp_path: Path) -> Iterator[ProxyProcess]:
    with ProxyProcess(*proxy_args(upstream, tmp_path / "proxy-cache")) as running:
        yield running


def pip(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-cache-dir", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
        cwd=cwd,
    )


def installed_versions(target: Path) -> list[str]:
    return sorted(p.name for p in target.glob("acme-*.dist-info"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_pip_installs_the_newest_release_that_passed(
    proxy: ProxyProcess, upstream: PackageIndex, tmp_path: Path
) -> None:
    target = tmp_path / "target"
    result = pip("install", "acme", "--index-url", proxy.index_url, "--target", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_versions(target) == ["acme-1.0.dist-info"]
    assert not (target / "acme_hook.pth").exists()
    # The page lists 1.0 only: 1.1 was denied and is left out.
    page = requests.get(
        proxy.index_url + "acme/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
        timeout=30,
    ).json()
    assert [f["filename"] for f in page["files"]] == ["acme-1.0-py3-none-any.whl"]
    assert page["versions"] == ["1.0"]
    assert page["files"][0]["hashes"] == {
        "sha256": upstream.files["acme-1.0-py3-none-any.whl"].sha256
    }
    # pip read the wheel's core metadata file (PEP 658) from the proxy before the wheel.
    logged = [json.loads(line) for line in proxy.lines if line.startswith("{")]
    fetched = [e["path"] for e in logged if e.get("event") == "request" and e["status"] == 200]
    metadata = next(i for i, path in enumerate(fetched) if path.endswith(".whl.metadata"))
    assert any(path.endswith(".whl") for path in fetched[metadata:])


def test_uv_installs_the_newest_release_that_passed(proxy: ProxyProcess, tmp_path: Path) -> None:
    try:
        from uv import find_uv_bin
    except ImportError:
        pytest.skip("uv is not installed (it is in the test extra)")
    target = tmp_path / "target"
    result = subprocess.run(
        [
            str(find_uv_bin()),
            "pip",
            "install",
            "acme",
            "--index-url",
            proxy.index_url,
            "--target",
            str(target),
            "--python",
            sys.executable,
            "--no-cache",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
        env={**os.environ, "UV_NO_CONFIG": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert installed_versions(target) == ["acme-1.0.dist-info"]


def test_the_bytes_served_are_the_verified_ones(
    proxy: ProxyProcess, upstream: PackageIndex, tmp_path: Path
) -> None:
    verified = upstream.files["acme-1.0-py3-none-any.whl"].sha256
    first = pip("download", "acme", "--no-deps", "-i", proxy.index_url, "-d", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    # The upstream now serves other bytes under the same name: the proxy still serves the
    # ones it verified, from its content store, and never the upstream's new ones.
    upstream.tamper("acme-1.0-py3-none-any.whl", b"PK\x05\x06" + b"\0" * 18)
    second = pip(
        "download", "acme==1.0", "--no-deps", "-i", proxy.index_url, "-d", str(tmp_path / "b")
    )
    assert second.returncode == 0, second.stderr
    for directory in ("a", "b"):
        (wheel,) = (tmp_path / directory).glob("*.whl")
        assert sha256(wheel) == verified


def test_a_pinned_denied_release_fails(proxy: ProxyProcess, tmp_path: Path) -> None:
    result = pip("install", "acme==1.1", "-i", proxy.index_url, "--target", str(tmp_path / "t"))
    assert result.returncode != 0
    assert "from versions: 1.0" in result.stderr
    assert not (tmp_path / "t").exists() or not installed_versions(tmp_path / "t")


def test_show_denied_puts_the_reason_in_pips_output(upstream: PackageIndex, tmp_path: Path) -> None:
    args = proxy_args(upstream, tmp_path / "cache", "--show-denied")
    with ProxyProcess(*args) as proxy:
        unpinned = pip("install", "acme", "-i", proxy.index_url, "--target", str(tmp_path / "t"))
        pinned = pip("install", "acme==1.1", "-i", proxy.index_url, "--target", str(tmp_path / "u"))
        direct = requests.get(
            proxy.url
            + "files/"
            + upstream.files["acme-1.1-py3-none-any.whl"].sha256
            + "/acme-1.1-py3-none-any.whl",
            timeout=30,
        )
    # Listed as yanked, 1.1 is skipped by an unpinned install ...
    assert unpinned.returncode == 0, unpinned.stderr
    assert installed_versions(tmp_path / "t") == ["acme-1.0.dist-info"]
    # ... and a pin to it gets the file refused, with the reason, which pip prints.
    assert pinned.returncode != 0
    output = pinned.stdout + pinned.stderr
    assert "403" in output
    assert "pip-verify denied acme-1.1-py3-none-any.whl" in output
    assert "pth-exec" in output
    assert direct.status_code == 403
    assert direct.reason.startswith("pip-verify denied acme-1.1-py3-none-any.whl: pth-exec")
    assert not installed_versions(tmp_path / "u")


def test_upstream_down_serves_what_was_verified_and_nothing_else(
    upstream: PackageIndex, dist_factory: DistFactory, tmp_path: Path
) -> None:
    upstream.add(dist_factory.wheel("other", "2.0"))
    with ProxyProcess(*proxy_args(upstream, tmp_path / "cache")) as proxy:
        warm = pip(
            "download", "acme", "--no-deps", "-i", proxy.index_url, "-d", str(tmp_path / "a")
        )
        assert warm.returncode == 0, warm.stderr
        upstream.close()
        again = pip(
            "download", "acme==1.0", "--no-deps", "-i", proxy.index_url, "-d", str(tmp_path / "b")
        )
        never = requests.get(proxy.index_url + "other/", timeout=30)
        denied = requests.get(
            proxy.url
            + "files/"
            + upstream.files["acme-1.1-py3-none-any.whl"].sha256
            + "/acme-1.1-py3-none-any.whl",
            timeout=30,
        )
        unverified = requests.get(
            proxy.url
            + "files/"
            + upstream.files["other-2.0-py3-none-any.whl"].sha256
            + "/other-2.0-py3-none-any.whl",
            timeout=30,
        )
    assert again.returncode == 0, again.stderr
    (wheel,) = (tmp_path / "b").glob("*.whl")
    assert sha256(wheel) == upstream.files["acme-1.0-py3-none-any.whl"].sha256
    assert never.status_code == 503
    assert "cannot reach the upstream" in never.reason
    assert denied.status_code == 403
    assert unverified.status_code == 503
    assert unverified.content.startswith(b"pip-verify cannot reach the upstream")


def test_workers_verify_for_proxies_that_share_verdicts_and_decisions_through_redis(
    upstream: PackageIndex, tmp_path: Path
) -> None:
    reviewers = tmp_path / "reviewers"
    reviewers.write_text("alice:" + "t" * 20 + "\n", encoding="utf-8")
    hooked = upstream.files["acme-1.1-py3-none-any.whl"].sha256
    trust = ("--trust-store", str(tmp_path / "trust.toml"))
    with RedisServer() as redis_server:
        broker = ("--broker", redis_server.url(), *trust)
        first_cache, second_cache = tmp_path / "first", tmp_path / "second"
        worker_args = (
            "--policy",
            str(without_provenance_requirement()),
            "--cache-dir",
            str(tmp_path / "worker-cache"),
            *trust,
        )
        with ProxyWorkerProcess(
            redis_server.url(), upstream.url, tmp_path / "worker.log", *worker_args
        ) as worker:
            with ProxyProcess(*proxy_args(upstream, first_cache, *broker)) as first:
                assert requests.get(first.index_url + "acme/", timeout=60).status_code == 200
            # The worker verified both files; the proxy downloaded neither.
            assert "verified acme-1.1-py3-none-any.whl: pip-verify denied" in worker.output()
            assert list(first_cache.rglob("*.whl")) == []
            with ProxyProcess(*proxy_args(upstream, second_cache, *broker)) as second:
                page = requests.get(
                    second.index_url + "acme/",
                    headers={"Accept": "application/vnd.pypi.simple.v1+json"},
                    timeout=60,
                ).json()
                fetched_before_download = sorted(
                    p.name for p in (second_cache / "files").rglob("*.whl")
                )
                result = pip(
                    "download",
                    "acme",
                    "--no-deps",
                    "-i",
                    second.index_url,
                    "-d",
                    str(tmp_path / "d"),
                )
            # A reviewer allows 1.1 on a third proxy's review page; the second one follows.
            review = ("--review-tokens", str(reviewers))
            with ProxyProcess(*proxy_args(upstream, tmp_path / "third", *broker, *review)) as third:
                auth = ("alice", "t" * 20)
                detail = requests.get(f"{third.url}-/review/{hooked}", auth=auth, timeout=60)
                csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', detail.text)
                assert csrf, detail.text
                decided = requests.post(
                    f"{third.url}-/review/{hooked}",
                    auth=auth,
                    data={"csrf": csrf.group(1), "action": "allow", "reason": "reviewed hook"},
                    allow_redirects=False,
                    timeout=60,
                )
                assert decided.status_code == 303
            with ProxyProcess(*proxy_args(upstream, second_cache, *broker)) as second_again:
                allowed = pip(
                    "download",
                    "acme==1.1",
                    "--no-deps",
                    "-i",
                    second_again.index_url,
                    "-d",
                    str(tmp_path / "allowed"),
                )
    assert [f["filename"] for f in page["files"]] == ["acme-1.0-py3-none-any.whl"]
    # The second proxy listed 1.0 and left 1.1 out on the worker's verdicts alone.
    assert fetched_before_download == []
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "d").glob("*.whl")
    assert sha256(wheel) == upstream.files["acme-1.0-py3-none-any.whl"].sha256
    assert allowed.returncode == 0, allowed.stderr
    (served,) = (tmp_path / "allowed").glob("*.whl")
    assert sha256(served) == hooked


def test_a_worker_with_other_settings_is_refused_and_nothing_is_served(
    upstream: PackageIndex, tmp_path: Path
) -> None:
    with RedisServer() as redis_server:
        broker = ("--broker", redis_server.url(), "--page-budget", "20", "--file-budget", "20")
        # The default policy (provenance required) is not the proxy's: another verdict digest.
        with (
            ProxyWorkerProcess(
                redis_server.url(),
                upstream.url,
                tmp_path / "worker.log",
                "--cache-dir",
                str(tmp_path / "worker-cache"),
            ) as worker,
            ProxyProcess(*proxy_args(upstream, tmp_path / "proxy", *broker)) as proxy,
        ):
            page = requests.get(
                proxy.index_url + "acme/",
                headers={"Accept": "application/vnd.pypi.simple.v1+json"},
                timeout=60,
            ).json()
            clean = upstream.files["acme-1.0-py3-none-any.whl"]
            answer = requests.get(f"{proxy.url}files/{clean.sha256}/{clean.filename}", timeout=60)
    assert page["files"] == []
    assert answer.status_code == 503
    assert "verdict digest differs" in answer.reason
    assert "verdict digest differs" in worker.output()
