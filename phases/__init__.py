"""The process model: phases, sub-phases, checklist items, assists, deliverables, gate criteria."""

from phases.errors import ProcessError
from phases.loader import DEFAULT_PROCESS, load_process
from phases.model import (
    Assist,
    ChecklistItem,
    Deliverable,
    DeliverablePart,
    GateCriterion,
    Phase,
    ProcessModel,
    SubPhase,
)

__all__ = [
    "DEFAULT_PROCESS",
    "Assist",
    "ChecklistItem",
    "Deliverable",
    "DeliverablePart",
    "GateCriterion",
    "Phase",
    "ProcessError",
    "ProcessModel",
    "SubPhase",
    "load_process",
]
