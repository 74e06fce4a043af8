"""The guardrails of ``pip-verify fix``, each with a case where it changes the outcome, set by
the policy's ``[fix]`` table and overridden on the command line: the largest update kind, the
cooldown (the ``release-age`` rule's by default, closed when the index gives no upload time),
the index the package is pinned to, its publisher, and downgrades. On loopback indexes, with
an offline OSV database and, for the publisher, the tests' own Sigstore."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pypi_attestations import Provenance

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.fix_scenario import MODULE, add_foo_releases, run, write_osv_database
from tests.helpers.sigstore import GitHubIdentity, TestSigstore
from verify._cli import main

pytestmark = pytest.mark.integration

ACME = GitHubIdentity(repository="acme/foo", workflow="release.yml")
EVIL = GitHubIdentity(repository="evil/foo", workflow="release.yml")


def write_policy(tmp_path: Path, *lines: str) -> Path:
    """The default policy without the provenance requirement, with ``lines`` added."""
    path = tmp_path / "policy.toml"
    path.write_text(
        "\n".join(
            [
                'extends = "default"',
                "[rules.provenance-required]",
                'decision = "allow"',
                'on-error = "allow"',
                *lines,
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


def options(
    index_url: str, osv: Path, tmp_path: Path, policy: Path | None = None
) -> tuple[str | Path, ...]:
    return (
        "--index-url",
        index_url,
        "--policy",
        policy or write_policy(tmp_path),
        "--vulnerability-db",
        osv,
        "--cache-dir",
        tmp_path / "cache",
        "--no-record",
    )


def pin(index: PackageIndex, path: Path, version: str = "1.0") -> Path:
    """A hashed requirements file pinning foo at ``version``."""
    digest = index.files[f"foo-{version}-py3-none-any.whl"].sha256
    path.write_text(f"foo=={version} --hash=sha256:{digest}\n", encoding="utf-8")
    return path


def fix_json(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, dict[str, Any]]:
    code, out = run(capsys, "fix", *argv, "--dry-run", "--format", "json")
    document: dict[str, Any] = json.loads(out)
    return code, document


def add_young_release(index: PackageIndex, dists: DistFactory) -> None:
    """foo 1.0 and 1.3, and 1.2 uploaded two hours ago."""
    index.add(dists.wheel("foo", "1.0", files=MODULE))
    young = datetime.now(timezone.utc) - timedelta(hours=2)
    index.add(dists.wheel("foo", "1.2", files=MODULE), upload_time=young)
    index.add(dists.wheel("foo", "1.3", files=MODULE))


def test_the_cooldown_is_the_release_age_rules_unless_the_command_line_sets_one(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    tmp_path: Path,
) -> None:
    add_young_release(package_index, dist_factory)
    osv = write_osv_database(tmp_path / "osv")
    requirements = pin(package_index, tmp_path / "requirements.txt")
    given = options(package_index.url, osv, tmp_path)

    code, out = run(capsys, "fix", requirements, "--dry-run", *given)
    assert code == 0, out
    assert "foo: 1.0 -> 1.3" in out
    assert "  1.2: [fix.cooldown-days] foo-1.2-py3-none-any.whl was uploaded 2 hours ago" in out
    assert "the cooldown is 3 days" in out
    # The loopback index serves no provenance: nothing to compare the publisher with.
    assert (
        "  publisher: not compared: foo 1.0 in the lock has no verified provenance and the "
        "trust store records no publisher for foo\n" in out
    )

    code, document = fix_json(capsys, requirements, "--cooldown-days", "0", *given)
    assert code == 0
    (change,) = document["changes"]
    assert (change["to"], change["cooldown-days"], change["tried"]) == ("1.2", 0, [])
    assert document["settings"]["cooldown-days"] == 0
    assert document["settings"]["set-by"]["cooldown-days"] == "command line"


@pytest.mark.parametrize(
    ("lines", "set_by"),
    [
        (["[fix]", "cooldown-days = 0"], "policy"),
        (["[rules.release-age]", 'decision = "allow"'], "release-age"),
    ],
)
def test_a_policy_without_a_cooldown_takes_the_young_release(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    tmp_path: Path,
    lines: list[str],
    set_by: str,
) -> None:
    add_young_release(package_index, dist_factory)
    osv = write_osv_database(tmp_path / "osv")
    requirements = pin(package_index, tmp_path / "requirements.txt")
    policy = write_policy(tmp_path, *lines)
    code, document = fix_json(
        capsys, requirements, *options(package_index.url, osv, tmp_path, policy)
    )
    assert code == 0
    assert [(c["to"], c["cooldown-days"]) for c in document["changes"]] == [("1.2", 0)]
    assert document["settings"]["set-by"]["cooldown-days"] == set_by


def test_an_index_without_upload_times_fails_the_cooldown_closed(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    tmp_path: Path,
) -> None:
    package_index.mode = "html-only"  # PEP 503 pages give no upload time
    add_foo_releases(package_index, dist_factory)
    osv = write_osv_database(tmp_path / "osv")
    requirements = pin(package_index, tmp_path / "requirements.txt")
    given = options(package_index.url, osv, tmp_path)

    code, out = run(capsys, "fix", requirements, "--dry-run", *given)
    assert code == 1, out
    assert "foo: 1.0 kept, no release within the limits passes" in out
    assert f"  1.2: [fix.cooldown-days] {package_index.url} gives no upload time for " in out

    code, out = run(capsys, "fix", requirements, "--dry-run", "--cooldown-days", "0", *given)
    assert code == 0, out
    assert "foo: 1.0 -> 1.2" in out


def test_the_policys_allow_and_the_command_line_over_it(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    tmp_path: Path,
) -> None:
    add_foo_releases(package_index, dist_factory)
    osv = write_osv_database(tmp_path / "osv")
    requirements = pin(package_index, tmp_path / "requirements.txt")
    policy = write_policy(tmp_path, "[fix]", 'allow = "patch"')
    given = options(package_index.url, osv, tmp_path, policy)

    code, out = run(capsys, "fix", requirements, "--dry-run", *given)
    assert code == 1, out
    assert (
        "foo: 1.0 kept, no release within the limits passes (allow patch, cooldown 3 days, "
        "same index, same publisher, no downgrade)\n" in out
    )

    code, document = fix_json(capsys, requirements, "--allow", "minor", *given)
    assert code == 0
    assert [c["to"] for c in document["changes"]] == ["1.2"]
    assert document["settings"] == {
        "allow": "minor",
        "cooldown-days": None,
        "same-index": True,
        "same-publisher": True,
        "downgrade": False,
        "set-by": {
            "allow": "command line",
            "cooldown-days": "release-age",
            "same-index": "policy",
            "same-publisher": "policy",
            "downgrade": "policy",
        },
    }


def test_releases_come_only_from_the_index_the_package_is_pinned_to(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    tmp_path: Path,
) -> None:
    """foo 1.0 and the hooked 1.1 are on the index foo is pinned to; the clean 1.2 only on
    the extra index."""
    add_foo_releases(package_index, dist_factory)
    osv = write_osv_database(tmp_path / "osv")
    requirements = pin(package_index, tmp_path / "requirements.txt")
    with PackageIndex(tmp_path / "extra") as extra:
        extra.add(package_index.directory / "foo-1.2-py3-none-any.whl")
        for name in ("foo-1.2-py3-none-any.whl", "foo-2.0-py3-none-any.whl"):
            del package_index.files[name]
        given = (*options(package_index.url, osv, tmp_path), "--extra-index-url", extra.url)

        code, out = run(capsys, "fix", requirements, "--dry-run", *given)
        assert code == 1, out
        assert "foo: 1.0 kept, no release within the limits passes" in out
        assert "  1.1: foo 1.1: [" in out
        assert "  1.2:" not in out  # never tried

        code, document = fix_json(capsys, requirements, "--no-same-index", *given)
        assert code == 0
        (change,) = document["changes"]
        assert (change["to"], change["index"]) == ("1.2", extra.url)
        assert document["settings"]["same-index"] is False


def provenance(sigstore: TestSigstore, wheel: Path, publisher: GitHubIdentity) -> bytes:
    attested: Provenance = sigstore.provenance(wheel, publisher=publisher)
    return attested.model_dump_json().encode()


def test_a_release_from_another_publisher_is_skipped(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    tmp_path: Path,
) -> None:
    """foo 1.0 (pinned) and 1.3 are published by acme/foo, 1.2 by evil/foo."""
    sigstore = TestSigstore()
    trust = tmp_path / "trust.json"
    trust.write_text(sigstore.client_trust_config_json())
    for version, publisher in (("1.0", ACME), ("1.2", EVIL), ("1.3", ACME)):
        wheel = dist_factory.wheel("foo", version, files=MODULE)
        package_index.add(wheel, provenance=provenance(sigstore, wheel, publisher))
    osv = write_osv_database(tmp_path / "osv")
    requirements = pin(package_index, tmp_path / "requirements.txt")
    given = (*options(package_index.url, osv, tmp_path), "--trust-config", trust)

    code, out = run(capsys, "fix", requirements, "--dry-run", *given)
    assert code == 0, out
    assert "foo: 1.0 -> 1.3" in out
    assert (
        "  1.2: [fix.same-publisher] foo-1.2-py3-none-any.whl was published by GitHub "
        "evil/foo, workflow release.yml; wanted: GitHub acme/foo, workflow release.yml "
        "(foo 1.0 in the lock)\n" in out
    )
    assert "  publisher: GitHub acme/foo, workflow release.yml (foo 1.0 in the lock)\n" in out

    code, document = fix_json(capsys, requirements, "--no-same-publisher", *given)
    assert code == 0
    (change,) = document["changes"]
    assert (change["to"], change["publisher"]) == ("1.2", None)


def test_a_downgrade_only_when_allowed_and_only_when_no_upgrade_passes(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    tmp_path: Path,
) -> None:
    """foo 1.2, the newest, is vulnerable; 1.1 adds an install hook; 1.0 is clean."""
    add_foo_releases(package_index, dist_factory)
    del package_index.files["foo-2.0-py3-none-any.whl"]
    osv = write_osv_database(tmp_path / "osv", introduced="1.2", fixed="1.3")
    requirements = pin(package_index, tmp_path / "requirements.txt", "1.2")
    before = requirements.read_text(encoding="utf-8")
    given = options(package_index.url, osv, tmp_path)

    code, out = run(capsys, "fix", requirements, *given)
    assert code == 1, out
    assert "foo: 1.2 kept, no release within the limits passes" in out
    assert "no downgrade)" in out
    assert requirements.read_text(encoding="utf-8") == before

    code, out = run(capsys, "fix", requirements, "--allow-downgrade", *given)
    assert code == 0, out
    assert "foo: 1.2 -> 1.0 (downgrade; was: [vulnerability] GHSA-aaaa-bbbb-cccc" in out
    assert "  1.1: foo 1.1: [" in out  # the nearest downgrade, tried first
    assert requirements.read_text(encoding="utf-8").startswith("foo==1.0 \\\n")

    # With a clean 1.3 on the index, the upgrade is taken, downgrades allowed or not.
    package_index.add(dist_factory.wheel("foo", "1.3", files=MODULE))
    pin(package_index, requirements, "1.2")
    policy = write_policy(tmp_path, "[fix]", "downgrade = true")
    code, document = fix_json(
        capsys, requirements, *options(package_index.url, osv, tmp_path, policy)
    )
    assert code == 0
    (change,) = document["changes"]
    assert (change["to"], change["downgrade"]) == ("1.3", False)
    assert document["settings"]["downgrade"] is True


@pytest.mark.parametrize("value", ["-1", "soon", "1.5"])
def test_cooldown_days_must_be_a_whole_number(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["fix", str(tmp_path / "requirements.txt"), f"--cooldown-days={value}"])
    assert exited.value.code == 2
    assert f"{value!r} is not a whole number of days" in capsys.readouterr().err


def test_the_cooldown_holds_for_what_a_release_pulls_in(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    tmp_path: Path,
) -> None:
    """foo 1.2 needs baz, whose only release is two hours old; foo 1.3 needs nothing new."""
    package_index.add(dist_factory.wheel("foo", "1.0", files=MODULE))
    package_index.add(dist_factory.wheel("foo", "1.2", files=MODULE, requires_dist=["baz"]))
    young = datetime.now(timezone.utc) - timedelta(hours=2)
    package_index.add(dist_factory.wheel("baz", "1.0"), upload_time=young)
    package_index.add(dist_factory.wheel("foo", "1.3", files=MODULE))
    osv = write_osv_database(tmp_path / "osv")
    requirements = pin(package_index, tmp_path / "requirements.txt")
    code, out = run(
        capsys, "fix", requirements, "--dry-run", *options(package_index.url, osv, tmp_path)
    )
    assert code == 0, out
    assert "foo: 1.0 -> 1.3" in out
    assert "  1.2: [fix.cooldown-days] baz-1.0-py3-none-any.whl was uploaded 2 hours ago" in out


def test_a_package_whose_index_cannot_be_told_is_kept_unless_any_index_will_do(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    tmp_path: Path,
) -> None:
    """The lock pins foo 0.9, which no index serves, and names no index; two are consulted
    (the second does not serve foo at all)."""
    add_foo_releases(package_index, dist_factory)
    osv = write_osv_database(tmp_path / "osv")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"foo==0.9 --hash=sha256:{'0' * 64}\n", encoding="utf-8")
    with PackageIndex(tmp_path / "extra") as extra:
        extra.add(dist_factory.wheel("bar", "1.0"))
        given = (
            *options(package_index.url, osv, tmp_path),
            "--extra-index-url",
            extra.url,
            "--allow",
            "major",
        )
        code, out = run(capsys, "fix", requirements, "--dry-run", *given)
        assert code == 1, out
        assert (
            "foo: 0.9 kept: [fix.same-index] cannot tell which index foo is pinned to: the lock "
            "names none, no index serves foo 0.9, and this run consults several "
            f"({package_index.url}, {extra.url})\n" in out
        )

        code, document = fix_json(capsys, requirements, "--no-same-index", *given)
        assert code == 0
        (change,) = document["changes"]
        assert (change["to"], change["index"], change["blocked"]) == (
            "1.2",
            package_index.url,
            None,
        )
