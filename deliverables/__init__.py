"""The tracker: SQLite state of items and deliverables, the activity log, markdown reports."""

from deliverables.errors import TrackerError
from deliverables.project import Project

__all__ = ["Project", "TrackerError"]
