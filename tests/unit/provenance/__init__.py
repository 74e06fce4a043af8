"""Unit tests of ``verify._provenance``."""
