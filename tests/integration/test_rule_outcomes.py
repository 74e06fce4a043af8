"""Every configurable rule yields allow, warn or deny as the policy says.

Each scenario makes exactly one rule fire on a loopback index; the test runs it under three
policies that set that rule's decision and checks the report and the exit code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DistFactory, PackageIndex, assert_no_traceback
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main

pytestmark = pytest.mark.integration

Scenario = Callable[[Path, DistFactory, PackageIndex], list[str]]

#: A second index, for the rules about several indexes (set by the test before a scenario).
SECOND: dict[str, PackageIndex] = {}


def yanked(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    index.add(dists.wheel("subject", "1.0"), yanked="broken")
    return ["subject==1.0"]


def release_age(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    # A new release of an established project (0.9 is years old: the project is not young).
    index.add(dists.wheel("subject", "0.9"))
    index.add(
        dists.wheel("subject", "1.0"), upload_time=datetime.now(timezone.utc) - timedelta(hours=1)
    )
    return ["subject==1.0"]


def project_age(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    # First seen 10 days ago: past release-age's cooldown, within project-age's; it names its
    # home, so it is not thin.
    urls = {"Project-URL": "Source, https://git.example/acme/subject"}
    index.add(
        dists.wheel("subject", "1.0", metadata_extra=urls),
        upload_time=datetime.now(timezone.utc) - timedelta(days=10),
    )
    return ["subject==1.0"]


def project_thin(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    # 40 days old (older than project-age's 30, younger than project-thin's 90), one release,
    # no project URLs, and a popular name with a word added.
    index.add(
        dists.wheel("requests-toolbelt-pro", "1.0"),
        upload_time=datetime.now(timezone.utc) - timedelta(days=40),
    )
    return ["requests-toolbelt-pro==1.0"]


def project_status(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    index.add(dists.wheel("subject", "1.0"))
    index.project_status["subject"] = "archived"
    return ["subject==1.0"]


def build_from_source(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    index.add(dists.sdist("subject", "1.0"))
    lock = tmp / "requirements.txt"
    lock.write_text(f"subject==1.0 --hash=sha256:{index.files['subject-1.0.tar.gz'].sha256}\n")
    return ["-r", str(lock)]


def typosquat(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    index.add(dists.wheel("reqeusts", "1.0"))
    return ["reqeusts==1.0"]


def index_unlisted(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    wheel = dists.wheel("subject", "1.0")
    index.add(dists.wheel("subject", "0.9"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lock = tmp / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "tests"\n[[packages]]\nname = "subject"\n'
        f'version = "1.0"\nwheels = [{{ url = "{wheel.as_uri()}", '
        f'hashes = {{ sha256 = "{digest}" }} }}]\n'
    )
    return [str(lock)]


def unverifiable_source(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    lock = tmp / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "tests"\n[[packages]]\nname = "subject"\n'
        'version = "1.0"\nvcs = { type = "git", url = "https://git.example/subject.git", '
        'commit-id = "0123456789abcdef0123456789abcdef01234567" }\n'
    )
    return [str(lock)]


def vulnerability(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    index.add(dists.wheel("subject", "1.0"))
    database = tmp / "osv"
    database.mkdir()
    (database / "GHSA-1.json").write_text(
        json.dumps(
            {
                "id": "GHSA-1",
                "modified": "2026-01-01T00:00:00Z",
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "subject"},
                        "ranges": [
                            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}
                        ],
                    }
                ],
            }
        )
    )
    return ["subject==1.0", "--vulnerability-db", str(database)]


def provenance_required(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    index.add(dists.wheel("subject", "1.0"))
    return ["subject==1.0"]


def index_shadowing(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    wheel = dists.wheel("subject", "1.0")
    index.add(wheel)
    SECOND["index"].add(wheel)
    return ["subject==1.0", "--extra-index-url", SECOND["index"].url]


def index_pinning(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    # subject is bound to the second index, but the first one serves it as well.
    wheel = dists.wheel("subject", "1.0")
    index.add(wheel)
    SECOND["index"].add(wheel)
    return ["subject==1.0", "--extra-index-url", SECOND["index"].url]


def index_unknown(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    # The policy lists only the second index; the file comes from the first.
    index.add(dists.wheel("subject", "1.0"))
    return ["subject==1.0"]


def behaviour(tmp: Path, dists: DistFactory, index: PackageIndex) -> list[str]:
    # 1.1 adds a .pth file that imports a module at every interpreter start-up.
    module = {"subject/__init__.py": ""}
    index.add(dists.wheel("subject", "1.0", files=module))
    hook = {**module, "subject_hook.pth": "import subject\n"}
    index.add(dists.wheel("subject", "1.1", files=hook))
    return ["subject==1.1"]


#: Policy text a scenario needs besides the rule's decision ({index}, {second}: URLs).
POLICY_EXTRA = {
    "index-pinning": '[rules.index-shadowing]\ndecision = "allow"\n'
    '[[indexes]]\nurl = "{index}"\n[[indexes]]\nurl = "{second}"\npackages = ["subject"]\n',
    "index-unknown": '[[indexes]]\nurl = "{second}"\n',
}

SCENARIOS: dict[str, Scenario] = {
    "index-shadowing": index_shadowing,
    "index-pinning": index_pinning,
    "index-unknown": index_unknown,
    "pth-exec": behaviour,
    "yanked": yanked,
    "release-age": release_age,
    "project-age": project_age,
    "project-thin": project_thin,
    "project-status": project_status,
    "build-from-source": build_from_source,
    "typosquat": typosquat,
    "index-unlisted": index_unlisted,
    "unverifiable-source": unverifiable_source,
    "vulnerability": vulnerability,
    "provenance-required": provenance_required,
}


@pytest.mark.parametrize("decision", ["allow", "warn", "deny"])
@pytest.mark.parametrize("rule", sorted(SCENARIOS))
def test_rule_outcome(
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    dist_factory: DistFactory,
    package_index: PackageIndex,
    rule: str,
    decision: str,
) -> None:
    second = PackageIndex(tmp_path / "second").start()
    request.addfinalizer(second.close)
    SECOND["index"] = second
    argv = SCENARIOS[rule](tmp_path, dist_factory, package_index)
    policy = tmp_path / "policy.toml"
    base = "default" if rule == "provenance-required" else str(without_provenance_requirement())
    extra = POLICY_EXTRA.get(rule, "").format(index=package_index.url, second=second.url)
    policy.write_text(f'extends = "{base}"\n{extra}[rules.{rule}]\ndecision = "{decision}"\n')
    report_path = tmp_path / "report.json"
    code = main(
        [
            "check",
            *argv,
            "--index-url",
            package_index.url,
            "--policy",
            str(policy),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--format",
            "json",
            "-o",
            str(report_path),
        ]
    )
    captured = capsys.readouterr()
    assert_no_traceback(captured.out + captured.err)
    report: dict[str, Any] = json.loads(report_path.read_text())
    (package,) = report["packages"]
    fired = {r["rule"]: r["decision"] for r in package["reasons"] if not r["unchecked"]}
    other = {k: v for k, v in fired.items() if k != rule and v != "allow"}
    assert other == {}, f"the scenario for {rule} should trigger only {rule}: {other}"
    if decision == "allow":
        assert rule not in fired
        assert (code, package["decision"]) == (0, "allow")
    else:
        assert fired[rule] == decision
        assert package["decision"] == decision
        assert code == (1 if decision == "deny" else 0)
