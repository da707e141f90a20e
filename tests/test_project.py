"""Project rules: ids, workflows, reasons, derived progress, the status document."""

from __future__ import annotations

import subprocess

import pytest

from deliverables import Project, TrackerError
from deliverables.identity import current_actor
from tests.conftest import NOW, fixed_clock


def test_unknown_ids_are_refused_with_a_hint(project):
    with pytest.raises(TrackerError, match=r"unknown checklist item '9\.9\.9'"):
        project.set_item("9.9.9", status="done")
    with pytest.raises(TrackerError, match=r"D1\.1 is a deliverable"):
        project.set_item("D1.1", status="done")
    with pytest.raises(TrackerError, match=r"1\.1\.1 is a checklist item"):
        project.set_deliverable("1.1.1", status="draft")
    assert project.tracker.activity_count() == 0


def test_item_statuses_are_parsed_leniently_but_checked(project):
    project.set_item("1.1.1", status="DONE")
    assert project.item_state("1.1.1").status == "done"
    with pytest.raises(TrackerError, match="unknown item status 'finished'"):
        project.set_item("1.1.1", status="finished")


def test_not_applicable_needs_a_reason_and_leaving_it_drops_the_reason(project):
    with pytest.raises(TrackerError, match="needs a reason"):
        project.set_item("2.2.3", status="n/a")
    project.set_item("2.2.3", status="n/a", reason="No dimensions change")
    assert project.item_state("2.2.3").reason == "No dimensions change"
    project.set_item("2.2.3", owner="Chen")  # other fields keep the reason
    assert project.item_state("2.2.3").reason == "No dimensions change"
    project.set_item("2.2.3", status="todo")
    assert project.item_state("2.2.3").reason is None
    with pytest.raises(TrackerError, match="only kept for 'not applicable'"):
        project.set_item("2.2.3", reason="why not")


def test_toggle_flips_between_todo_and_done(project):
    project.toggle_item("1.1.1")
    assert project.item_state("1.1.1").status == "done"
    project.toggle_item("1.1.1")
    assert project.item_state("1.1.1").status == "todo"


def test_due_dates_must_be_real_dates_and_empty_clears(project):
    with pytest.raises(TrackerError, match="not YYYY-MM-DD"):
        project.set_item("1.1.1", due="next friday")
    with pytest.raises(TrackerError, match="not a real date"):
        project.set_item("1.1.1", due="2026-02-30")
    project.set_item("1.1.1", due="2026-12-01")
    project.set_item("1.1.1", due="")
    assert project.item_state("1.1.1").due is None


def test_deliverables_follow_the_workflow(project):
    with pytest.raises(TrackerError, match="cannot go from missing to approved"):
        project.set_deliverable("D1.1", status="approved")
    for status in ("draft", "in review", "approved"):
        project.set_deliverable("d1.1", status=status)
    assert project.deliverable_state("D1.1").status == "approved"
    project.step_deliverable("D1.1", forward=False)
    assert project.deliverable_state("D1.1").status == "in_review"
    with pytest.raises(TrackerError, match="no step back"):
        project.step_deliverable("D1.2", forward=False)
    with pytest.raises(TrackerError, match="needs a reason"):
        project.set_deliverable("D1.2", status="not_applicable")
    project.set_deliverable("D1.2", status="not_applicable", reason="One source system only")
    project.step_deliverable("D1.2")
    assert project.deliverable_state("D1.2").status == "missing"


def test_deliverable_paths_stay_in_the_repository(project):
    with pytest.raises(TrackerError, match="inside the repository"):
        project.set_deliverable("D1.1", path="../elsewhere.md")
    project.set_deliverable("D1.1", path="docs/brd.md")
    assert project.deliverable_path(project.deliverable("D1.1")) == "docs/brd.md"


@pytest.mark.parametrize(
    "path",
    [
        "file:README.md",
        "FILE:docs/brd.md",
        "D:/x.md",
        "c:\\x.md",
        "\\\\srv\\x.md",
        "docs\\brd.md",
        "docs/*.md",
        "docs/brd?.md",
        "docs/[ab].md",
        "docs/{a,b}.md",
        "README.md/",
        "docs/",
    ],
)
def test_a_deliverable_path_is_one_plain_relative_file(project, path):
    """What `deliverable create` would otherwise write as an oddly named file (a Windows path,
    a glob) or read as a URI is refused, and nothing stored changes."""
    with pytest.raises(TrackerError, match="must name one file"):
        project.set_deliverable("D1.1", path=path)
    assert project.deliverable_state("D1.1").path is None


def test_progress_phase_status_and_current_phase_are_derived(project):
    phase1 = project.model.phase("1")
    assert project.phase_status(phase1) == "not_started"
    assert project.current_phase().id == "1"
    project.set_item("1.1.1", status="done")
    assert project.phase_status(phase1) == "in_progress"
    for item in phase1.items:
        project.set_item(item.id, status="done")
    for d in phase1.deliverables:
        for status in ("draft", "in_review", "approved"):
            project.set_deliverable(d.id, status=status)
    progress = project.progress(phase1)
    assert (
        progress.items_done,
        progress.items_total,
        progress.deliverables_done,
        progress.fraction,
    ) == (12, 12, 5, 1.0)
    # everything done is not yet passed: only a gate review passes a phase
    assert project.phase_status(phase1) == "in_progress"
    assert project.current_phase().id == "2"


