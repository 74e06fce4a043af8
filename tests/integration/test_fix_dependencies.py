"""``pip-verify fix`` when the release it picks needs a package the lock does not pin (issue
17): ``foo 1.0`` has a known vulnerability, ``1.1`` adds an install hook, and ``1.2`` needs
``baz>=1.0``, which the lock lacks. The dependency is resolved with pip (the lock's other pins
held), verified with the rest, and added to the lock with its hash; when the only ``baz``
release is denied, ``foo 1.2`` is not taken and the reason names ``baz``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypi_attestations import Provenance

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.dists import DistSpec
from tests.helpers.fix_scenario import (
    MODULE,
    add_foo_needing_baz,
    lock,
    options,
    pylock_text,
    run,
    write_osv_database,
)
from tests.helpers.sigstore import GitHubIdentity, TestSigstore

pytestmark = pytest.mark.integration


@pytest.fixture
def osv(tmp_path: Path) -> Path:
    return write_osv_database(tmp_path / "osv")


def test_a_new_dependency_is_added_with_its_hash_and_the_lock_checks_clean(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    add_foo_needing_baz(package_index, dist_factory)
    requirements = lock(package_index, tmp_path / "requirements.txt")
    given = options(package_index, osv, tmp_path)
    code, out = run(capsys, "fix", requirements, *given)
    assert code == 0, out
    assert "foo: 1.0 -> 1.2" in out
    assert (
        "dependencies the new releases need:\n"
        "  added baz 1.0, needed by foo 1.2 (Requires-Dist: baz>=1.0)\n"
    ) in out
    text = requirements.read_text()
    baz = package_index.files["baz-1.0-py3-none-any.whl"].sha256
    foo = package_index.files["foo-1.2-py3-none-any.whl"].sha256
    assert text == (
        "# pinned by hand\n"
        f"bar==1.0 --hash=sha256:{package_index.files['bar-1.0-py3-none-any.whl'].sha256}\n"
        f"baz==1.0 \\\n    --hash=sha256:{baz}\n"
        f"foo==1.2 \\\n    --hash=sha256:{foo}\n"
    )
    code, out = run(capsys, "check", "-r", requirements, *given)
    assert code == 0, out


def test_json_lists_dependencies_apart_from_the_packages_fixed(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    add_foo_needing_baz(package_index, dist_factory)
    requirements = lock(package_index, tmp_path / "requirements.txt")
    given = options(package_index, osv, tmp_path)
    code, out = run(capsys, "fix", requirements, "--dry-run", "--format", "json", *given)
    assert code == 0, out
    document = json.loads(out)
    (change,) = document["changes"]
    assert (change["name"], change["to"]) == ("foo", "1.2")
    assert document["dependencies"] == [
        {
            "name": "baz",
            "from": None,
            "to": "1.0",
            "for": "foo",
            "needed-by": "foo 1.2",
            "requirement": "baz>=1.0",
        }
    ]


def test_a_release_whose_new_dependency_is_denied_is_not_taken(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    add_foo_needing_baz(package_index, dist_factory, baz_hooked=True)
    requirements = lock(package_index, tmp_path / "requirements.txt")
    before = requirements.read_text()
    code, out = run(capsys, "fix", requirements, *options(package_index, osv, tmp_path))
    assert code == 1, out
    assert "foo: 1.0 kept, no release within the limits passes" in out
    assert "  1.2: baz 1.0: [" in out  # the dependency, and why it does not pass
    assert requirements.read_text() == before


def test_a_dependency_pinned_below_the_requirement_is_moved(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    add_foo_needing_baz(package_index, dist_factory)
    package_index.add(dist_factory.wheel("baz", "0.9"))
    package_index.add(dist_factory.wheel("baz", "2.0"))  # the lock's pin moves least: to 1.0
    requirements = lock(package_index, tmp_path / "requirements.txt")
    old = package_index.files["baz-0.9-py3-none-any.whl"].sha256
    with requirements.open("a", encoding="utf-8") as file:
        file.write(f"baz==0.9 --hash=sha256:{old}\n")
    given = options(package_index, osv, tmp_path)
    code, out = run(capsys, "fix", requirements, *given)
    assert code == 0, out
    assert "  moved baz 0.9 -> 1.0, needed by foo 1.2 (Requires-Dist: baz>=1.0)\n" in out
    new = package_index.files["baz-1.0-py3-none-any.whl"].sha256
    text = requirements.read_text()
    assert text.endswith(f"baz==1.0 \\\n    --hash=sha256:{new}\n")  # in place, not added
    assert text.count("baz==") == 1
    code, out = run(capsys, "check", "-r", requirements, *given)
    assert code == 0, out


def test_a_dependency_only_another_index_serves_is_not_taken(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    """foo is pinned to the first index; baz is only on the extra one (same-index)."""
    add_foo_needing_baz(package_index, dist_factory)
    requirements = lock(package_index, tmp_path / "requirements.txt")
    with PackageIndex(tmp_path / "extra") as extra:
        extra.add(package_index.directory / "baz-1.0-py3-none-any.whl")
        del package_index.files["baz-1.0-py3-none-any.whl"]
        given = (*options(package_index, osv, tmp_path), "--extra-index-url", extra.url)
        code, out = run(capsys, "fix", requirements, "--dry-run", *given)
    assert code == 1, out
    assert f"  1.2: [fix.same-index] {package_index.url} does not serve baz 1.0" in out


def test_a_release_pip_cannot_resolve_with_the_lock_is_not_taken(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    """foo 1.2 needs baz>=1.0; the index serves only the baz 0.9 the lock pins."""
    add_foo_needing_baz(package_index, dist_factory)
    del package_index.files["baz-1.0-py3-none-any.whl"]
    package_index.add(dist_factory.wheel("baz", "0.9"))
    requirements = lock(package_index, tmp_path / "requirements.txt")
    old = package_index.files["baz-0.9-py3-none-any.whl"].sha256
    with requirements.open("a", encoding="utf-8") as file:
        file.write(f"baz==0.9 --hash=sha256:{old}\n")
    given = options(package_index, osv, tmp_path)
    code, out = run(capsys, "fix", requirements, "--dry-run", *given)
    assert code == 1, out
    assert "  1.2: pip cannot resolve foo==1.2 with the lock's other pins: " in out


def test_on_a_pylock_a_release_that_needs_a_new_entry_is_not_taken_yet(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    """fix adds no pylock.toml entry yet: foo 1.2 is passed over, saying why, and nothing is
    written."""
    add_foo_needing_baz(package_index, dist_factory)
    lock_file = tmp_path / "pylock.toml"
    lock_file.write_text(pylock_text(package_index), encoding="utf-8")
    code, out = run(capsys, "fix", lock_file, *options(package_index, osv, tmp_path))
    assert code == 1, out
    assert "  1.2: needs baz 1.0, which the lock lacks; fix does not yet add" in out
    assert lock_file.read_text(encoding="utf-8") == pylock_text(package_index)


def test_a_moved_dependency_keeps_its_pinned_releases_publisher(
    capsys: pytest.CaptureFixture[str],
    dist_factory: DistFactory,
    package_index: PackageIndex,
    osv: Path,
    tmp_path: Path,
) -> None:
    """baz 0.9 (pinned) is published by acme/baz, the 1.0 foo 1.2 needs by evil/baz."""
    sigstore = TestSigstore()
    trust = tmp_path / "trust.json"
    trust.write_text(sigstore.client_trust_config_json())
    package_index.add(dist_factory.wheel("foo", "1.0", files=MODULE))
    needs = DistSpec("foo", "1.2", files=MODULE, requires_dist=("baz>=1.0",))
    package_index.add(dist_factory.wheel(needs))
    for version, repository in (("0.9", "acme/baz"), ("1.0", "evil/baz")):
        wheel = dist_factory.wheel("baz", version)
        publisher = GitHubIdentity(repository=repository, workflow="release.yml")
        attested: Provenance = sigstore.provenance(wheel, publisher=publisher)
        package_index.add(wheel, provenance=attested.model_dump_json().encode())
    foo = package_index.files["foo-1.0-py3-none-any.whl"].sha256
    baz = package_index.files["baz-0.9-py3-none-any.whl"].sha256
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        f"baz==0.9 --hash=sha256:{baz}\nfoo==1.0 --hash=sha256:{foo}\n", encoding="utf-8"
    )
    given = (*options(package_index, osv, tmp_path), "--trust-config", trust)
    code, out = run(capsys, "fix", requirements, "--dry-run", *given)
    assert code == 1, out
    assert (
        "  1.2: [fix.same-publisher] baz-1.0-py3-none-any.whl was published by GitHub "
        "evil/baz, workflow release.yml; wanted: GitHub acme/baz" in out
    )

    code, out = run(capsys, "fix", requirements, "--dry-run", "--no-same-publisher", *given)
    assert code == 0, out
    assert "  moved baz 0.9 -> 1.0, needed by foo 1.2 (Requires-Dist: baz>=1.0)\n" in out
