"""Modules written so that pip-verify's parser cannot read them, while Python runs them
(issue 15, defect 1): ``check``, ``screen`` and the upload gate must still deny them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import check_json
from tests.helpers.dists import DistSpec, build_wheel
from tests.helpers.gate import GateProcess, gate_args, post_upload, write_htpasswd
from tests.helpers.policies import without_provenance_requirement
from tests.helpers.pypiserver import PypiServer

pytestmark = pytest.mark.integration

#: Runs ``print("PWNED")`` on import, through an alias of ``exec`` and of ``base64``.
PAYLOAD = "import base64 as q\nrun = exec\nrun(q.b64decode('cHJpbnQoIlBXTkVEIik='))\n"
#: Valid on Python 3.12 and later, a syntax error for an older parser.
NEWER_GRAMMAR = PAYLOAD + "type Alias = int\n"
#: CPython compiles this from a fresh interpreter; from deep inside a caller's stack the AST
#: cannot be built ("maximum recursion depth exceeded during ast construction").
DEEP = PAYLOAD + "y = 1 if 0 else a" + ".a" * 2965 + "\n"
#: Not Python at all: the text scan must still see through the aliases.
BROKEN = PAYLOAD + "$$$ not python\n"

ROOT = Path(__file__).resolve().parents[2]
EVASIONS = {"newer-grammar": NEWER_GRAMMAR, "deep": DEEP, "broken": BROKEN}


def _wheel(tmp_path: Path, source: str, version: str = "1.0") -> Path:
    spec = DistSpec("evasive", version, files={"evasive/__init__.py": source})
    return build_wheel(spec, tmp_path / "dist")


def _rules(report: dict[str, Any]) -> dict[str, str]:
    (package,) = report["packages"]
    return {r["rule"]: r["decision"] for r in package["reasons"]}


@pytest.mark.parametrize("command", ["check", "screen"])
@pytest.mark.parametrize("evasion", sorted(EVASIONS))
def test_an_unreadable_module_does_not_hide_its_payload(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, evasion: str
) -> None:
    wheel = _wheel(tmp_path, EVASIONS[evasion])
    code, report = check_json(
        capsys,
        tmp_path,
        str(wheel),
        "--offline",
        policy=without_provenance_requirement(),
        command=command,
    )
    assert code == 1, report
    rules = _rules(report)
    assert rules.get("decode-exec") == "deny", rules
    if evasion == "broken":
        # What the parser cannot read is itself a reason, in a module that runs on import.
        assert rules.get("unparsable-source") == "deny", rules


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[PypiServer]:
    packages = tmp_path / "packages"
    packages.mkdir()
    htpasswd = write_htpasswd(tmp_path / "htpasswd", "uploader", "secret")
    with PypiServer(packages, extra_args=("-P", str(htpasswd), "-a", "update")) as server:
        yield server


def test_the_gate_refuses_both_parse_evasions(tmp_path: Path, upstream: PypiServer) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "PIP_"))}
    # The gate's analysis workers are processes of their own: they import the code under test.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), env.get("PYTHONPATH"))))
    gate = GateProcess(*gate_args(tmp_path, f"http://127.0.0.1:{upstream.port}/"), env=env)
    wheels = [
        _wheel(tmp_path / "newer", NEWER_GRAMMAR, "1.0"),
        _wheel(tmp_path / "deep", DEEP, "1.1"),
    ]
    with gate:
        answers = [post_upload(gate.url, wheel) for wheel in wheels]
        decisions = gate.wait_for_decisions(2)
    assert [a.status_code for a in answers] == [403, 403], [a.text for a in answers]
    assert all("decode-exec" in a.text for a in answers), [a.text for a in answers]
    assert {d["decision"] for d in decisions} == {"refused"}
    published = {p.name for p in upstream.directory.iterdir() if p.is_file()}
    assert not published & {w.name for w in wheels}