def test_due_items_are_open_items_soonest_first(project):
    project.set_item("2.1.1", due="2026-12-05")
    project.set_item("1.1.1", due="2026-12-01")
    project.set_item("1.1.2", due="2026-11-20", status="done")
    assert [d.item.id for d in project.due_items()] == ["1.1.1", "2.1.1"]


def test_status_document_has_the_documented_shape(demo):
    from deliverables.json_documents import status_document

    doc = status_document(demo)
    assert set(doc) == {"document", "version", "project", "phases", "validations"}
    assert (doc["document"], doc["version"]) == ("status", 1)
    assert doc["project"] == "retail-events"
    # the demo ships two specs, not yet validated
    assert doc["validations"] == [
        {"pipeline": "pos_orders", "outcome": "not validated", "run": None, "tier": None},
        {"pipeline": "store_master", "outcome": "not validated", "run": None, "tier": None},
    ]
    assert len(doc["phases"]) == 7
    phase = doc["phases"][1]
    assert set(phase) == {"id", "title", "status", "gate", "sub_phases", "deliverables"}
    assert phase["status"] == "in_review"
    assert doc["phases"][0]["gate"] == {"outcome": "passed", "blockers": []}
    assert phase["gate"]["outcome"] == "failed"
    assert "G2.3: awaiting the decision of Ana Ruiz" in phase["gate"]["blockers"]
    sub = phase["sub_phases"][0]
    assert set(sub) == {"id", "title", "items", "assists"}
    assert set(sub["items"][0]) == {"id", "text", "status", "owner", "due"}
    assert sub["assists"] == [
        {"id": "A2.1", "tool": "Claude", "text": demo.model.assist("A2.1").text}
    ]
    assert set(phase["deliverables"][0]) == {"id", "title", "status", "owner", "path"}
    assert sum(len(s["items"]) for p in doc["phases"] for s in p["sub_phases"]) == 80


def test_the_actor_comes_from_git_config_unless_overridden(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "config", "user.name", "Dana Weiss"], check=True)
    subprocess.run(
        ["git", "-C", str(tmp_path), "config", "user.email", "dana@example.com"], check=True
    )
    monkeypatch.delenv("PHASEGATE_USER", raising=False)
    assert current_actor(tmp_path) == "Dana Weiss <dana@example.com>"
    monkeypatch.setenv("PHASEGATE_USER", "Bot <ci@example.com>")
    assert current_actor(tmp_path) == "Bot <ci@example.com>"


def test_open_finds_the_project_from_a_sub_folder_and_refuses_elsewhere(project, tmp_path):
    sub = project.root / "src" / "ingestion"
    sub.mkdir(parents=True)
    found = Project.open(sub, clock=fixed_clock)
    assert found.root == project.root
    found.close()
    with pytest.raises(TrackerError, match="not in a phasegate project"):
        Project.open(tmp_path)


def test_init_creates_git_once_and_the_demo_is_realistic(demo, tmp_path):
    assert (demo.root / ".git").is_dir()
    statuses = [demo.phase_status(p) for p in demo.model.phases]
    assert statuses[:4] == ["passed", "in_review", "in_progress", "not_started"]
    actors = {e.actor for e in demo.tracker.activity(None)}
    assert len(actors) == 4
    assert all(e.when <= NOW for e in demo.tracker.activity(None))
    assert any(
        d.state.due < NOW.date().isoformat() for d in demo.due_items()
    )  # something is overdue
    assert demo.item_state("2.2.3").status == "not_applicable"
    with pytest.raises(TrackerError, match="already a phasegate project"):
        from deliverables.demo import create_demo

        create_demo(demo.root)


def test_blocked_needs_a_reason_and_does_not_count_as_closed(project):
    with pytest.raises(TrackerError, match="blocked needs a reason"):
        project.set_item("1.2.2", status="blocked")
    project.set_item("1.2.2", status="n/a", reason="no remote sources")
    with pytest.raises(TrackerError, match="blocked needs a reason"):
        project.set_item("1.2.2", status="blocked")  # the N/A reason does not carry over
    project.set_item("1.2.2", status="blocked", reason="waiting for VPN access")
    assert project.progress(project.model.phase("1")).items_done == 0
    project.toggle_item("1.2.2")
    assert (project.item_state("1.2.2").status, project.item_state("1.2.2").reason) == (
        "done",
        None,
    )


def test_the_demo_ships_pipeline_specs_that_load(demo):
    from pipelines.spec import load_specs

    specs = load_specs(demo.root)
    assert [s.name for s in specs] == ["pos_orders", "store_master"]
    assert specs[0].depends_on == ("store_master",)
