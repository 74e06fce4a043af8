"""``pip-verify screen``: distribution files judged before they are published."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PackageIndex, assert_no_traceback
from tests.helpers.cli import check_json
from tests.helpers.corpus import BASE, BENIGN, MALICIOUS
from tests.helpers.dists import DistSpec, build_wheel
from tests.helpers.policies import without_provenance_requirement
from tests.helpers.pypiserver import free_port
from verify._cli import main

pytestmark = pytest.mark.integration


def _variant(variant_id: str) -> Any:
    return next(v for v in (*MALICIOUS, *BENIGN) if v.id == variant_id)


def screen_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str, policy: Path | None = None
) -> tuple[int, dict[str, Any]]:
    return check_json(
        capsys,
        tmp_path,
        *argv,
        policy=policy or without_provenance_requirement(),
        command="screen",
    )


@pytest.fixture
def private(package_index: PackageIndex, tmp_path: Path) -> PackageIndex:
    """The private index, with tinyweb 1.0 already published."""
    package_index.add(build_wheel(BASE, tmp_path / "published"))
    return package_index


def _reasons(report: dict[str, Any], name: str = "tinyweb") -> dict[str, dict[str, Any]]:
    package = next(p for p in report["packages"] if p["name"] == name)
    return {r["rule"]: r for r in package["reasons"]}


def test_a_benign_release_passes_against_its_predecessor(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, private: PackageIndex
) -> None:
    wheel = build_wheel(_variant("feature").build(), tmp_path / "upload")
    code, report = screen_json(
        capsys, tmp_path, str(wheel), "--index", private.url, "--no-public-check"
    )
    assert code == 0, report
    (package,) = report["packages"]
    assert package["name"] == "tinyweb"
    assert package["version"] == "1.1"
    (summary,) = package["behaviour"]
    assert summary["baseline"] == "tinyweb-1.0-py3-none-any.whl"
    assert "behaviour" in report["checks"]
    assert report["warnings"] == ["public-name was not checked: turned off"]


def test_a_release_that_adds_a_pth_file_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, private: PackageIndex
) -> None:
    wheel = build_wheel(_variant("pth-file").build(), tmp_path / "upload")
    code, report = screen_json(
        capsys, tmp_path, str(wheel), "--index", private.url, "--no-public-check"
    )
    assert code == 1
    reasons = _reasons(report)
    assert reasons["pth-exec"]["decision"] == "deny"
    assert "tinyweb_autoload.pth:1" in reasons["pth-exec"]["message"]


def test_a_missing_attestation_counts_for_an_upload(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, private: PackageIndex
) -> None:
    # A local file that a developer checks is not held to provenance-required; an upload is.
    strict = tmp_path / "needs-provenance.toml"
    strict.write_text('extends = "default"\n[rules.provenance-required]\ndecision = "deny"\n')
    wheel = build_wheel(_variant("feature").build(), tmp_path / "upload")
    code, report = screen_json(
        capsys, tmp_path, str(wheel), "--index", private.url, "--no-public-check", policy=strict
    )
    assert code == 1
    assert _reasons(report)["provenance-required"]["decision"] == "deny"


def test_metadata_that_names_another_version_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, private: PackageIndex
) -> None:
    built = build_wheel(_variant("feature").build(), tmp_path / "built")
    renamed = tmp_path / "upload" / built.name.replace("-1.1-", "-1.2-")
    renamed.parent.mkdir()
    shutil.copyfile(built, renamed)
    code, report = screen_json(
        capsys, tmp_path, str(renamed), "--index", private.url, "--no-public-check"
    )
    assert code == 1
    reason = _reasons(report)["metadata-malformed"]
    assert reason["decision"] == "deny"
    assert "1.1" in reason["message"]


def test_a_public_name_is_refused_unless_the_policy_binds_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, private: PackageIndex
) -> None:
    wheel = build_wheel(_variant("feature").build(), tmp_path / "upload")
    with PackageIndex(tmp_path / "public") as public:
        public.add(build_wheel(BASE, tmp_path / "public-dists"))
        code, report = screen_json(
            capsys, tmp_path, str(wheel), "--index", private.url, "--public-index", public.url
        )
        assert code == 1
        reason = _reasons(report)["public-name"]
        assert reason["decision"] == "deny"
        assert "127.0.0.1" in reason["message"]

        bound = tmp_path / "bound.toml"
        bound.write_text(
            f'extends = "{without_provenance_requirement()}"\n\n'
            f'[[indexes]]\nurl = "{private.url}"\npackages = ["tinyweb"]\n'
        )
        code, report = screen_json(
            capsys,
            tmp_path,
            str(wheel),
            "--index",
            private.url,
            "--public-index",
            public.url,
            policy=bound,
        )
        assert code == 0, report
        assert "public-name" not in _reasons(report)


def test_a_name_no_public_index_serves_passes_the_public_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, private: PackageIndex
) -> None:
    wheel = build_wheel(_variant("feature").build(), tmp_path / "upload")
    with PackageIndex(tmp_path / "public") as public:
        code, report = screen_json(
            capsys, tmp_path, str(wheel), "--index", private.url, "--public-index", public.url
        )
    assert code == 0, report
    assert "public-name" not in _reasons(report)


def test_an_unreachable_public_index_follows_on_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, private: PackageIndex
) -> None:
    wheel = build_wheel(_variant("feature").build(), tmp_path / "upload")
    down = f"http://127.0.0.1:{free_port()}/simple/"
    code, report = screen_json(
        capsys,
        tmp_path,
        str(wheel),
        "--index",
        private.url,
        "--public-index",
        down,
        "--retries",
        "0",
    )
    assert code == 0  # the default on-error is warn
    reason = _reasons(report)["public-name"]
    assert reason["decision"] == "warn"
    assert reason["unchecked"] is True
    assert "could not ask the public index" in reason["message"]


def test_a_directory_is_screened_file_by_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, private: PackageIndex
) -> None:
    dist = tmp_path / "dist"
    build_wheel(_variant("feature").build(), dist)
    build_wheel(DistSpec("othertool", "2.0"), dist)
    (dist / "README.txt").write_text("not a distribution")
    code, report = screen_json(capsys, tmp_path, str(dist), "--no-public-check")
    assert code == 0, report
    assert sorted(p["name"] for p in report["packages"]) == ["othertool", "tinyweb"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: root / "missing.whl", "no such file or directory"),
        (lambda root: root, "nothing to screen"),
        (lambda root: _write(root / "notes.txt", "hello"), "not a valid distribution filename"),
        (lambda root: _write(root / "tinyweb-1.1-py3-none-any.whl", "not a zip"), "tinyweb"),
    ],
)
def test_unusable_inputs_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make: Any, message: str
) -> None:
    root = tmp_path / "inputs"
    root.mkdir()
    code = main(["screen", str(make(root)), "--no-public-check", "--cache-dir", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert message in captured.err
    assert_no_traceback(captured.out + captured.err)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_no_public_index_to_ask_is_said_in_the_report(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    private: PackageIndex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pip is configured with the private index alone: there is no public index to ask.
    monkeypatch.setenv("PIP_INDEX_URL", private.url)
    wheel = build_wheel(_variant("feature").build(), tmp_path / "upload")
    code, report = screen_json(capsys, tmp_path, str(wheel), "--index", private.url)
    assert code == 0, report
    assert report["warnings"] == [
        "public-name was not checked: pip is configured with no index but the private one "
        "(pass --public-index)"
    ]


def test_a_gate_reads_the_public_indexes_from_pip_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from verify.screen import ScreenSettings, with_public_indexes
    from verify.settings import NetworkSettings

    monkeypatch.setenv("PIP_INDEX_URL", "https://public.example/simple/")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://mirror.example/simple/")
    resolved = with_public_indexes(ScreenSettings(files=()))
    assert resolved.public_index_urls == (
        "https://public.example/simple/",
        "https://mirror.example/simple/",
    )
    given = ScreenSettings(files=(), public_index_urls=())
    assert with_public_indexes(given) is given
    offline = ScreenSettings(files=(), network=NetworkSettings(offline=True))
    assert with_public_indexes(offline) is offline
