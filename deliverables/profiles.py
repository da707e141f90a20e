"""Profiles of sources (process 1.3) as the tracker holds them: one `profile` op per profiling
run (deliverables.oplog), folded into the `profiles` table (deliverables.view), so every clone
that synced sees the team's latest profile of each source and the drift it found.

What a summary holds is decided where profiles are made (pipelines.profiling.outputs.summary);
here it is JSON read back. Whose source it is: the owner of the Data Profiling Report (D1.3),
the deliverable every profile writes; with no owner set, whoever profiled it last.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple

from deliverables.identity import same_person

if TYPE_CHECKING:
    from deliverables.project import Project
    from deliverables.store import Tracker

REPORT_DELIVERABLE = "D1.3"


class StoredProfile(NamedTuple):
    """One profiling run of a source as stored in the tracker."""

    id: int
    name: str
    profiled_at: str
    at: str  # when it was stored (the op's wall time)
    actor: str
    summary: dict[str, Any]

    @property
    def drift(self) -> list[dict[str, Any]]:
        """The findings against the profile before it ([]: none, or no profile before)."""
        return list((self.summary.get("drift") or {}).get("findings") or [])

    @property
    def since(self) -> str | None:
        """When the profile it was compared with was made (None: it was the first)."""
        return (self.summary.get("drift") or {}).get("since")


_COLUMNS = "id, name, profiled_at, at, actor, summary"


def _record(row: tuple) -> StoredProfile:
    return StoredProfile(*row[:5], json.loads(row[5]))


def latest_profile(tracker: Tracker, name: str) -> StoredProfile | None:
    """The newest stored profile of source `name` (in the op log's total order)."""
    rows = tracker.query(
        f"SELECT {_COLUMNS} FROM profiles WHERE name = ? ORDER BY id DESC LIMIT 1", (name,)
    )
    return _record(rows[0]) if rows else None


def latest_profiles(tracker: Tracker) -> list[StoredProfile]:
    """The newest stored profile of every source, by name."""
    rows = tracker.query(
        f"SELECT {_COLUMNS} FROM profiles WHERE id IN "
        "(SELECT max(id) FROM profiles GROUP BY name) ORDER BY name"
    )
    return [_record(row) for row in rows]


def profile_history(tracker: Tracker, name: str) -> list[StoredProfile]:
    """Every stored profile of source `name`, newest first."""
    rows = tracker.query(
        f"SELECT {_COLUMNS} FROM profiles WHERE name = ? ORDER BY id DESC", (name,)
    )
    return [_record(row) for row in rows]


def owns_profiles(project: Project, me: str, profile: StoredProfile) -> bool:
    """Whether `me` answers for this source: the owner of D1.3 (the Data Profiling Report),
    or, while D1.3 has no owner, whoever profiled it last."""
    owner = project.tracker.deliverable_state(REPORT_DELIVERABLE).owner
    if owner:
        return same_person(owner, me)
    return same_person(profile.actor, me)


def my_drift(project: Project, me: str) -> list[StoredProfile]:
    """The latest profiles with drift of the sources `me` answers for, by name."""
    return [
        p for p in latest_profiles(project.tracker) if p.drift and owns_profiles(project, me, p)
    ]
