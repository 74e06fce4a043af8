"""Checks of a package's name against the names people mean (typosquatting)."""
