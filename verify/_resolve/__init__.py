"""Turning user inputs (requirements files, lock files, resolver output) into candidates."""
