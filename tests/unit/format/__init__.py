"""Unit tests of ``verify._format``."""
