"""What a profile leaves behind: the profile in the tracker (a `profile` op holding its
`summary`, shared with the team by `phasegate sync`; drift is found against the latest one stored
there), the full profile in `.phasegate/profiles/<name>.json` (with the examples of failing values,
which stay on this clone), the Data Profiling Report (D1.3) at its document path, the drafted
`pipelines/<name>.yaml`, and the tracker's record: D1.3 moved to draft, the 1.3 items a profile
satisfies ticked, in the activity log as done by the profiler, with the evidence in each item's
note.

The report and the spec are written through generation's plan (pipelines.generate): a file the
profiler wrote before and nobody edited is rewritten, an edited one is merged, and a file
phasegate did not write is never touched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phases.text import control_problem
from pipelines.errors import ProfileError
from pipelines.profiling import ITEMS, PROFILE_DIR, REPORT_DELIVERABLE
from pipelines.profiling.suggest import DRAFT_TEMPLATE, draft_spec, spec_columns, suggest

if TYPE_CHECKING:
    from deliverables import Project

REPORT_TEMPLATE = "profile-report@1"


@dataclass
class ProfileOutcome:
    profile: dict[str, Any]
    stored: str
    report: str
    report_state: str
    spec: str
    spec_state: str  # new | updated | merged | conflict | unchanged | exists | kept | refused
    spec_problem: str = ""
    ticked: list[str] = field(default_factory=list)
    drafted: bool = False


def profile_path(name: str) -> str:
    return f"{PROFILE_DIR}/{name}.json"


def stored_profiles(root: Path) -> list[dict[str, Any]]:
    folder = Path(root) / PROFILE_DIR
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a broken stored profile is not this run's business
    return found


def _stored(root: Path, relative: str) -> dict[str, Any] | None:
    try:
        return json.loads((Path(root) / relative).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# What the tracker's copy leaves out: values of rows (the examples of failing values; a
# sensitive column's values never reach a profile at all), the file list, the timings.
_LOCAL_ONLY = ("timings",)
_LOCAL_ONLY_COLUMN = ("failing_examples",)
_LOCAL_ONLY_SOURCE = ("file_names",)


def summary(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile as the tracker stores it (a `profile` op): everything drift, the report and
    the suggested rules read, without the local-only parts, every string printable (a control
    character in a category is stored escaped: `\\x1b`), as every op's text must be."""
    out = {k: v for k, v in profile.items() if k not in _LOCAL_ONLY}
    out["source"] = {k: v for k, v in profile["source"].items() if k not in _LOCAL_ONLY_SOURCE}
    out["columns"] = [
        {k: v for k, v in c.items() if k not in _LOCAL_ONLY_COLUMN} for c in profile["columns"]
    ]
    return _printable(out)


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("unicode_escape").decode("ascii") if control_problem(value) else value
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    return value


def previous_profile(project: Project, name: str) -> dict[str, Any] | None:
    """What a new profile of `name` is compared with: the latest profile the tracker holds
    (this clone's, or a teammate's once synced), else the stored JSON of a profile made before
    profiles were ops."""
    from deliverables.profiles import latest_profile

    stored = latest_profile(project.tracker, name)
    if stored is not None:
        return stored.summary
    return _stored(project.root, profile_path(name))


