"""Integration tests: local servers and subprocesses on 127.0.0.1."""
