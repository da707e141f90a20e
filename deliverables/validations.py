"""What the stored validation runs mean for the process: the "validations green" gate criterion of
phases 4 and 5, the deliverables the runs are evidence for, and a run's markdown report.

Reads the tracker only; running a validation is `pipelines.validation.engine`'s job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deliverables.paths import repo_file
from deliverables.store import CheckRecord, RunRecord

if TYPE_CHECKING:
    from deliverables.project import Project

# check outcomes that fail a pipeline; "warning" (a failed rule of severity warning) and
# "skipped" do not
FAILING = ("failed", "error", "timeout", "cancelled")
# Which deliverable each kind of result is evidence for (process phases 4 and 5).
EVIDENCE = {
    "D4.4": ("Unit Test Reports", None, "every check of the latest run per pipeline"),
    "D4.5": ("Performance Benchmarks", "full", "rows and durations of the full tier"),
    "D5.2": ("Test Execution Reports", "full", "the full tier: job, Iceberg, GX, dag.test()"),
    "D5.3": ("Data Quality Rules Catalog", "full", "each expectation's outcome on real data"),
}
# The gate criterion per phase: which tier's latest run counts.
GATE_TIERS = {"4": None, "5": "full"}
# Each run's full log (the subprocess's output), kept out of git.
RUN_LOGS = Path(".phasegate") / "runs"


def run_log_path(project: Project, run_id: int) -> Path:
    """Where the engine writes a run's log and the front ends read it."""
    return repo_file(project.root, f"{RUN_LOGS}/{run_id}.log", what="the run log")


def run_report_path(project: Project, run_id: int) -> Path:
    """Where a run's markdown report goes (`phasegate runs show N -o`, the TUI's `w`)."""
    return repo_file(project.root, f"docs/validation/run-{run_id}.md", what="the run report")


def pipeline_outcome(outcomes: list[str]) -> str:
    """One pipeline's outcome in a run from its checks' outcomes: cancelled, timeout, failed,
    passed ("warning" and "skipped" do not fail it), or "not run" when it has none."""
    if not outcomes:
        return "not run"
    for bad in ("cancelled", "timeout"):
        if bad in outcomes:
            return bad
    return "failed" if any(o in FAILING for o in outcomes) else "passed"


@dataclass(frozen=True)
class PipelineResult:
    pipeline: str
    run: RunRecord | None
    checks: tuple[CheckRecord, ...] = ()

    @property
    def outcome(self) -> str:
        if self.run is None:
            return "not validated"
        return pipeline_outcome([c.outcome for c in self.checks])

    @property
    def problems(self) -> list[CheckRecord]:
        return [c for c in self.checks if c.outcome in FAILING]


def pipeline_names(root: Path) -> list[str]:
    """The pipelines of the repository: `pipelines/*.yaml` (the file name is the spec's name)."""
    folder = root / "pipelines"
    if not folder.is_dir():
        return []
    return sorted({p.stem for p in (*folder.glob("*.yaml"), *folder.glob("*.yml"))})


def latest_results(project: Project, tier: str | None = None) -> list[PipelineResult]:
    """Per pipeline of the repository, its newest finished run (of `tier`) and that run's checks."""
    latest = project.tracker.latest_checks(tier)
    names = pipeline_names(project.root)
    names += sorted(n for n in latest if n not in names)  # results of a spec since removed
    return [
        PipelineResult(n, latest[n][0], tuple(latest[n][1]))
        if n in latest
        else PipelineResult(n, None)
        for n in names
    ]


def validations_green(project: Project, phase_id: str) -> tuple[bool, list[str]]:
    """The `validations_green` gate criterion: met when the latest run (phase 5: the latest full
    run) of every pipeline passed. Returns whether it is met and one evidence line per pipeline."""
    tier = GATE_TIERS.get(phase_id)
    results = latest_results(project, tier)
    if not results:
        return False, ["no pipeline specs in pipelines/ yet"]
    lines = []
    for result in results:
        if result.run is None:
            lines.append(f"{result.pipeline}: no {tier + ' ' if tier else ''}validation run yet")
            continue
        line = f"{result.pipeline}: {result.outcome} (run {result.run.id}, {result.run.tier}"
        line += f", {result.run.started_at[:10]})"
        if result.problems:
            first = result.problems[0]
            line += f" — {first.step}/{first.check_name}: {first.detail}"
        lines.append(line)
    return all(r.outcome == "passed" for r in results), lines


def evidence(project: Project, deliverable_id: str) -> list[str]:
    """Lines of evidence the stored runs give a deliverable (empty when none applies)."""
    if deliverable_id not in EVIDENCE:
        return []
    _, tier, _ = EVIDENCE[deliverable_id]
    results = [r for r in latest_results(project, tier) if r.run is not None]
    if not results:
        command = "phasegate validate" + (" --tier full" if tier else "")
        return [f"no {tier + ' ' if tier else ''}validation run yet (run: {command})"]
    lines = []
    for r in results:
        if deliverable_id == "D5.3":
            rules = [c for c in r.checks if c.step == "quality"]
            passed = sum(c.outcome == "passed" for c in rules)
            lines.append(
                f"{r.pipeline}: {passed}/{len(rules)} expectations met (run {r.run.id})"
                if rules
                else f"{r.pipeline}: no quality rules in its spec (run {r.run.id})"
            )
        elif deliverable_id == "D4.5":
            job = next((c for c in r.checks if c.step == "job"), None)
            if job is not None and job.duration:
                rows = job.payload.get("rows_written", 0)
                lines.append(
                    f"{r.pipeline}: {rows} rows in {job.duration:.1f} s "
                    f"({rows / job.duration:,.0f} rows/s, run {r.run.id})"
                )
        else:
            passed = sum(c.outcome not in FAILING for c in r.checks)
            lines.append(
                f"{r.pipeline}: {r.outcome}, {passed}/{len(r.checks)} checks "
                f"(run {r.run.id}, {r.run.tier})"
            )
    return lines


def run_report(project: Project, run_id: int) -> str:
    """A run as markdown: header facts, per-pipeline outcome, every check, the versions."""
    from deliverables.templating import render_template

    run = project.tracker.run(run_id)
    if run is None:
        from deliverables.errors import TrackerError

        known = [str(r.id) for r in project.tracker.runs(10)]
        raise TrackerError(
            f"no validation run {run_id}"
            + (f" (recent runs: {', '.join(known)})" if known else " (none has run yet)")
        )
    checks = project.tracker.run_checks(run_id)
    pipelines = []
    for name in run.pipeline_names:
        own = tuple(c for c in checks if c.pipeline == name)
        pipelines.append((PipelineResult(name, run, own), [(c, _details(c)) for c in own]))
    return render_template(
        "validation_run.md.j2",
        {
            "project": project.name,
            "run": run,
            "pipelines": pipelines,
            "versions": run.version_map,
        },
    )


def _details(check: CheckRecord) -> str:
    data = check.payload
    parts = []
    if "unexpected_samples" in data:
        parts.append(
            "samples: " + ", ".join(json.dumps(v, default=str) for v in data["unexpected_samples"])
        )
    if "exception" in data:
        parts.append(f"GX raised: {data['exception']}")
    return "; ".join(parts)
