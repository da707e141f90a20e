"""A real profile without a JVM: the orders profile tests/test_profile.py computes on Spark,
stored as tests/fixtures/profile-orders.json (made once, with the session's Spark), and the same
source a day later with drift."""

from __future__ import annotations

import copy
import json
from pathlib import Path

ORDERS = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "profile-orders.json").read_text()
)


def orders(**changes) -> dict:
    profile = copy.deepcopy(ORDERS)
    profile.update(changes)
    return profile


def drifted(profiled_at: str = "2026-11-28T09:30:00+00:00") -> dict:
    """The orders profile a day later: a new status, `note` always null, `line` retyped."""
    profile = orders(profiled_at=profiled_at)
    for column in profile["columns"]:
        if column["name"] == "status":
            column["categories"] = ["lost", "paid", "refunded", "void"]
        if column["name"] == "note":
            column["nulls"] = 60
        if column["name"] == "line":
            column["type"] = column["lossless"] = "long"
    return profile
