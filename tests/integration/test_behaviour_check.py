"""The behaviour diff inside ``check`` and as ``pip-verify diff``, on a loopback index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex, assert_no_traceback
from tests.helpers.cli import check_json
from tests.helpers.corpus import BASE, BENIGN, MALICIOUS
from tests.helpers.dists import DistSpec, build_wheel
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

pytestmark = pytest.mark.integration


def _publish_base(index: PackageIndex, tmp_path: Path) -> None:
    index.add(build_wheel(DistSpec("certifi", "2024.1"), tmp_path / "dists"))
    index.add(build_wheel(BASE, tmp_path / "dists"))


def _publish(index: PackageIndex, tmp_path: Path, variant_id: str) -> None:
    variant = next(v for v in (*MALICIOUS, *BENIGN) if v.id == variant_id)
    _publish_base(index, tmp_path)
    index.add(build_wheel(variant.build(), tmp_path / "dists"))


@pytest.fixture
def policy() -> Path:
    return without_provenance_requirement()


def test_check_denies_a_release_that_adds_a_pth_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex, policy: Path
) -> None:
    _publish(package_index, tmp_path, "pth-file")
    code, report = check_json(
        capsys, tmp_path, "tinyweb==1.1", "-i", package_index.url, policy=policy
    )
    assert code == 1
    package = next(p for p in report["packages"] if p["name"] == "tinyweb")
    assert package["decision"] == "deny"
    assert "behaviour" in report["checks"]
    (summary,) = package["behaviour"]
    assert summary["baseline"] == "tinyweb-1.0-py3-none-any.whl"
    assert summary["files"]["added"] == 1
    pth = [r for r in package["reasons"] if r["rule"] == "pth-exec"]
    assert pth
    assert pth[0]["decision"] == "deny"
    assert "tinyweb_autoload.pth:1" in pth[0]["message"]
    finding = next(f for f in package["findings"] if f["rule"] == "pth-exec")
    assert finding["severity"] == "critical"
    assert finding["snippet"].startswith("import base64")


def test_check_allows_a_benign_update(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex, policy: Path
) -> None:
    _publish(package_index, tmp_path, "feature")
    code, report = check_json(
        capsys, tmp_path, "tinyweb==1.1", "-i", package_index.url, policy=policy
    )
    package = next(p for p in report["packages"] if p["name"] == "tinyweb")
    behaviour_reasons = [r for r in package["reasons"] if r["rule"] not in ("typosquat",)]
    assert code == 0, behaviour_reasons
    assert package["behaviour"][0]["baseline"] == "tinyweb-1.0-py3-none-any.whl"
    assert package["behaviour"][0]["files"]["added"] == 1
    # The new module's network access is reported, low, and allowed.
    network = [f for f in package["findings"] if f["rule"] == "network-access"]
    assert network
    assert network[0]["severity"] == "low"


def test_a_policy_can_allow_a_finding_by_rule_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex
) -> None:
    _publish(package_index, tmp_path, "pth-file")
    lenient = tmp_path / "lenient.toml"
    lenient.write_text(
        without_provenance_requirement().read_text() + '\n[rules.pth-exec]\ndecision = "allow"\n'
        '[rules.decode-exec]\ndecision = "allow"\n[rules.process-spawn]\ndecision = "allow"\n'
        '[rules.high-entropy-string]\ndecision = "allow"\n'
    )
    code, report = check_json(
        capsys, tmp_path, "tinyweb==1.1", "-i", package_index.url, policy=lenient
    )
    package = next(p for p in report["packages"] if p["name"] == "tinyweb")
    assert not [r for r in package["reasons"] if r["rule"] == "pth-exec"]
    assert any(f["rule"] == "pth-exec" for f in package["findings"])
    assert code == 0, package["reasons"]


def test_no_behaviour_skips_the_diff(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex, policy: Path
) -> None:
    _publish(package_index, tmp_path, "pth-file")
    code, report = check_json(
        capsys, tmp_path, "tinyweb==1.1", "-i", package_index.url, "--no-behaviour", policy=policy
    )
    assert code == 0
    assert "behaviour" not in report["checks"]
    assert all(p["behaviour"] == [] for p in report["packages"])


def test_a_first_release_is_analysed_alone(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex, policy: Path
) -> None:
    _publish_base(package_index, tmp_path)
    code, report = check_json(
        capsys, tmp_path, "tinyweb==1.0", "-i", package_index.url, policy=policy
    )
    assert code == 0
    package = next(p for p in report["packages"] if p["name"] == "tinyweb")
    (summary,) = package["behaviour"]
    assert summary["baseline"] is None
    assert summary["reason"] == "none: no earlier release on the index"


def test_diff_command_from_the_index(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex
) -> None:
    _publish(package_index, tmp_path, "credential-exfil")
    code = main(
        [
            "diff",
            "tinyweb",
            "1.0",
            "1.1",
            "-i",
            package_index.url,
            "--cache-dir",
            str(tmp_path / "cache"),
            "--format",
            "json",
        ]
    )
    out = capsys.readouterr().out
    document = json.loads(out)
    assert code == 1
    assert document["schema"] == "pip-verify/diff/v1"
    assert document["baseline"]["filename"] == "tinyweb-1.0-py3-none-any.whl"
    assert (
        document["files"]["changed"] == ["tinyweb/client.py"]
        or "tinyweb/client.py" in (document["files"]["changed"])
    )
    rules = {f["rule"]: f for f in document["findings"]}
    assert rules["exfiltration"]["severity"] == "critical"
    assert rules["credential-read"]["path"] == "tinyweb/client.py"
    assert "discord.com" in document["new_hosts"]


def test_diff_command_on_local_files_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, dist_factory: DistFactory
) -> None:
    variant = next(v for v in MALICIOUS if v.id == "decode-exec")
    old = build_wheel(BASE, tmp_path / "old")
    new = build_wheel(variant.build(), tmp_path / "new")
    code = main(["diff", str(old), str(new)])
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    assert code == 1
    assert "~ tinyweb/__init__.py" in captured.out
    assert "[decode-exec]" in captured.out
    assert "tinyweb/__init__.py:" in captured.out
    assert "decision: deny" in captured.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff", "only-one"], "NAME OLD NEW"),
        (["diff", "missing-a.whl", "missing-b.whl"], "is not a file"),
    ],
)
def test_diff_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert_no_traceback(captured.out + captured.err)


def test_diff_of_a_release_the_index_does_not_have(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex
) -> None:
    package_index.add(build_wheel(BASE, tmp_path / "dists"))
    code = main(
        ["diff", "tinyweb", "0.9", "1.0", "-i", package_index.url, "--cache-dir", str(tmp_path)]
    )
    assert code == 2
    assert "serves no release 0.9" in capsys.readouterr().err


def test_all_files_compares_a_release_s_sdist_and_wheel(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex, policy: Path
) -> None:
    from tests.helpers.dists import build_sdist

    spec = DistSpec("demo", "1.0", files={"demo/__init__.py": ""})
    smuggled = DistSpec("demo", "1.0", files={"demo/__init__.py": "", "demo/_x.py": "X = 1\n"})
    sdist = package_index.add(build_sdist(spec, tmp_path / "dists"))
    wheel = package_index.add(build_wheel(smuggled, tmp_path / "dists"))
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"demo==1.0 --hash=sha256:{sdist.sha256} --hash=sha256:{wheel.sha256}\n")
    code, report = check_json(
        capsys, tmp_path, "-r", str(lock), "-i", package_index.url, "--all-files", policy=policy
    )
    (package,) = report["packages"]
    (reason,) = [r for r in package["reasons"] if r["rule"] == "sdist-wheel-mismatch"]
    assert reason["decision"] == "warn"
    assert "demo/_x.py" in reason["message"]
    assert code == 0


def test_a_second_check_reuses_the_cached_diff(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    package_index: PackageIndex,
    policy: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _publish(package_index, tmp_path, "pth-file")
    argv = ("tinyweb==1.1", "-i", package_index.url)
    first_code, first = check_json(capsys, tmp_path, *argv, policy=policy)
    assert list((tmp_path / "cache" / "behaviour").rglob("*.json"))

    def no_analysis(*args: object, **kwargs: object) -> object:
        raise AssertionError("the diff should come from the cache")

    monkeypatch.setattr("verify._behaviour.diff.diff_distributions", no_analysis)
    # With two cores and two packages the diffs run in worker processes, which a patch here
    # does not reach: the pool's entry point is patched too.
    monkeypatch.setattr("verify._behaviour.workers.AnalysisPool.diff", no_analysis)
    second_code, second = check_json(capsys, tmp_path, *argv, policy=policy)
    assert (first_code, second_code) == (1, 1)
    tinyweb = [next(p for p in r["packages"] if p["name"] == "tinyweb") for r in (first, second)]
    assert tinyweb[0]["findings"] == tinyweb[1]["findings"]
    assert tinyweb[0]["reasons"] == tinyweb[1]["reasons"]


def test_a_corrupt_cached_diff_is_made_again(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, package_index: PackageIndex, policy: Path
) -> None:
    _publish(package_index, tmp_path, "pth-file")
    argv = ("tinyweb==1.1", "-i", package_index.url)
    check_json(capsys, tmp_path, *argv, policy=policy)
    for entry in (tmp_path / "cache" / "behaviour").rglob("*.json"):
        entry.write_text("{not json")
    code, report = check_json(capsys, tmp_path, *argv, policy=policy)
    assert code == 1
    tinyweb = next(p for p in report["packages"] if p["name"] == "tinyweb")
    assert any(f["rule"] == "pth-exec" for f in tinyweb["findings"])


@pytest.mark.parametrize(("on_error", "code"), [("warn", 0), ("deny", 3)])
def test_a_baseline_that_cannot_be_fetched_is_unchecked(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    package_index: PackageIndex,
    on_error: str,
    code: int,
) -> None:
    _publish(package_index, tmp_path, "feature")
    # The index's digest for 1.0 no longer matches its bytes: the baseline is refused.
    package_index.tamper("tinyweb-1.0-py3-none-any.whl", b"PK\x05\x06" + b"\0" * 18)
    strict = tmp_path / "policy.toml"
    strict.write_text(
        f'extends = "{without_provenance_requirement()}"\n'
        f'[rules.behaviour]\non-error = "{on_error}"\n'
    )
    exit_code, report = check_json(
        capsys, tmp_path, "tinyweb==1.1", "-i", package_index.url, policy=strict
    )
    tinyweb = next(p for p in report["packages"] if p["name"] == "tinyweb")
    (reason,) = [r for r in tinyweb["reasons"] if r["rule"] == "behaviour"]
    assert reason["unchecked"] is True
    assert reason["decision"] == on_error
    assert "analysed alone" in reason["message"]
    assert "tinyweb-1.0-py3-none-any.whl could not be fetched" in reason["message"]
    assert tinyweb["behaviour"][0]["baseline"] is None
    assert exit_code == code
    # A diff made without its baseline is not kept in the diff cache (certifi's, which has
    # no earlier release at all, is).
    cached = [
        json.loads(entry.read_text())["filename"]
        for entry in (tmp_path / "cache" / "behaviour").rglob("*.json")
    ]
    assert "tinyweb-1.1-py3-none-any.whl" not in cached
    assert "certifi-2024.1-py3-none-any.whl" in cached


def test_diff_of_an_unreadable_local_old_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Named by the user, the old file must be read: no silent "analysed alone".
    broken = tmp_path / "tinyweb-1.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    new = build_wheel(BASE, tmp_path / "new")
    assert main(["diff", str(broken), str(new)]) == 2
    captured = capsys.readouterr()
    assert "not a zip archive" in captured.err
    assert_no_traceback(captured.out + captured.err)


@pytest.mark.parametrize("command", [["check"], ["screen", "--offline", "--no-public-check"]])
def test_an_unreadable_local_file_says_what_to_do(
    command: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "tinyweb-1.0-py3-none-any.whl"
    empty.write_bytes(b"")
    argv = [*command, str(empty), "--cache-dir", str(tmp_path / "cache"), "--no-record"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.endswith(
        "empty file; check that it is a complete wheel or sdist, or download it again"
    )
    assert_no_traceback(captured.out + captured.err)


def test_diff_of_a_version_that_is_not_one_says_what_to_give(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["diff", "tinyweb", "1.0", "latest", "--offline", "--cache-dir", str(tmp_path)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert "NEW 'latest' is not a version; give NAME OLD NEW with versions" in line
    assert_no_traceback(captured.out + captured.err)
