"""The status vocabularies of items, deliverables and phases, and how a user may spell them.

Ground floor of `deliverables/`: it imports nothing of the package except its error type, so
every module (the project, the templates, the reports) and both front ends can import it.
"""

from __future__ import annotations

import re

from deliverables.errors import TrackerError

ITEM_STATUSES = ("todo", "done", "not_applicable", "blocked")
DELIVERABLE_STATUSES = ("missing", "draft", "in_review", "approved", "not_applicable")
# The deliverable workflow: forward one step at a time; back to rework; N/A from anywhere.
DELIVERABLE_FLOW: dict[str, tuple[str, ...]] = {
    "missing": ("draft", "not_applicable"),
    "draft": ("in_review", "missing", "not_applicable"),
    "in_review": ("approved", "draft", "not_applicable"),
    "approved": ("in_review", "draft", "not_applicable"),
    "not_applicable": ("missing", "draft"),
}
STATUS_LABELS = {
    "todo": "todo",
    "done": "done",
    "not_applicable": "n/a",
    "blocked": "blocked",
    "missing": "missing",
    "draft": "draft",
    "in_review": "in review",
    "approved": "approved",
    "in_progress": "in progress",
    "not_started": "not started",
    "passed": "passed",
}
PHASE_STATUSES = ("not_started", "in_progress", "in_review", "passed")
_ALIASES = {"n/a": "not_applicable", "na": "not_applicable", "review": "in_review", "to_do": "todo"}


def parse_status(text: str, allowed: tuple[str, ...], what: str) -> str:
    """Accepts `in review`, `in-review`, `IN_REVIEW`, `n/a`, ... and returns the canonical name."""
    key = re.sub(r"[\s-]+", "_", text.strip().lower())
    key = _ALIASES.get(key, key)
    if key not in allowed:
        raise TrackerError(
            f"unknown {what} status '{text}' (expected one of: {', '.join(allowed)})"
        )
    return key
