"""``pip-verify mcp`` as a coding agent starts it: through the official MCP SDK's stdio client,
against a loopback index holding a clean package and one whose ``.pth`` file runs code.

The agent lists the tools, checks both packages, installs the clean one into a scratch virtual
environment, and the denied one leaves that environment as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import DistFactory, PackageIndex
from tests.helpers.agents import clean_and_hooked
from tests.helpers.policies import without_provenance_requirement

pytestmark = pytest.mark.integration

mcp = pytest.importorskip("mcp", reason="the mcp SDK is not installed (it is in the test extra)")


@pytest.fixture
def index(dist_factory: DistFactory, package_index: PackageIndex) -> PackageIndex:
    return clean_and_hooked(dist_factory, package_index)


def _files(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): path.stat().st_size
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


async def _agent(server: Any, target: Path) -> dict[str, Any]:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    found: dict[str, Any] = {}
    async with stdio_client(server) as streams, ClientSession(*streams) as session:
        await session.initialize()
        tools = await session.list_tools()
        found["tools"] = {tool.name: tool.description for tool in tools.tools}

        async def call(tool: str, **arguments: Any) -> Any:
            result = await session.call_tool(tool, arguments)
            assert not result.is_error, result.content
            return result.structured_content

        found["clean"] = await call("check_packages", requirements=["cleanpkg"])
        found["denied"] = await call("check_packages", requirements=["hookpkg"])
        found["explain"] = await call("explain", package="hookpkg", version="1.0")
        found["suggest"] = await call("suggest", name="requestz")
        found["bad input"] = await call("check_packages", requirements=["./evil"])
        python = str(target / "bin" / "python")
        before = _files(target)
        found["install denied"] = await call("install", requirements=["hookpkg"], python=python)
        found["unchanged"] = _files(target) == before
        found["install clean"] = await call("install", requirements=["cleanpkg"], python=python)
    assert isinstance(server, StdioServerParameters)
    return found


def test_an_agent_checks_explains_and_installs_through_the_sdk(
    index: PackageIndex, tmp_path: Path
) -> None:
    import anyio
    from mcp import StdioServerParameters

    target = tmp_path / "scratch-venv"
    venv.create(target, with_pip=False)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull
    for key in ("PIP_VERIFY_VULNERABILITY_DB",):
        if key in os.environ:
            environment[key] = os.environ[key]
    server = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "verify",
            "mcp",
            "--index-url",
            index.url,
            "--policy",
            str(without_provenance_requirement()),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-record",
            "--allow-install",
        ],
        env=environment,
        cwd=str(tmp_path),
    )
    found = anyio.run(_agent, server, target)

    assert set(found["tools"]) == {"check_packages", "explain", "suggest", "install"}
    assert "do not install" in found["tools"]["check_packages"]
    assert found["clean"]["decision"] == "allow"
    assert found["clean"]["packages"][0]["name"] == "cleanpkg"
    denied = found["denied"]
    assert denied["decision"] == "deny"
    assert "pth-exec" in {r["rule"] for r in denied["packages"][0]["reasons"]}
    assert "Ask a human" in denied["next_step"]
    evidence = {(f["rule"], f["path"], f["line"]) for f in found["explain"]["findings"]}
    assert ("pth-exec", "hookpkg_hook.pth", 1) in evidence
    assert found["suggest"]["suggestions"][0] == "requests"
    assert found["bad input"]["decision"] == "could-not-verify"
    assert "not a named requirement" in found["bad input"]["error"]

    assert found["install denied"]["installed"] == []
    assert found["install denied"]["decision"] == "deny"
    assert found["unchanged"]
    assert found["install clean"]["installed"] == ["cleanpkg==1.0"]
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(target / "bin" / "python"), "list"],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    ).stdout
    assert "cleanpkg" in listed
    assert "hookpkg" not in listed


def test_without_allow_install_there_is_no_install_tool(
    index: PackageIndex, tmp_path: Path
) -> None:
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client

    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "verify", "mcp", "--index-url", index.url, "--cache-dir", str(tmp_path / "c")],
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )

    async def tools() -> set[str]:
        async with stdio_client(server) as streams, ClientSession(*streams) as session:
            await session.initialize()
            return {tool.name for tool in (await session.list_tools()).tools}

    assert anyio.run(tools) == {"check_packages", "explain", "suggest"}
