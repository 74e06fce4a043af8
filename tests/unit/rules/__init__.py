"""Unit tests of ``verify._rules``."""
