"""Unit tests of ``verify._fetch``."""
