"""pip-verify test suite."""
