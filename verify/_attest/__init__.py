"""Signed verification summaries (SLSA VSA in DSSE) of what a check verified."""
