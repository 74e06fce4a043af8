"""Unit tests of ``verify._cli``."""
