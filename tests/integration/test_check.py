"""End-to-end ``pip-verify check`` against indexes served on 127.0.0.1 by the tests."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DistFactory, PackageIndex, assert_no_traceback, sha256_file
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

pytestmark = pytest.mark.integration


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    # These tests are about resolution, indexes and hashes; provenance has its own module.
    # A --policy a test passes comes later and wins.
    command, *rest = argv
    code = main([command, "--policy", str(without_provenance_requirement()), *rest])
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    return code, captured.out, captured.err


def run_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str
) -> tuple[int, dict[str, Any], str]:
    report_path = tmp_path / "report.json"
    code, _out, err = run_cli(capsys, *argv, "--format", "json", "-o", str(report_path))
    return code, json.loads(report_path.read_text()), err


def package(report: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [p for p in report["packages"] if p["name"] == name]
    assert len(matches) == 1, report["packages"]
    found: dict[str, Any] = matches[0]
    return found


BETA_WHEEL = "beta-2.1-py3-none-any.whl"


def beta_lock(tmp_path: Path, index: PackageIndex) -> Path:
    """A requirements file pinning beta 2.1 to the digest the index serves for its wheel."""
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"beta==2.1 --hash=sha256:{index.files[BETA_WHEEL].sha256}\n")
    return lock


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def tree(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    """alpha 1.0 (depends on beta>=2) and beta 2.0/2.1, as wheels and sdists."""
    package_index.add(dist_factory.wheel("alpha", "1.0", requires_dist=["beta>=2"]))
    package_index.add(dist_factory.sdist("alpha", "1.0", requires_dist=["beta>=2"]))
    package_index.add(dist_factory.wheel("beta", "2.0"))
    package_index.add(dist_factory.wheel("beta", "2.1"))
    return package_index


@pytest.mark.parametrize("mode", ["json+html", "json-only", "html-only"])
def test_resolves_tree_and_verifies_every_file(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cache: Path,
    tree: PackageIndex,
    mode: str,
) -> None:
    tree.mode = mode  # type: ignore[assignment]
    code, report, _ = run_json(
        capsys, tmp_path, "check", "alpha==1.0", "--index-url", tree.url, "--cache-dir", str(cache)
    )
    assert code == 0
    assert report["schema"] == "pip-verify/report/v1"
    assert report["decision"] == "allow"
    assert report["complete"] is True
    assert {p["name"]: p["version"] for p in report["packages"]} == {"alpha": "1.0", "beta": "2.1"}
    alpha = package(report, "alpha")
    assert alpha["requested"] is True
    assert package(report, "beta")["requested"] is False
    (file,) = alpha["files"]
    assert file["filename"] == "alpha-1.0-py3-none-any.whl"
    assert file["hash_status"] == "verified"
    assert file["sha256"] == tree.files[file["filename"]].sha256
    assert file["index"] == tree.url
    assert {e["source"] for e in file["expected"]} == {"resolver", "index"}
    if mode == "html-only":
        assert file["upload_time"] is None  # PEP 503 HTML carries no upload time
    else:
        assert file["upload_time"] == "2024-01-01T00:00:00Z"
        assert file["size"] == tree.files[file["filename"]].size
    # Every file landed in the content-addressed store under its own digest.
    stored = cache / "files" / "sha256" / file["sha256"][:2] / file["sha256"] / file["filename"]
    assert sha256_file(stored) == file["sha256"]


def test_text_report_lists_packages_and_decision(
    capsys: pytest.CaptureFixture[str], cache: Path, tree: PackageIndex
) -> None:
    code, out, _ = run_cli(
        capsys, "check", "alpha", "--index-url", tree.url, "--cache-dir", str(cache)
    )
    assert code == 0
    assert "alpha" in out
    assert "beta" in out
    assert "2 packages checked: 2 allowed" in out
    assert "Decision: ALLOW" in out


def test_extras_and_markers_reach_pip(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cache: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.add(
        dist_factory.wheel(
            "gamma",
            "1.0",
            requires_dist=['delta; extra == "fast"', 'epsilon; python_version < "3"'],
        )
    )
    package_index.add(dist_factory.wheel("delta", "1.0"))
    package_index.add(dist_factory.wheel("epsilon", "1.0"))
    code, report, _ = run_json(
        capsys,
        tmp_path,
        "check",
        "gamma[fast]",
        "--index-url",
        package_index.url,
        "--cache-dir",
        str(cache),
    )
    assert code == 0
    assert sorted(p["name"] for p in report["packages"]) == ["delta", "gamma"]


def test_several_indexes_record_which_served_each_file(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cache: Path,
    dist_factory: DistFactory,
) -> None:
    with PackageIndex(tmp_path / "one") as first, PackageIndex(tmp_path / "two") as second:
        first.add(dist_factory.wheel("alpha", "1.0", requires_dist=["beta"]))
        second.add(dist_factory.wheel("beta", "1.0"))
        code, report, _ = run_json(
            capsys,
            tmp_path,
            "check",
            "alpha",
            "--index-url",
            first.url,
            "--extra-index-url",
            second.url,
            "--cache-dir",
            str(cache),
        )
        urls = [first.url, second.url]
    assert code == 0
    assert package(report, "alpha")["index"] == urls[0]
    assert package(report, "beta")["index"] == urls[1]
    assert report["indexes"] == urls


def test_file_index(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    file_index = tree.write_file_index(tmp_path / "static")
    tree.close()  # nothing may come from HTTP now
    code, report, _ = run_json(
        capsys,
        tmp_path,
        "check",
        "alpha==1.0",
        "--index-url",
        file_index,
        "--cache-dir",
        str(cache),
    )
    assert code == 0, report
    beta = package(report, "beta")
    assert beta["index"] == file_index
    assert beta["files"][0]["hash_status"] == "verified"
    assert beta["files"][0]["url"].startswith("file://")


def test_tampered_file_is_denied_with_both_digests(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    advertised = tree.files["beta-2.1-py3-none-any.whl"].sha256
    tree.tamper("beta-2.1-py3-none-any.whl", b"not the wheel that was published")
    served = hashlib.sha256(b"not the wheel that was published").hexdigest()
    code, out, _ = run_cli(
        capsys, "check", "alpha", "--index-url", tree.url, "--cache-dir", str(cache)
    )
    assert code == 1
    flat = " ".join(out.split())
    assert "hash-mismatch" in flat
    assert advertised in out.replace("\n", "").replace(" ", "")
    assert served in out.replace("\n", "").replace(" ", "")
    # Bytes that do not match are never stored.
    assert not (cache / "files" / "sha256" / served[:2] / served).exists()


def test_tampered_file_met_by_pips_resolver_is_denied(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    # This index serves no separate core metadata, so pip downloads wheels while resolving
    # and is the first to meet the tampered bytes; pip-verify still reports them as a denial.
    tree.tamper("beta-2.1-py3-none-any.whl", b"evil")
    code, report, _ = run_json(
        capsys, tmp_path, "check", "alpha", "--index-url", tree.url, "--cache-dir", str(cache)
    )
    assert code == 1
    assert report["decision"] == "deny"
    assert report["complete"] is False
    assert [e["kind"] for e in report["errors"]] == ["resolver"]
    beta = package(report, "beta")
    assert beta["decision"] == "deny"
    assert beta["files"][0]["hash_status"] == "mismatch"
    assert [r["rule"] for r in beta["reasons"]] == ["hash-mismatch"]


def test_tampered_file_in_a_lock_is_denied_and_the_rest_allowed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    alpha = tree.files["alpha-1.0-py3-none-any.whl"].sha256
    beta = tree.files["beta-2.1-py3-none-any.whl"].sha256
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"alpha==1.0 --hash=sha256:{alpha}\nbeta==2.1 --hash=sha256:{beta}\n")
    tree.tamper("beta-2.1-py3-none-any.whl", b"evil")
    code, report, _ = run_json(
        capsys,
        tmp_path,
        "check",
        "-r",
        str(lock),
        "--index-url",
        tree.url,
        "--cache-dir",
        str(cache),
    )
    assert code == 1
    assert report["complete"] is True
    assert package(report, "alpha")["decision"] == "allow"
    beta_result = package(report, "beta")
    assert beta_result["decision"] == "deny"
    (file,) = beta_result["files"]
    assert file["hash_status"] == "mismatch"
    assert file["sha256"] == hashlib.sha256(b"evil").hexdigest()
    assert file["sha256"] in beta_result["reasons"][0]["message"]
    assert beta in beta_result["reasons"][0]["message"]


def test_unreachable_index_exits_3_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    lock = beta_lock(tmp_path, tree)
    dead = tree.url
    tree.close()
    code, out, err = run_cli(
        capsys,
        "check",
        "-r",
        str(lock),
        "--index-url",
        dead,
        "--cache-dir",
        str(cache),
        "--retries",
        "0",
    )
    assert code == 3
    error_lines = [line for line in (out + err).splitlines() if "could not reach" in line]
    assert len(error_lines) == 1
    assert "127.0.0.1" in error_lines[0]
    assert "connection refused" in error_lines[0]


def test_unreachable_index_during_resolution_exits_3(
    capsys: pytest.CaptureFixture[str], cache: Path, tree: PackageIndex
) -> None:
    dead = tree.url
    tree.close()
    code, _out, err = run_cli(
        capsys, "check", "alpha", "--index-url", dead, "--cache-dir", str(cache), "--retries", "0"
    )
    assert code == 3
    assert "pip could not reach 127.0.0.1" in err
    assert "connection refused" in err
    assert len(err.strip().splitlines()) == 1


def test_index_answering_garbage_exits_3(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    lock = beta_lock(tmp_path, tree)
    tree.fail_next(10, status=500)
    code, out, _ = run_cli(
        capsys,
        "check",
        "-r",
        str(lock),
        "--index-url",
        tree.url,
        "--cache-dir",
        str(cache),
        "--retries",
        "1",
    )
    assert code == 3
    assert "HTTP 500" in out


def test_retries_ride_out_a_transient_failure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    lock = beta_lock(tmp_path, tree)
    tree.fail_next(2, status=503)
    code, _, _ = run_cli(
        capsys, "check", "-r", str(lock), "--index-url", tree.url, "--cache-dir", str(cache)
    )
    assert code == 0


def test_hashed_requirements_are_read_without_resolver(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cache: Path,
    tree: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_resolver(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("pip's resolver must not run for a hash-pinned file")

    monkeypatch.setattr("verify.check.resolve_with_pip", no_resolver)
    alpha = tree.files["alpha-1.0-py3-none-any.whl"].sha256
    alpha_sdist = tree.files["alpha-1.0.tar.gz"].sha256
    beta = tree.files["beta-2.0-py3-none-any.whl"].sha256
    lock = tmp_path / "requirements.txt"
    lock.write_text(
        "# generated\n"
        f"alpha==1.0 \\\n    --hash=sha256:{alpha} \\\n    --hash=sha256:{alpha_sdist}\n"
        f"beta==2.0 --hash=sha256:{beta}\n"
    )
    code, report, _ = run_json(
        capsys,
        tmp_path,
        "check",
        "-r",
        str(lock),
        "--index-url",
        tree.url,
        "--cache-dir",
        str(cache),
    )
    assert code == 0
    alpha_result = package(report, "alpha")
    # The installer would pick the wheel; only that file is verified by default.
    assert [f["filename"] for f in alpha_result["files"]] == ["alpha-1.0-py3-none-any.whl"]
    assert alpha_result["source"] == {"path": str(lock), "line": 2}
    assert package(report, "beta")["source"]["line"] == 5
    # --all-files verifies every file the lock allows.
    code, report, _ = run_json(
        capsys,
        tmp_path,
        "check",
        "-r",
        str(lock),
        "--index-url",
        tree.url,
        "--cache-dir",
        str(cache),
        "--all-files",
    )
    assert code == 0
    assert sorted(f["filename"] for f in package(report, "alpha")["files"]) == [
        "alpha-1.0-py3-none-any.whl",
        "alpha-1.0.tar.gz",
    ]


def test_lock_hash_not_served_by_index_is_denied(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"beta==2.1 --hash=sha256:{'ab' * 32}\n")
    code, report, _ = run_json(
        capsys,
        tmp_path,
        "check",
        "-r",
        str(lock),
        "--index-url",
        tree.url,
        "--cache-dir",
        str(cache),
    )
    assert code == 1
    (reason,) = package(report, "beta")["reasons"]
    assert reason["rule"] == "hash-mismatch"
    assert "ab" * 32 in reason["message"]
    assert tree.files["beta-2.1-py3-none-any.whl"].sha256 in reason["message"]


def test_pinned_version_missing_from_index_is_denied(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"beta==9.9 --hash=sha256:{'cd' * 32}\n")
    code, report, _ = run_json(
        capsys,
        tmp_path,
        "check",
        "-r",
        str(lock),
        "--index-url",
        tree.url,
        "--cache-dir",
        str(cache),
    )
    assert code == 1
    assert [r["rule"] for r in package(report, "beta")["reasons"]] == ["not-found"]


@pytest.mark.parametrize(
    ("content", "line", "fragment"),
    [
        ("beta==2.1\nalpha=>1\n", 2, "alpha=>1"),
        ("--frobnicate\n", 1, "--frobnicate"),
    ],
)
def test_malformed_requirements_exit_2_with_file_and_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cache: Path,
    content: str,
    line: int,
    fragment: str,
) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(content)
    code, out, err = run_cli(capsys, "check", "-r", str(lock), "--cache-dir", str(cache))
    assert code == 2
    assert f"{lock}:{line}:" in err
    assert fragment in err
    assert out == ""


def test_malformed_requirement_argument_exits_2(
    capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    code, _, err = run_cli(capsys, "check", "alpha[", "--cache-dir", str(cache))
    assert code == 2
    assert "invalid requirement" in err


def test_malformed_pylock_exits_2_with_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path
) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text('lock-version = "1.0"\ncreated-by = "x"\n[[packages]\nname = "a"\n')
    code, _, err = run_cli(capsys, "check", str(lock), "--cache-dir", str(cache))
    assert code == 2
    assert f"{lock}:3:" in err


def test_missing_requirements_file_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path
) -> None:
    code, _, err = run_cli(
        capsys, "check", "-r", str(tmp_path / "nope.txt"), "--cache-dir", str(cache)
    )
    assert code == 2
    assert "nope.txt" in err


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["check", "--no-such-option"])
    assert raised.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_nothing_to_check_exits_2(capsys: pytest.CaptureFixture[str], cache: Path) -> None:
    code, _, err = run_cli(capsys, "check", "--cache-dir", str(cache))
    assert code == 2
    assert "nothing to check" in err


def test_corrupt_cache_entry_is_detected_and_refetched(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    lock = beta_lock(tmp_path, tree)
    digest = tree.files[BETA_WHEEL].sha256
    args = ("check", "-r", str(lock), "--index-url", tree.url, "--cache-dir", str(cache))
    assert run_json(capsys, tmp_path, *args)[0] == 0
    entry = cache / "files" / "sha256" / digest[:2] / digest / "beta-2.1-py3-none-any.whl"
    entry.write_bytes(b"bit rot")
    downloads_before = sum(1 for _m, path, _a in tree.requests_log if path.startswith("/files/"))
    code, report, _ = run_json(capsys, tmp_path, *args)
    assert code == 0
    beta = package(report, "beta")
    assert beta["files"][0]["hash_status"] == "verified"
    assert [f["rule"] for f in beta["findings"]] == ["cache-repaired"]
    assert sha256_file(entry) == digest
    downloads_after = sum(1 for _m, path, _a in tree.requests_log if path.startswith("/files/"))
    assert downloads_after == downloads_before + 1


def test_warm_cache_downloads_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    args = ("check", "alpha", "--index-url", tree.url, "--cache-dir", str(cache))
    assert run_cli(capsys, *args)[0] == 0
    before = sum(1 for _m, path, _a in tree.requests_log if path.startswith("/files/"))
    assert run_cli(capsys, *args)[0] == 0
    after = sum(1 for _m, path, _a in tree.requests_log if path.startswith("/files/"))
    # pip's own resolver may read wheels; pip-verify itself fetches nothing new.
    assert after - before <= 2


def test_yanked_file_warns(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cache: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
) -> None:
    package_index.add(dist_factory.wheel("omega", "1.0"), yanked="broken metadata")
    code, report, _ = run_json(
        capsys,
        tmp_path,
        "check",
        "omega==1.0",
        "--index-url",
        package_index.url,
        "--cache-dir",
        str(cache),
    )
    assert code == 0
    omega = package(report, "omega")
    assert omega["decision"] == "warn"
    assert report["decision"] == "warn"
    (reason,) = omega["reasons"]
    assert reason["rule"] == "yanked"
    assert "broken metadata" in reason["message"]
    assert omega["files"][0]["yanked"] is True


def test_offline_uses_only_the_cache(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    lock = beta_lock(tmp_path, tree)
    # Cold cache, offline: the bytes cannot be verified -> incomplete, exit 3.
    code, report, _ = run_json(
        capsys, tmp_path, "check", "-r", str(lock), "--offline", "--cache-dir", str(cache)
    )
    assert code == 3
    assert report["complete"] is False
    (reason,) = [r for r in package(report, "beta")["reasons"] if r["rule"] == "hash-mismatch"]
    assert reason["unchecked"] is True
    assert "--offline" in reason["message"]
    # Fill the cache online, then go offline with sockets blocked.
    online = ("check", "-r", str(lock), "--index-url", tree.url, "--cache-dir", str(cache))
    assert run_cli(capsys, *online)[0] == 0
    requests_before = len(tree.requests_log)
    pytest_socket = pytest.importorskip("pytest_socket")
    pytest_socket.disable_socket(allow_unix_socket=True)
    try:
        code, report, _ = run_json(
            capsys, tmp_path, "check", "-r", str(lock), "--offline", "--cache-dir", str(cache)
        )
    finally:
        pytest_socket.enable_socket()
    assert len(tree.requests_log) == requests_before
    assert code == 0
    beta = package(report, "beta")
    assert beta["files"][0]["hash_status"] == "verified"
    assert beta["decision"] == "warn"  # index metadata was not consulted: said, not hidden
    assert {r["rule"] for r in beta["reasons"] if r["decision"] != "allow"} == {"index-metadata"}
    assert report["checks"] == ["hashes", "provenance", "vulnerabilities", "behaviour"]
    assert beta["provenance"]["status"] == "unchecked"
    assert "--offline" in beta["provenance"]["reason"]


def test_offline_refuses_loose_requirements(
    capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    code, _, err = run_cli(capsys, "check", "alpha>=1", "--offline", "--cache-dir", str(cache))
    assert code == 2
    assert "needs the network" in err


def test_local_distribution_files(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cache: Path,
    dist_factory: DistFactory,
    tree: PackageIndex,
) -> None:
    local = dist_factory.wheel("zeta", "0.1")
    code, report, _ = run_json(
        capsys, tmp_path, "check", str(local), "--index-url", tree.url, "--cache-dir", str(cache)
    )
    assert code == 0
    zeta = package(report, "zeta")
    assert zeta["files"][0]["sha256"] == sha256_file(local)
    assert zeta["source"]["path"] == str(local)
    # The same filename on the index with other bytes: the local file is not what's published.
    other = tmp_path / "other"
    other.mkdir()
    rebuilt = dist_factory.wheel("beta", "2.1", files={"beta/__init__.py": "X = 2\n"})
    shutil.move(str(rebuilt), other / rebuilt.name)
    code, report, _ = run_json(
        capsys,
        tmp_path,
        "check",
        str(other / rebuilt.name),
        "--index-url",
        tree.url,
        "--cache-dir",
        str(cache),
    )
    assert code == 1
    assert package(report, "beta")["reasons"][0]["rule"] == "hash-mismatch"


def test_pylock(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, cache: Path, tree: PackageIndex
) -> None:
    wheel = tree.files["beta-2.1-py3-none-any.whl"]
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "tests"\n\n'
        '[[packages]]\nname = "beta"\nversion = "2.1"\n'
        f'index = "{tree.url}"\n'
        f'wheels = [{{ url = "{tree.file_url(wheel.filename)}", '
        f'hashes = {{ sha256 = "{wheel.sha256}" }} }}]\n'
    )
    code, report, _ = run_json(
        capsys, tmp_path, "check", str(lock), "--index-url", tree.url, "--cache-dir", str(cache)
    )
    assert code == 0
    beta = package(report, "beta")
    assert beta["source"] == {"path": str(lock), "line": 4}
    assert {e["source"] for e in beta["files"][0]["expected"]} == {"lock", "index"}
    lock.write_text(lock.read_text().replace(wheel.sha256, "ef" * 32))
    code, report, _ = run_json(
        capsys, tmp_path, "check", str(lock), "--index-url", tree.url, "--cache-dir", str(cache)
    )
    assert code == 1
    assert package(report, "beta")["reasons"][0]["rule"] == "hash-mismatch"


def test_python_dash_m_verify(tmp_path: Path, tree: PackageIndex) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_VERIFY_VULNERABILITY_DB"] = os.environ["PIP_VERIFY_VULNERABILITY_DB"]
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "verify",
            "check",
            "alpha",
            "--index-url",
            tree.url,
            "--cache-dir",
            str(tmp_path / "c"),
            "--policy",
            str(without_provenance_requirement()),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["decision"] == "allow"


def test_default_index_comes_from_pip_configuration(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cache: Path,
    tree: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nindex-url = {tree.url}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    code, report, _ = run_json(capsys, tmp_path, "check", "alpha", "--cache-dir", str(cache))
    assert code == 0
    assert report["indexes"] == [tree.url]
    # PIP_INDEX_URL overrides the file, exactly as for pip.
    with PackageIndex(tmp_path / "env-index") as other:
        other.add(tree.directory / "beta-2.0-py3-none-any.whl")
        monkeypatch.setenv("PIP_INDEX_URL", other.url)
        code, report, _ = run_json(capsys, tmp_path, "check", "beta", "--cache-dir", str(cache))
        other_url = other.url
    assert code == 0
    assert report["indexes"] == [other_url]
    assert package(report, "beta")["version"] == "2.0"


def test_real_pypiserver_index(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cache: Path,
    dist_factory: DistFactory,
) -> None:
    from tests.helpers.pypiserver import PypiServer  # a real index server

    packages = tmp_path / "packages"
    packages.mkdir()
    for path in (
        dist_factory.wheel("alpha", "1.0", requires_dist=["beta"]),
        dist_factory.wheel("beta", "1.0"),
        dist_factory.sdist("beta", "1.0"),
    ):
        shutil.copy(path, packages / path.name)
    with PypiServer(packages) as server:
        code, report, _ = run_json(
            capsys,
            tmp_path,
            "check",
            "alpha",
            "--index-url",
            server.url,
            "--cache-dir",
            str(cache),
        )
        url = server.url
    assert code == 0, report
    assert {p["name"] for p in report["packages"]} == {"alpha", "beta"}
    beta = package(report, "beta")
    assert beta["index"] == url
    (file,) = beta["files"]
    assert file["filename"] == "beta-1.0-py3-none-any.whl"
    assert file["hash_status"] == "verified"
    assert {e["source"] for e in file["expected"]} == {"resolver", "index"}


def test_no_index_in_a_requirements_file_keeps_the_configured_index_out(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    cache: Path,
    tree: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pip honours --no-index from the file; the indexes pip-verify reads itself must too.
    links = tmp_path / "links"
    links.mkdir()
    shutil.copy(tree.directory / "beta-2.0-py3-none-any.whl", links)
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nindex-url = {tree.url}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"--no-index\n--find-links {links}\nbeta\n")
    tree.requests_log.clear()
    code, report, _ = run_json(
        capsys, tmp_path, "check", "-r", str(requirements), "--cache-dir", str(cache)
    )
    assert code == 0, report
    assert report["indexes"] == []
    assert package(report, "beta")["version"] == "2.0"
    assert tree.requests_log == []
