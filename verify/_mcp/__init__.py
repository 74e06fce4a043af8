"""``pip-verify mcp``: pip-verify as a Model Context Protocol server for coding agents
(:mod:`.tools` holds what the tools do, :mod:`.server` how the SDK serves them)."""
