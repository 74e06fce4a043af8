"""Fixtures of the vulnerability tests: the loopback OSV API."""

from tests.helpers.osv import serve

__all__ = ["serve"]
