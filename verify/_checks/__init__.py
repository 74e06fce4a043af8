"""Checks that look up resolved packages in outside sources (known-vulnerability databases)."""
