"""Unit tests of ``verify._dist``."""
