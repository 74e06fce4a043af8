"""Unit tests of ``verify._resolve``."""