def write_outputs(
    project: Project, profile: dict[str, Any], *, update: bool = False
) -> ProfileOutcome:
    """Stores `profile`, rewrites the report, drafts (or, with `update`, merges) the spec and
    records it all in the tracker."""
    from deliverables.documents import document_path
    from deliverables.paths import repo_file
    from deliverables.templating import write_document
    from pipelines.generate import RenderedFile, apply, plan

    root = project.root
    profile = dict(profile)  # the drift found is added to this run's copy
    name = profile["name"]
    deliverable = project.deliverable(REPORT_DELIVERABLE)
    report = document_path(project, deliverable)
    spec = spec_path(name)

    # the spec first: a problem there (a column a spec cannot name) is reported, not fatal
    spec_state, problem = write_spec(project, profile, update=update, report=report)

    stored = profile_path(name)
    previous = previous_profile(project, name)
    if previous is not None and previous.get("columns"):
        from pipelines.profiling.drift import drift

        profile["drift"] = {
            "since": previous.get("profiled_at"),
            "findings": drift(previous, profile),
        }
    write_document(
        repo_file(root, stored, what="the stored profile"), json.dumps(profile, indent=1) + "\n"
    )

    profiles = [p for p in team_profiles(project) if p.get("name") != name] + [profile]
    profiles.sort(key=lambda p: p["name"])
    text = render_report(project, profiles, {name: (spec, spec_state)})
    rendered = RenderedFile(report, text, REPORT_TEMPLATE)
    report_plan = plan(root, [rendered])
    apply(root, report_plan, [rendered])
    report_state = report_plan.files[0].state

    outcome = ProfileOutcome(profile, stored, report, report_state, spec, spec_state, problem)
    _record(project, profile, outcome)
    return outcome


def write_spec(
    project: Project,
    profile: dict[str, Any],
    *,
    update: bool = False,
    rejected: Iterable[str] = (),
    report: str | None = None,
) -> tuple[str, str]:
    """Drafts `pipelines/<name>.yaml` from `profile` with its suggested rules, but those whose
    ids (`Suggestion.id`) are in `rejected`: never over a file that exists, unless `update`
    merges into one the profiler drafted (generation's plan: an edited file is merged, a file
    phasegate did not write is kept). The CLI (`phasegate profile`) and the TUI's Profile
    screen both write through here. Returns the state (new | updated | merged | conflict |
    unchanged | exists | kept | refused) and the problem, if any, in words."""
    from deliverables.documents import document_path
    from pipelines.generate import RenderedFile, apply, plan

    root = project.root
    spec = spec_path(profile["name"])
    if report is None:
        report = document_path(project, project.deliverable(REPORT_DELIVERABLE))
    try:
        text = draft_spec(profile, report, rejected=frozenset(rejected))
    except ProfileError as exc:
        return "refused", str(exc)
    drafted = RenderedFile(spec, text, DRAFT_TEMPLATE)
    spec_plan = plan(root, [drafted])
    state = spec_plan.files[0].state
    if state == "kept":
        return "kept", f"{spec} exists and was not drafted by the profiler: left as it is"
    if state != "new" and not update:
        return (
            "exists",
            f"{spec} exists: not drafted over it (--update merges the new draft into it)",
        )
    apply(root, spec_plan, [drafted])
    return state, ""


def spec_path(name: str) -> str:
    return f"pipelines/{name}.yaml"


def team_profiles(project: Project) -> list[dict[str, Any]]:
    """The newest profile of every source: the tracker's (the team's, once synced), or this
    clone's JSON when it is as new or newer (it holds the examples the tracker's copy leaves
    out)."""
    from deliverables.profiles import latest_profiles

    found = {p["name"]: p for p in stored_profiles(project.root) if p.get("name")}
    for record in latest_profiles(project.tracker):
        local = found.get(record.name)
        if local is None or str(local.get("profiled_at")) < record.profiled_at:
            found[record.name] = record.summary
    return [found[name] for name in sorted(found)]


def _record(project: Project, profile: dict, outcome: ProfileOutcome) -> None:
    drift = profile.get("drift")
    findings = len(drift["findings"]) if drift else 0
    action = (
        f"profiled {profile['name']}: {profile['rows_profiled']:,} rows ({profile['basis']}), "
        + (
            "first profile"
            if drift is None
            else f"{findings} drift finding(s)"
            if findings
            else "no drift"
        )
    )
    # the person profiled it (the day view tells their sources by it); the checklist's ticks
    # below are the profiler's
    project.tracker.record(
        "profile", f"profile:{profile['name']}", {"profile": summary(profile), "action": action}
    )
    person = project.tracker.actor
    project.tracker.actor = f"phasegate profiler (run by {person})"
    try:
        if outcome.report_state != "kept" and (
            project.deliverable_state(REPORT_DELIVERABLE).status == "missing"
        ):
            project.set_deliverable(REPORT_DELIVERABLE, status="draft")
            outcome.drafted = True
        rows = profile["rows_profiled"]
        evidence = (
            f"by the profiler: {profile['name']} ({profile['source']['location']}) profiled "
            f"{profile['profiled_at']}, {rows:,} rows ({profile['basis']}); {outcome.report}"
        )
        for item_id, what in ITEMS.items():
            if project.model.item(item_id) is None:
                continue
            if project.item_state(item_id).status == "todo":
                project.set_item(item_id, status="done", note=f"{evidence}: {what}")
                outcome.ticked.append(item_id)
    finally:
        project.tracker.actor = person


