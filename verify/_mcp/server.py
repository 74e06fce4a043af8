"""The MCP server: :class:`~verify._mcp.tools.AgentTools` served over stdio with the official
``mcp`` SDK (the ``mcp`` extra).

Each tool's description tells the agent what its answer means and what to do next: a denial
is final for the agent (ask a human, or take the suggested name), never something to work
around. The install tool exists only when the server was started with ``--allow-install``.
"""

from __future__ import annotations

from typing import Any

try:
    from mcp.server.mcpserver import MCPServer
except ImportError:
    from verify.errors import UsageError

    raise UsageError(
        "pip-verify mcp needs the 'mcp' extra: pip install 'pip-verify[mcp]'"
    ) from None

from verify._mcp.tools import AgentTools
from verify._version import __version__

__all__ = ["INSTRUCTIONS", "build_server"]

INSTRUCTIONS = (
    "pip-verify decides which Python packages may be installed, from evidence: each file's "
    "hash, its provenance and publisher, what a release adds compared with the one before it, "
    "known vulnerabilities, and whether the project name is real and established. Check "
    "packages before adding them. A 'deny' is final for you: do not install the package "
    "another way; ask a human, or use the suggest tool for an unknown or look-alike name. The "
    "policy is fixed by whoever started this server; no argument changes it."
)

_CHECK = (
    "Check Python requirements (e.g. ['requests', 'flask>=3']) before adding them: resolves "
    "them as pip would and verifies every package. Returns the decision ('allow', 'warn', "
    "'deny' or 'could-not-verify') and each package's reasons. On 'deny' do not install: ask a "
    "human, or for a 'name-unknown' / 'project-thin' / 'typosquat' reason call suggest and "
    "use the established project. Named requirements only (no paths, URLs or pip options)."
)
_EXPLAIN = (
    "Explain one release's verdict: the findings of its behaviour diff (what it adds compared "
    "with the release before it) with file, line and code as evidence, and its provenance. "
    "Use it to show a human why a package was denied or warned about."
)
_SUGGEST = (
    "For a package name that is unknown, young or looks like a popular one: the established "
    "projects it most likely stands for, from the list of the most downloaded projects. "
    "Prefer a suggestion over an unknown name; ask a human if none fits."
)
_INSTALL = (
    "Verify the requirements and install exactly the verified files into the environment of "
    "'python' (a path to its interpreter; default: the server's). Nothing is installed when "
    "anything is denied or could not be verified; the answer says why and what to do."
)


def build_server(tools: AgentTools, *, allow_install: bool) -> MCPServer[Any]:
    """The server offering ``tools``; ``install`` only with ``allow_install``."""
    server: MCPServer[Any] = MCPServer(
        name="pip-verify", version=__version__, instructions=INSTRUCTIONS
    )

    @server.tool(description=_CHECK)
    def check_packages(requirements: list[str], index_url: str | None = None) -> dict[str, Any]:
        return tools.check_packages(requirements, index_url)

    @server.tool(description=_EXPLAIN)
    def explain(package: str, version: str) -> dict[str, Any]:
        return tools.explain(package, version)

    @server.tool(description=_SUGGEST)
    def suggest(name: str) -> dict[str, Any]:
        return tools.suggest(name)

    if allow_install:

        @server.tool(description=_INSTALL)
        def install(requirements: list[str], python: str | None = None) -> dict[str, Any]:
            return tools.install(requirements, python)

    return server
