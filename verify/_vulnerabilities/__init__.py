"""Known vulnerabilities: OSV sources (an API, a hardened offline database) and the audit."""
