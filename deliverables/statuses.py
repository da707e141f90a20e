"""The status vocabularies of items, deliverables and phases, and how a user may spell them.

Ground floor of `deliverables/`: it imports nothing of the package except its error type, so
every module (the project, the templates, the reports) and both front ends can import it.
"""

from __future__ import annotations

import re
from datetime import date

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
# A recorded gate review's outcome, and those that let the phase pass.
GATE_OUTCOMES = ("passed", "passed_with_waivers", "failed")
PASSING = ("passed", "passed_with_waivers")
# A gate criterion's status as one mark, the same in the TUI, the CLI and the reports.
CRITERION_MARKS = {"met": "✔", "waived": "≈", "unmet": "✘", "pending": "…"}
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


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def parse_date(text: str, what: str) -> date:
    """The one date parser of user input (`--due`, `--expires`, the TUI's date fields): exactly
    `YYYY-MM-DD` and a real day. `date.fromisoformat` alone also takes `20300101` and
    `2030-W01-1`, which a person reading the record would not recognise."""
    cleaned = text.strip(" ")  # spaces only: "2030-01-01\n" is not a date someone typed
    if not _DAY.match(cleaned):
        raise TrackerError(f"{what} {text!r} is not YYYY-MM-DD")
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        raise TrackerError(f"{what} {text!r} is not a real date") from None
