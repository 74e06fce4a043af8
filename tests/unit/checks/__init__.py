"""Unit tests of ``verify._checks``."""
