"""The coding-agent surfaces without a server or a subprocess: what the MCP tools accept and
suggest (verify._mcp.tools), the popular names a made-up one resembles
(verify._checks.resemblance), and the shim's refusals (verify._shim)."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify._checks.resemblance import closest_popular, popular_compound
from verify._checks.typosquat import PopularNames
from verify._mcp.tools import MAX_REQUIREMENTS, AgentTools
from verify._shim import install_shim, uninstall_shim
from verify.check import CheckSettings
from verify.errors import UsageError
from verify.settings import InputSettings

POPULAR = PopularNames.from_names(["requests", "pydantic", "requests-toolbelt", "numpy", "six"])


def tools() -> AgentTools:
    return AgentTools(settings=CheckSettings(inputs=InputSettings()))


@pytest.mark.parametrize(
    ("requirements", "message"),
    [
        ([], "at least one requirement"),
        (["./evil"], "not a named requirement"),
        (["--index-url=http://evil.example/"], "not a named requirement"),
        (["evil @ https://evil.example/evil-1.0-py3-none-any.whl"], "URL requirement"),
        (["x"] * (MAX_REQUIREMENTS + 1), f"at most {MAX_REQUIREMENTS}"),
    ],
)
def test_an_agent_names_requirements_only(requirements: list[str], message: str) -> None:
    answer = tools().check_packages(requirements)
    assert answer["decision"] == "could-not-verify"
    assert message in answer["error"]
    assert "do not install" in answer["next_step"]
    assert tools().install(requirements)["installed"] == []


def test_suggest_names_the_established_project() -> None:
    made_up = tools().suggest("requests-toolbelt-pro")
    assert made_up["popular"] is False
    assert made_up["suggestions"][0] == "requests-toolbelt"
    assert any("with 'pro' added" in text for text in made_up["resembles"])
    real = tools().suggest("Requests")
    assert real["popular"] is True
    assert real["suggestions"] == []
    assert tools().suggest("not a name!")["decision"] == "could-not-verify"


def test_compounds_and_closest_names() -> None:
    compound = popular_compound("fast-pydantic", popular=POPULAR)
    assert compound is not None
    assert (compound.popular, compound.added) == ("pydantic", ("fast",))
    # The longest popular run wins, and a short or ordinary word is not a popular part.
    longest = popular_compound("requests-toolbelt-pro", popular=POPULAR)
    assert longest is not None
    assert longest.popular == "requests-toolbelt"
    assert popular_compound("six-thing", popular=POPULAR) is None
    assert popular_compound("requests", popular=POPULAR) is None
    assert closest_popular("numpyy", popular=POPULAR) == ["numpy"]
    assert closest_popular("zqxv-frob", popular=POPULAR) == []


def test_the_shim_needs_a_virtual_environment(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a virtual environment"):
        install_shim(tmp_path)
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no bin/python"):
        install_shim(tmp_path)
    with pytest.raises(UsageError, match="has no pip-verify shim"):
        uninstall_shim(tmp_path)


def test_a_shim_without_pip_scripts_creates_and_then_removes_them(tmp_path: Path) -> None:
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("", encoding="utf-8")
    (tmp_path / "bin" / "pip-verify").write_text("keep me", encoding="utf-8")
    state = install_shim(tmp_path, pip_verify_python="/usr/bin/python3")
    assert state.wrapped == ("pip", "pip3")
    assert "/usr/bin/python3" in (tmp_path / "bin" / "pip").read_text()
    uninstall_shim(tmp_path)
    assert sorted(p.name for p in (tmp_path / "bin").iterdir()) == ["pip-verify", "python"]
    assert not (tmp_path / ".pip-verify-shim").exists()
