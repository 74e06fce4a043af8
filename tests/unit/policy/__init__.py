"""Unit tests of ``verify.policy``."""
