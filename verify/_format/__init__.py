"""Renderings of a :class:`~verify.models.Report`: JSON and a terminal table.

Rendering is separate from verification: these functions only read the report.
"""
