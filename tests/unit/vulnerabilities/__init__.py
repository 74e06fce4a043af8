"""Unit tests of ``verify._vulnerabilities``."""
