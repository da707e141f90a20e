"""When each pipeline runs: on its own schedule, or in an orchestration with the pipelines it
depends on.

Pipelines linked by `depends_on` (directly or through others) form a group. A group runs as one
orchestration DAG that triggers its pipelines in dependency order, each with the orchestration
run's logical date (so a backfill of a date ingests that date everywhere), and waits for each;
their own DAGs have no schedule, so nothing runs twice. The orchestration runs on the schedule
its pipelines declare: they must agree (pipelines.spec refuses a group with two schedules), and
one that leaves it out takes the group's. A pipeline outside any group runs on its own schedule.

A group whose specs say `scheduling: assets` has no orchestration DAG: Airflow's data-aware
scheduling runs it. Every ingestion DAG declares its Iceberg table as an Asset (`asset_uri`),
updated when its `publish` task makes the audit snapshot main's; a pipeline scheduled on assets
runs once each table it depends on has been published since its last run, for the newest run
date they published. Its upstreams keep their own schedules.

The generated DAGs (pipelines.codegen), docs/architecture/data-flow.md, the Pipelines screen and
the static tier's checks all read this module, so they say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.spec import PipelineSpec, dependency_groups, describe_schedule

ORCHESTRATION_PREFIX = "orchestration_"
ASSET_SCHEME = "iceberg"


def asset_uri(catalog: str, spec: PipelineSpec) -> str:
    """The Airflow Asset naming a pipeline's table: iceberg://<catalog>/<namespace>/<table>
    (a scheme Airflow has no normalizer for, so it keeps the URI as written)."""
    return f"{ASSET_SCHEME}://{catalog}/{spec.target.namespace}/{spec.target.table}"


@dataclass(frozen=True)
class Group:
    """Pipelines run together by one orchestration DAG."""

    dag_id: str
    pipelines: tuple[str, ...]  # in dependency order
    edges: tuple[tuple[str, str], ...]  # (upstream, downstream)
    schedule: str | None


@dataclass(frozen=True)
class RunPlan:
    """How one pipeline runs."""

    pipeline: str
    schedule: str | None  # the schedule it runs on: its own, or its group's
    dag_id: str  # the DAG that carries that schedule: its own, or the orchestration's
    after: tuple[str, ...] = ()
    on_assets: bool = False  # runs when the tables of `after` are published (Airflow assets)

    @property
    def orchestrated(self) -> bool:
        return self.dag_id != self.pipeline

    def words(self) -> str:
        """For the Pipelines screen (a narrow column): `At 05:00 · orchestrated`."""
        if self.on_assets:
            return f"after {', '.join(self.after)} publish"
        text = describe_schedule(self.schedule) if self.schedule else "triggered"
        return f"{text} · orchestrated" if self.orchestrated else text

    def markdown(self) -> str:
        """For data-flow.md: `0 5 * * *` (by orchestration_store_master)."""
        if self.on_assets:
            return f"when {', '.join(self.after)} publish (Airflow assets)"
        text = f"`{self.schedule}`" if self.schedule else "not scheduled (triggered)"
        return f"{text} by {self.dag_id}" if self.orchestrated else text


def groups(specs: list[PipelineSpec]) -> list[Group]:
    """The orchestration groups, each named after its first root (a pipeline depending on none
    of the group), in the order of their first pipeline."""
    by_name = {s.name: s for s in specs}
    out = []
    for names in dependency_groups(specs):
        if on_assets(by_name, names):
            continue
        roots = sorted(n for n in names if not by_name[n].depends_on)
        declared = [by_name[n].schedule for n in names if by_name[n].schedule]
        out.append(
            Group(
                dag_id=ORCHESTRATION_PREFIX + roots[0],
                pipelines=names,
                edges=tuple((up, n) for n in names for up in by_name[n].depends_on),
                schedule=declared[0] if declared else None,
            )
        )
    return out


def run_plans(specs: list[PipelineSpec]) -> dict[str, RunPlan]:
    """Every pipeline's RunPlan, by name."""
    plans = {s.name: RunPlan(s.name, s.schedule, s.name) for s in specs}
    by_name = {s.name: s for s in specs}
    for group in groups(specs):
        for name in group.pipelines:
            plans[name] = RunPlan(name, group.schedule, group.dag_id, by_name[name].depends_on)
    for spec in specs:
        if spec.depends_on and spec.scheduling == "assets":
            plans[spec.name] = RunPlan(spec.name, None, spec.name, spec.depends_on, on_assets=True)
    return plans


def on_assets(by_name: dict[str, PipelineSpec], names: tuple[str, ...]) -> bool:
    """A group is scheduled on assets when its specs say so (pipelines.spec makes the pipelines
    of a group that depend on others agree)."""
    return any(by_name[n].depends_on and by_name[n].scheduling == "assets" for n in names)
