"""The severity of an OSV record: its CVSS v3.x base score, banded, else its database's label.

A CVSS v3.x vector in the record's ``severity[]`` is scored with the base-score formula of the
CVSS 3.1 specification (:func:`cvss3_base_score`) and banded; without one, the database's own
label (``database_specific.severity``, as GitHub advisories carry it) is mapped. CVSS v2 and v4
vectors are not scored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final

from verify._vulnerabilities.fields import objects

__all__ = ["SEVERITY_RANK", "cvss3_base_score", "osv_severity"]

#: The severity bands, from the mildest.
SEVERITY_RANK: Final = {"low": 1, "medium": 2, "high": 3, "critical": 4}
_SEVERITY_LABELS: Final = {
    "low": "low",
    "moderate": "medium",
    "medium": "medium",
    "high": "high",
    "critical": "critical",
}


def osv_severity(record: Mapping[str, object]) -> str | None:
    """The severity band of a record: its CVSS v3 base score, else its database's label."""
    for entry in objects(record.get("severity")):
        if entry.get("type") != "CVSS_V3":
            continue
        vector = entry.get("score")
        score = cvss3_base_score(vector) if isinstance(vector, str) else None
        if score:
            return _band(score)
    labelled = [record, *objects(record.get("affected"))]
    for holder in labelled:
        for key in ("database_specific", "ecosystem_specific"):
            specific = holder.get(key)
            label = specific.get("severity") if isinstance(specific, dict) else None
            if isinstance(label, str) and label.strip().lower() in _SEVERITY_LABELS:
                return _SEVERITY_LABELS[label.strip().lower()]
    return None


def _band(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


_CVSS3_WEIGHTS: Final[dict[str, dict[str, float]]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "PR": {"N": 0.85, "L": 0.62, "H": 0.27},
    "UI": {"N": 0.85, "R": 0.62},
    "S": {"U": 0.0, "C": 0.0},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
#: Privileges Required weighs more when the scope changes.
_CVSS3_PR_CHANGED: Final = {"N": 0.85, "L": 0.68, "H": 0.5}


def cvss3_base_score(vector: str) -> float | None:
    """The base score of a CVSS v3.0/v3.1 vector (CVSS 3.1 specification, section 7.1).

    Temporal and environmental metrics in the vector are ignored. ``None`` when the vector is
    not a well-formed CVSS 3.x vector with every base metric.
    """
    prefix, _, rest = vector.strip().partition("/")
    if prefix not in ("CVSS:3.0", "CVSS:3.1") or not rest:
        return None
    metrics: dict[str, str] = {}
    for part in rest.split("/"):
        key, sep, value = part.partition(":")
        if not sep or not value or key in metrics:
            return None
        metrics[key] = value
    try:
        weights = {key: _CVSS3_WEIGHTS[key][metrics[key]] for key in _CVSS3_WEIGHTS}
    except KeyError:
        return None
    changed = metrics["S"] == "C"
    if changed:
        weights["PR"] = _CVSS3_PR_CHANGED[metrics["PR"]]
    iss = 1 - (1 - weights["C"]) * (1 - weights["I"]) * (1 - weights["A"])
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    exploitability = 8.22 * weights["AV"] * weights["AC"] * weights["PR"] * weights["UI"]
    if impact <= 0:
        return 0.0
    total = 1.08 * (impact + exploitability) if changed else impact + exploitability
    return _roundup(min(total, 10.0))


def _roundup(value: float) -> float:
    """CVSS 3.1's Roundup: the smallest one-decimal number >= value, without float noise."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000.0
    return (math.floor(scaled / 10_000) + 1) / 10.0
