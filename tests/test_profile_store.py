"""A profile in the tracker: one `profile` op per profiling run, folded into the view, shared by
`phasegate sync` through real git (a bare remote, two clones), and the base drift is found
against. The profile is the one tests/test_profile.py computes on Spark, stored once as
tests/fixtures/profile-orders.json, so these tests need no JVM."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deliverables import Project
from deliverables.profiles import latest_profile, latest_profiles, my_drift, profile_history
from deliverables.store import op_text_problem
from deliverables.sync import sync
from pipelines.profiling.outputs import summary, write_outputs
from tests.conftest import fixed_clock
from tests.helpers.profiles import ORDERS, drifted, orders

ANA = "Ana Ruiz <ana@example.com>"
BEN = "Ben Okafor <ben@example.com>"


def _git(*args: str, cwd: Path) -> None:
    import subprocess

    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def team(tmp_path: Path):
    remote = tmp_path / "remote.git"
    _git("init", "--quiet", "--bare", str(remote), cwd=tmp_path)
    clones = []
    for name, actor in (("ana", ANA), ("ben", BEN)):
        project, _ = Project.init(tmp_path / name, actor=actor, clock=fixed_clock)
        _git("remote", "add", "origin", str(remote), cwd=project.root)
        clones.append(project)
    yield clones
    for clone in clones:
        clone.close()


def test_each_run_is_a_profile_op_and_drift_is_found_against_the_trackers(project):
    first = write_outputs(project, orders())
    assert "drift" not in first.profile
    stored = latest_profile(project.tracker, "orders")
    assert stored is not None and stored.profiled_at == ORDERS["profiled_at"]
    assert stored.summary["columns"][0]["name"] == "order_id" and stored.drift == []
    (event,) = [e for e in project.tracker.activity(None) if e.subject == "profile:orders"]
    assert event.action == "profiled orders: 60 rows (all rows), first profile"
    assert event.actor == project.tracker.actor  # the person, not the profiler
    # the local JSON is gone: the tracker alone says what the last profile was
    (project.root / first.stored).unlink()
    second = write_outputs(project, drifted())
    kinds = [(f["kind"], f["column"]) for f in second.profile["drift"]["findings"]]
    assert kinds == [("retyped", "line"), ("nulls", "note"), ("categories", "status")]
    newest = latest_profile(project.tracker, "orders")
    assert newest.since == ORDERS["profiled_at"] and len(newest.drift) == 3
    assert [p.profiled_at for p in profile_history(project.tracker, "orders")] == [
        "2026-11-28T09:30:00+00:00",
        ORDERS["profiled_at"],
    ]
    assert [p.name for p in latest_profiles(project.tracker)] == ["orders"]
    # the view is the fold of the log: a rebuild holds the same rows
    before = project.tracker.query("SELECT * FROM profiles ORDER BY id")
    project.tracker.rebuild()
    assert project.tracker.query("SELECT * FROM profiles ORDER BY id") == before


def test_the_summary_leaves_row_values_out_and_escapes_control_characters():
    profile = orders()
    profile["timings"] = {"scan": 1.0}
    status = next(c for c in profile["columns"] if c["name"] == "status")
    status["categories"] = ["paid", "vo\x1bid", "re\u202efunded"]
    status["failing_examples"] = ["secret row value"]
    stored = summary(profile)
    text = json.dumps(stored, ensure_ascii=False)
    assert "secret row value" not in text and "timings" not in stored
    assert "file_names" not in stored["source"]
    column = next(c for c in stored["columns"] if c["name"] == "status")
    assert column["categories"] == ["paid", "vo\\x1bid", "re\\u202efunded"]
    assert "\x1b" not in text and "\u202e" not in text
    assert stored["rows_profiled"] == 60 and stored["keys"] == ORDERS["keys"]


def test_a_teammates_profile_arrives_by_sync_and_drift_is_found_against_it(team):
    ana, ben = team
    write_outputs(ana, orders())
    assert sync(ana).ok and sync(ben).ok
    received = latest_profile(ben.tracker, "orders")
    assert received is not None and received.actor == ANA
    assert op_text_problem(next(op for op in ben.tracker.ops() if op.kind == "profile")) is None
    # Ben profiles newer data on his clone (no JSON of Ana's there): drift against Ana's
    assert not (ben.root / ".phasegate/profiles/orders.json").exists()
    outcome = write_outputs(ben, drifted())
    assert outcome.profile["drift"]["since"] == ORDERS["profiled_at"]
    assert len(outcome.profile["drift"]["findings"]) == 3
    assert sync(ben).ok and sync(ana).ok
    for clone in (ana, ben):
        newest = latest_profile(clone.tracker, "orders")
        assert (newest.actor, len(newest.drift)) == (BEN, 3)
    same = "SELECT id, name, profiled_at, at, actor, summary, op FROM profiles ORDER BY id"
    assert ana.tracker.query(same) == ben.tracker.query(same)
    # whose drift: the owner of D1.3; with none set, whoever profiled last
    assert [p.name for p in my_drift(ben, BEN)] == ["orders"] and my_drift(ana, ANA) == []
    ana.set_deliverable("D1.3", owner=ANA)
    assert [p.name for p in my_drift(ana, ANA)] == ["orders"] and my_drift(ana, BEN) == []


def test_my_day_lists_drift_in_the_sources_i_answer_for(project):
    from deliverables.day import day_view, render_day
    from deliverables.json_documents import day_document
    from tests.test_json_documents import valid

    me = project.tracker.actor
    write_outputs(project, orders())
    assert day_view(project).drift == []  # a first profile has nothing to drift from
    write_outputs(project, drifted())
    day = day_view(project)
    assert [(p.name, len(p.drift)) for p in day.drift] == [("orders", 3)]
    text = render_day(project, day)
    assert "## Drift in my sources" in text
    assert "  - categories status: 1 new value(s): lost" in text
    document = valid("day", day_document(project, day))
    (source,) = document["drift"]
    assert (source["source"], source["profiled_by"], source["since"]) == (
        "orders",
        me,
        ORDERS["profiled_at"],
    )
    assert [f["kind"] for f in source["findings"]] == ["retyped", "nulls", "categories"]
    # D1.3 given to someone else: their sources, not mine
    project.set_deliverable("D1.3", owner="Ana Ruiz <ana@example.com>")
    day = day_view(project)
    assert day.drift == [] and "Drift in my sources" not in render_day(project, day)
    assert valid("day", day_document(project, day))["drift"] == []
    # a newer profile without drift clears it
    project.set_deliverable("D1.3", owner=me)
    write_outputs(project, drifted("2026-11-29T09:30:00+00:00"))
    assert day_view(project).drift == []
