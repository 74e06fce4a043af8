"""Unit tests of ``verify._index``."""