# --- the report ----------------------------------------------------------------------------------


def render_report(
    project: Project, profiles: list[dict], specs: dict[str, tuple[str, str]] | None = None
) -> str:
    from deliverables.identity import display_name
    from deliverables.templating import render_template

    deliverable = project.deliverable(REPORT_DELIVERABLE)
    state = project.deliverable_state(deliverable.id)
    return render_template(
        f"documents/{deliverable.id}.md.j2",
        {
            "deliverable": deliverable,
            "phase": project.model.phase(deliverable.phase_id),
            "project": project.name,
            "owner": state.owner,
            "created": project.today().isoformat(),
            "author": display_name(project.tracker.actor),
            "profiles": [_view(p, (specs or {}).get(p["name"])) for p in profiles],
        },
    )


def _basis_text(p: dict, rows: int, sampled: bool) -> str:
    if not sampled:
        return f"all {rows:,} rows"
    if p.get("sampling") == "blocks":
        return (
            f"a sample of {rows:,} rows in blocks of whole lines spread over the files (every "
            "figure is sampled; the encoding checks read those blocks only, so a bad byte "
            "elsewhere is not seen)"
        )
    return f"a sample of {rows:,} rows (every figure is sampled)"


def _view(p: dict, spec: tuple[str, str] | None) -> dict[str, Any]:
    """What the template shows of one profile: numbers formatted, sensitive values withheld."""
    rows = p["rows_profiled"]
    sampled = p["basis"] != "all rows"
    basis = "sampled" if sampled else "all rows"
    total = p.get("rows") or p.get("rows_estimated") or rows
    columns = []
    for c in p["columns"]:
        hist = c.get("histogram")
        columns.append(
            {
                "name": c["name"],
                "type": c["type"]
                + (f" (→ {c['lossless']})" if c.get("lossless") not in (None, c["type"]) else ""),
                "nulls": _count_share(c["nulls"], rows),
                "null_pct": round(100 * c["nulls"] / rows, 1) if rows else 0,
                "empties": _count_share(c["empties"], rows),
                "distinct": f"{c['distinct']:,}" + ("" if c["distinct_exact"] else " (approx.)"),
                "min": "withheld" if c.get("withheld") else _fmt(c.get("min")),
                "max": "withheld" if c.get("withheld") else _fmt(c.get("max")),
                "mean": _fmt(c.get("mean")),
                "stddev": _fmt(c.get("stddev")),
                "quantiles": " / ".join(
                    _fmt((c.get("quantiles") or {}).get(k)) for k in ("p25", "p50", "p75")
                )
                if c.get("quantiles")
                else "—",
                "length": f"{c['length']['min']}..{c['length']['max']}"
                if c.get("length") and c["length"]["min"] is not None
                else "—",
                "patterns": ", ".join(f"{k} {v:,}" for k, v in (c.get("patterns") or {}).items())
                or "—",
                "top": c.get("top") or [],
                "histogram": {
                    "labels": [
                        f"{_fmt(a)}..{_fmt(b)}" if len(hist["edges"]) > 1 else _fmt(a)
                        for a, b in zip(hist["edges"], hist["edges"][1:], strict=False)
                    ],
                    "counts": hist["counts"],
                }
                if hist and hist.get("counts")
                else None,
            }
        )
    try:
        suggestions = [
            {
                "rule": s.rule["rule"],
                "column": ", ".join(s.rule.get("columns", [])) or s.rule.get("column", "—"),
                "evidence": s.evidence,
            }
            for s in suggest(p)
        ]
        notes = spec_columns(p)[2]
    except ProfileError as exc:
        suggestions, notes = [], [str(exc)]
    spec_path, spec_state = spec or (f"pipelines/{p['name']}.yaml", "")
    spec_note = {
        "exists": " (not written: the file exists; `--update` merges)",
        "kept": " (not written: a spec phasegate did not draft is there)",
        "refused": " (not written: " + "; ".join(notes) + ")",
        "conflict": " (merged with conflicts: resolve them)",
    }.get(spec_state, "")
    fresh = p.get("freshness")
    return {
        "name": p["name"],
        "location": p["source"]["location"],
        "format": p["source"]["format"],
        "files": p["source"]["files"],
        "bytes": f"{p['source']['bytes']:,}",
        "partitions": ", ".join(
            f"{k}: {len(v)} value(s)" for k, v in p["source"]["partitions"].items()
        ),
        "rows": f"{total:,}" + (" (estimated)" if sampled else ""),
        "basis": basis,
        "basis_text": _basis_text(p, rows, sampled),
        "duplicates": _count_share(p["duplicate_rows"], rows),
        "freshness": f"{fresh['column']}: latest {fresh['latest']}" if fresh else "—",
        "profiled_at": p["profiled_at"],
        "columns": columns,
        "anomalies": _anomalies(p, notes),
        "keys_single": ", ".join(p["keys"]["single"]) or "none",
        "keys_composite": "; ".join(" + ".join(k) for k in p["keys"]["composite"]) or "—",
        "sensitive": [
            {"name": c["name"], "kind": c["sensitive"]} for c in p["columns"] if c["sensitive"]
        ],
        "suggestions": suggestions,
        "spec_path": spec_path,
        "drift": p.get("drift"),
        "spec_note": spec_note,
    }


