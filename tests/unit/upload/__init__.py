"""Unit tests of ``verify._upload``."""
