"""The project's pipelines at a glance, as the TUI's Pipelines screen and `phasegate pipelines`
show them: each one's table, when it runs in words, and what it depends on.

One function for both front ends, so they word a schedule the same way (issue 10: no logic
copied between cli and tui): the words are pipelines.orchestration's (`RunPlan.words`, built on
pipelines.spec's `describe_schedule`, through cron-descriptor): "At 05:00 · orchestrated".
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pipelines.orchestration import run_plans
from pipelines.spec import PipelineSpec


class PipelineLine(NamedTuple):
    name: str
    table: str  # namespace.table
    runs: str  # when it runs, in words: "At 05:00", "At 05:00 · orchestrated", "triggered"
    schedule: str | None  # the cron expression or preset it runs on (its own or its group's)
    dag_id: str  # the DAG that carries that schedule
    depends_on: tuple[str, ...]


def pipeline_lines(specs: list[PipelineSpec]) -> list[PipelineLine]:
    """One line per pipeline, in the specs' order."""
    plans = run_plans(specs)
    return [
        PipelineLine(
            spec.name,
            spec.target.identifier,
            plans[spec.name].words(),
            plans[spec.name].schedule,
            plans[spec.name].dag_id,
            tuple(spec.depends_on),
        )
        for spec in specs
    ]


def pipelines_document(lines: list[PipelineLine]) -> dict[str, Any]:
    """`phasegate pipelines --json` (docs/json.md, docs/schemas/pipelines.schema.json)."""
    return {
        "document": "pipelines",
        "version": 1,
        "pipelines": [
            {
                "name": line.name,
                "table": line.table,
                "runs": line.runs,
                "schedule": line.schedule,
                "dag_id": line.dag_id,
                "depends_on": list(line.depends_on),
            }
            for line in lines
        ],
    }