def _anomalies(p: dict, notes: list[str]) -> list[dict[str, str]]:
    rows = p["rows_profiled"]
    out = []
    if p["duplicate_rows"]:
        out.append(
            {
                "where": p["name"],
                "issue": f"{p['duplicate_rows']:,} duplicate row(s)",
                "share": _pct(p["duplicate_rows"], rows),
                "rule": "dedupe transformation, or unique on a key",
            }
        )
    if p.get("null_marker"):
        out.append(
            {
                "where": p["name"],
                "issue": f"{p['null_marker']!r} stands for null",
                "share": "—",
                "rule": f"source option nullValue: {p['null_marker']}",
            }
        )
    for c in p["columns"]:
        where = f"{p['name']}.{c['name']}"
        if c["failing"]:
            examples = (
                "" if c.get("withheld") else ", ".join(repr(v) for v in c["failing_examples"])
            )
            out.append(
                {
                    "where": where,
                    "issue": f"{c['failing']:,} value(s) fail the type {c['type']}"
                    + (f" (e.g. {examples})" if examples else ""),
                    "share": _pct(c["failing"], rows),
                    "rule": "max_rejected, or fix the source",
                }
            )
        if c["nulls"] and c["nulls"] < rows:
            out.append(
                {
                    "where": where,
                    "issue": "nulls",
                    "share": _pct(c["nulls"], rows),
                    "rule": "not_null with mostly, or accept",
                }
            )
        if c["nulls"] == rows:
            out.append(
                {
                    "where": where,
                    "issue": "always null",
                    "share": "100 %",
                    "rule": "drop the column?",
                }
            )
        if c["empties"]:
            out.append(
                {
                    "where": where,
                    "issue": "empty text",
                    "share": _pct(c["empties"], rows),
                    "rule": "—",
                }
            )
        for note in c.get("notes", []):
            out.append({"where": where, "issue": note, "share": "—", "rule": "—"})
    for note in notes:
        out.append({"where": p["name"], "issue": note, "share": "—", "rule": "—"})
    return out


def _count_share(n: int, rows: int) -> str:
    return f"{n:,} ({_pct(n, rows)})" if n else "0"


def _pct(n: int, rows: int) -> str:
    return f"{100 * n / rows:.1f} %" if rows else "—"


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    text = str(value)
    if len(text) > 25 and "T" in text:
        try:
            return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            pass
    return text
