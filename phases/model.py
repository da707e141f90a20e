"""The process model: phases, sub-phases, checklist items, assists, deliverables, gate criteria.

Plain immutable data; `phases.loader` builds it from YAML. Nothing here knows storage or UI.
The parts are NamedTuples: as cheap to define as to use (frozen dataclasses cost ~6 ms of
start-up to create).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

GATE_KINDS = (
    "checklist_complete",
    "deliverables_approved",
    "validations_green",
    "reviewer_approval",
)


class ChecklistItem(NamedTuple):
    id: str
    text: str
    sub_phase_id: str
    optional: bool = False

    @property
    def phase_id(self) -> str:
        return self.sub_phase_id.split(".")[0]


class Assist(NamedTuple):
    """A "With Claude" line: a ready prompt the engineer can copy or log."""

    id: str
    tool: str
    text: str
    sub_phase_id: str


class SubPhase(NamedTuple):
    id: str
    title: str
    items: tuple[ChecklistItem, ...]
    assists: tuple[Assist, ...] = ()
    intro: str = ""


class DeliverablePart(NamedTuple):
    path: str
    text: str


class Deliverable(NamedTuple):
    id: str
    title: str
    phase_id: str
    path: str
    parts: tuple[DeliverablePart, ...] = ()
    optional: bool = False

    @property
    def slug(self) -> str:
        return slugify(self.title)


class GateCriterion(NamedTuple):
    id: str
    kind: str
    text: str


class Phase(NamedTuple):
    id: str
    title: str
    sub_phases: tuple[SubPhase, ...]
    deliverables: tuple[Deliverable, ...]
    gate: tuple[GateCriterion, ...]

    @property
    def number(self) -> int:
        return int(self.id)

    @property
    def items(self) -> tuple[ChecklistItem, ...]:
        return tuple(item for sub in self.sub_phases for item in sub.items)

    @property
    def assists(self) -> tuple[Assist, ...]:
        return tuple(a for sub in self.sub_phases for a in sub.assists)


@dataclass(frozen=True)
class ProcessModel:
    title: str
    phases: tuple[Phase, ...]
    assist_prompt: str
    sources: tuple[str, ...] = field(default=())

    @cached_property
    def _by_id(self) -> dict[str, object]:
        index: dict[str, object] = {}
        for phase in self.phases:
            index[phase.id] = phase
            for sub in phase.sub_phases:
                index[sub.id] = sub
                index.update((i.id, i) for i in sub.items)
                index.update((a.id, a) for a in sub.assists)
            index.update((d.id, d) for d in phase.deliverables)
            index.update((g.id, g) for g in phase.gate)
        return index

    @property
    def items(self) -> tuple[ChecklistItem, ...]:
        return tuple(item for phase in self.phases for item in phase.items)

    @property
    def deliverables(self) -> tuple[Deliverable, ...]:
        return tuple(d for phase in self.phases for d in phase.deliverables)

    @property
    def sub_phases(self) -> tuple[SubPhase, ...]:
        return tuple(sub for phase in self.phases for sub in phase.sub_phases)

    @property
    def assists(self) -> tuple[Assist, ...]:
        return tuple(a for phase in self.phases for a in phase.assists)

    def phase(self, phase_id: str | int) -> Phase | None:
        found = self._by_id.get(str(phase_id))
        return found if isinstance(found, Phase) else None

    def sub_phase(self, sub_id: str) -> SubPhase | None:
        found = self._by_id.get(sub_id)
        return found if isinstance(found, SubPhase) else None

    def item(self, item_id: str) -> ChecklistItem | None:
        found = self._by_id.get(item_id)
        return found if isinstance(found, ChecklistItem) else None

    def deliverable(self, deliverable_id: str) -> Deliverable | None:
        found = self._by_id.get(deliverable_id.upper() if deliverable_id[:1] in "dD" else "")
        return found if isinstance(found, Deliverable) else None

    def assist(self, assist_id: str) -> Assist | None:
        found = self._by_id.get(assist_id.upper() if assist_id[:1] in "aA" else "")
        return found if isinstance(found, Assist) else None

    def assist_prompt_for(self, assist: Assist) -> str:
        """The ready prompt for an assist: its task with the sub-phase's checklist as context."""
        sub = self.sub_phase(assist.sub_phase_id)
        phase = self.phase(assist.sub_phase_id.split(".")[0])
        assert sub is not None and phase is not None
        checklist = "\n".join(f"- {item.text}" for item in sub.items)
        return self.assist_prompt.format(
            tool=assist.tool,
            text=assist.text,
            phase=f"{phase.id} {phase.title}",
            sub_phase=f"{sub.id} {sub.title}",
            checklist=checklist,
        )


def slugify(text: str) -> str:
    """`Security & Compliance Design` -> `security-compliance-design`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
