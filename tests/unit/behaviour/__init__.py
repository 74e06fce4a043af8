"""Unit tests of ``verify._behaviour``."""
