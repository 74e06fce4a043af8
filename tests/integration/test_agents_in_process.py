"""The coding-agent surfaces in this process (the end-to-end tests run them as subprocesses):
the MCP server's tools through the SDK's server object, the tools on a loopback index, and the
shim's command line on a stand-in environment."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.agents import clean_and_hooked
from tests.helpers.policies import without_provenance_requirement
from verify._cli import main
from verify.check import CheckSettings
from verify.settings import (
    InputSettings,
    NetworkSettings,
    ResolutionSettings,
    VerificationSettings,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def index(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    return clean_and_hooked(dist_factory, package_index)


def tools(index: PackageIndex, tmp_path: Path) -> object:
    from verify._mcp.tools import AgentTools

    return AgentTools(
        settings=CheckSettings(
            inputs=InputSettings(),
            resolution=ResolutionSettings(index_url=index.url),
            verification=VerificationSettings(
                policy_path=without_provenance_requirement(),
                record=False,
                # The empty offline OSV database the test session points at (conftest.py).
                vulnerability_db=Path(os.environ["PIP_VERIFY_VULNERABILITY_DB"]),
            ),
            network=NetworkSettings(cache_dir=tmp_path / "cache", retries=0, timeout=10),
        )
    )


def test_the_server_offers_the_tools_and_answers_through_them(
    index: PackageIndex, tmp_path: Path
) -> None:
    pytest.importorskip("mcp", reason="the mcp SDK is not installed (it is in the test extra)")
    import anyio

    from verify._mcp.server import INSTRUCTIONS, build_server

    agent = tools(index, tmp_path)
    server = build_server(agent, allow_install=True)  # type: ignore[arg-type]

    async def session() -> tuple[set[str], object, object, object]:
        listed = {tool.name for tool in await server.list_tools()}
        checked = await server.call_tool("check_packages", {"requirements": ["hookpkg"]})
        suggested = await server.call_tool("suggest", {"name": "requestz"})
        explained = await server.call_tool("explain", {"package": "hookpkg", "version": "1.0"})
        return listed, checked, suggested, explained

    listed, checked, suggested, explained = anyio.run(session)
    assert listed == {"check_packages", "explain", "suggest", "install"}
    assert "A 'deny' is final for you" in INSTRUCTIONS
    assert checked.structured_content["decision"] == "deny"  # type: ignore[attr-defined]
    assert suggested.structured_content["suggestions"][0] == "requests"  # type: ignore[attr-defined]
    findings = explained.structured_content["findings"]  # type: ignore[attr-defined]
    assert any(f["rule"] == "pth-exec" for f in findings)
    assert "install" not in {
        t.name
        for t in anyio.run(build_server(agent, allow_install=False).list_tools)  # type: ignore[arg-type]
    }


def test_the_tools_check_explain_and_install(index: PackageIndex, tmp_path: Path) -> None:
    from verify._mcp.tools import AgentTools

    agent = tools(index, tmp_path)
    assert isinstance(agent, AgentTools)
    clean = agent.check_packages("cleanpkg")  # a single string is one requirement
    assert clean["decision"] == "allow"
    assert clean["summary"] == "1 package(s) checked; none denied"
    explained = agent.explain("cleanpkg", "1.0")
    assert explained["decision"] == "allow"
    assert explained["provenance"]["status"] == "absent"
    assert agent.explain("cleanpkg", "9.9")["decision"] == "could-not-verify"
    target = tmp_path / "target"
    installed = agent.install(["hookpkg"], python=sys.executable)
    assert installed["installed"] == []
    assert installed["decision"] == "deny"
    assert not target.exists()
    unknown = agent.check_packages(["zqxv-wobble-frob"])
    assert unknown["decision"] == "deny"
    assert unknown["packages"][0]["reasons"][0]["rule"] == "name-unknown"


def test_the_shim_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    (venv / "bin" / "python").write_text("", encoding="utf-8")
    (venv / "bin" / "pip").write_text("#!/bin/sh\necho pip\n", encoding="utf-8")
    (venv / "pip.conf").write_text("[global]\ntimeout = 5\n", encoding="utf-8")
    assert main(["shim", "install", "--venv", str(venv), "--proxy", "http://127.0.0.1:9/s/"]) == 0
    assert "every pip there reads only http://127.0.0.1:9/s/" in capsys.readouterr().err
    assert "index-url = http://127.0.0.1:9/s/" in (venv / "pip.conf").read_text()
    assert main(["shim", "uninstall", "--venv", str(venv)]) == 0
    assert "restored pip" in capsys.readouterr().err
    assert (venv / "pip.conf").read_text() == "[global]\ntimeout = 5\n"
    assert (venv / "bin" / "pip").read_text() == "#!/bin/sh\necho pip\n"
    assert main(["shim", "print-config", "--venv", str(venv)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["environment"]["VIRTUAL_ENV"] == str(venv)
    assert "PIP_INDEX_URL" not in document["environment"]
    assert main(["shim", "print-config"]) == 0
    assert json.loads(capsys.readouterr().out)["mcpServers"]["pip-verify"]["args"][2] == "mcp"
