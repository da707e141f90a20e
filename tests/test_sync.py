"""The team's tracker through git, with real git: a bare remote in a temporary folder and several
clones, each a phasegate project with its own replica (issue 12)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deliverables import Project, TrackerError
from deliverables.day import conflicts, day_view, render_day
from deliverables.gates import (
    approve_waiver,
    decide,
    open_request,
    record_review,
    request_gate,
    request_waiver,
    waivers,
)
from deliverables.gitrefs import OPS, Repo
from deliverables.oplog import Op, pack, unpack
from deliverables.sync import PAUSE_ENV, sync, verify
from tests.conftest import ROOT, fixed_clock

ANA = "Ana Ruiz <ana@example.com>"
BEN = "Ben Okafor <ben@example.com>"
CHEN = "Chen Li <chen@example.com>"
# the view tables two synced clones must hold identically (live runs and the outbox are local)
SHARED = {
    "items": "SELECT * FROM items",
    "deliverables": "SELECT * FROM deliverables",
    "activity": "SELECT * FROM activity",
    "gate_requests": "SELECT * FROM gate_requests",
    "gate_decisions": "SELECT * FROM gate_decisions",
    "gate_reviews": "SELECT * FROM gate_reviews",
    "waivers": "SELECT * FROM waivers",
    "standups": "SELECT * FROM standups",
    "sessions": "SELECT * FROM sessions",
    "validation_runs": "SELECT * FROM validation_runs WHERE op IS NOT NULL",
    "conflicts": "SELECT * FROM conflicts",
    "profiles": "SELECT * FROM profiles",
}


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def _remote(folder: Path) -> Path:
    bare = folder / "remote.git"
    _git("init", "--quiet", "--bare", str(bare))
    return bare


def _clone(folder: Path, name: str, actor: str, remote: Path) -> Project:
    project, _ = Project.init(folder / name, actor=actor, clock=fixed_clock)
    _git("remote", "add", "origin", str(remote), cwd=project.root)
    return project


def _refuse_pushes(remote: Path, refuse: bool) -> None:
    hook = remote / "hooks" / "pre-receive"
    if refuse:
        hook.write_text("#!/bin/sh\necho 'pushes are frozen for the release' >&2\nexit 1\n")
        hook.chmod(0o755)
    elif hook.exists():
        hook.unlink()


def _state(project: Project) -> dict:
    conn = sqlite3.connect(project.tracker.path)
    try:
        out = {t: sorted(conn.execute(sql).fetchall(), key=repr) for t, sql in SHARED.items()}
        out["ops"] = sorted(r[0] for r in conn.execute("SELECT id FROM ops"))
        return out
    finally:
        conn.close()


def _ops_in_refs(repo: Repo) -> Counter:
    """How often each op appears across every replica ref of a repository."""
    seen: Counter = Counter()
    for head in repo.refs(OPS).values():
        for _, blob in repo.read_packs(repo.commits(head)):
            seen.update(op.id for op in unpack(blob))
    return seen


@pytest.fixture(scope="module")
def team_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("team")
    remote = _remote(folder)
    for name, actor in (("ana", ANA), ("ben", BEN)):
        _clone(folder, name, actor, remote).close()
    return folder


@pytest.fixture
def team(tmp_path: Path, team_once: Path):
    """A bare remote and two clones of it (Ana's and Ben's, two replicas): a copy of its own."""
    shutil.copytree(
        team_once, tmp_path, symlinks=True, dirs_exist_ok=True, copy_function=shutil.copy
    )
    remote = tmp_path / "remote.git"
    clones = []
    for name, actor in (("ana", ANA), ("ben", BEN)):
        _git("remote", "set-url", "origin", str(remote), cwd=tmp_path / name)
        clones.append(Project.open(tmp_path / name, actor=actor, clock=fixed_clock))
    yield remote, clones
    for clone in clones:
        clone.close()


def test_concurrent_edits_converge_and_the_day_view_shows_the_conflict(team):
    remote, (ana, ben) = team
    ana.set_item("2.1.1", owner="Ana Ruiz")
    assert sync(ana).ok and sync(ben).ok  # both saw the owner
    ana.set_item("2.1.1", status="done")
    ben.set_item("2.1.1", status="blocked", reason="the vendor's API is down")
    first, second, third = sync(ana), sync(ben), sync(ana)
    assert first.ok and second.ok and third.ok
    assert (first.sent, len(second.received), second.sent, len(third.received)) == (1, 1, 1, 1)
    assert second.changes_line() == "1 change from Ana Ruiz"
    assert _state(ana) == _state(ben)
    kept = ana.item_state("2.1.1")
    assert [(c.field, c.kept_by, c.lost_by) for c in conflicts(ana)] == [
        ("status", kept.updated_by, ANA if kept.updated_by == BEN else BEN)
    ]
    line = conflicts(ben)[0].describe(BEN)
    assert "while" in line and "2.1.1" in line and "you" in line
    assert "Conflicts to look at" in render_day(ben, day_view(ben))
    # a later write made after seeing the kept value settles it, on every clone once synced
    ana.set_item("2.1.1", status="todo")
    sync(ana)
    sync(ben)
    assert conflicts(ana) == conflicts(ben) == []
    assert verify(ana).ok and verify(ben).ok
    assert all(n == 1 for n in _ops_in_refs(Repo(remote)).values())


def test_a_push_refused_by_the_remote_is_a_clear_line_and_nothing_is_lost(team):
    remote, (ana, ben) = team
    ana.set_item("1.1.1", status="done")
    _refuse_pushes(remote, True)
    report = sync(ana)
    assert not report.ok
    assert len(report.problems) == 1
    assert "origin refused refs/phasegate/ops/" in report.problems[0]
    assert "pre-receive hook declined" in report.problems[0]
    assert "nothing lost" in report.problems[0]
    assert ana.tracker.outbox() == []  # safe in ana's own ref
    assert sync(ben).received == []
    _refuse_pushes(remote, False)
    assert sync(ana).ok
    assert [op.kind for op in sync(ben).received] == ["item.set"]
    assert ben.item_state("1.1.1").status == "done"


def test_the_cli_says_one_line_and_exits_1_when_the_remote_cannot_be_reached(team, capsys):
    from cli.main import main

    remote, (ana, _ben) = team
    ana.set_item("1.1.1", status="done")
    assert main(["-C", str(ana.root), "sync"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == "synced with origin: no new changes in; 1 op out"
    _git("remote", "set-url", "origin", str(remote.parent / "gone.git"), cwd=ana.root)
    ana.set_item("1.1.2", status="done")
    assert main(["-C", str(ana.root), "sync"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot fetch from origin" in err[0] and "gone.git" in err[0]
    assert main(["-C", str(ana.root), "verify"]) == 0
    # a plain `git fetch` brings the ops too, and a plain `git push` is as it was
    fetch_specs = _git("config", "--get-all", "remote.origin.fetch", cwd=ana.root).split()
    assert "+refs/phasegate/ops/*:refs/phasegate/remotes/origin/*" in fetch_specs
    push = subprocess.run(
        ["git", "config", "--get-all", "remote.origin.push"], cwd=ana.root, capture_output=True
    )
    assert push.returncode == 1  # unset: a plain push pushes what it pushed before


def test_the_same_person_on_two_machines_is_two_replicas_of_one_author(tmp_path):
    remote = _remote(tmp_path)
    laptop = _clone(tmp_path, "laptop", ANA, remote)
    desktop = _clone(tmp_path, "desktop", ANA, remote)
    assert laptop.tracker.replica != desktop.tracker.replica
    laptop.set_item("1.1.1", note="from the laptop")
    desktop.set_item("1.1.2", note="from the desktop")
    for clone in (laptop, desktop, laptop):
        assert sync(clone).ok
    assert _state(laptop) == _state(desktop)
    refs = Repo(remote).refs(OPS)
    assert set(refs) == {
        OPS + laptop.tracker.replica,
        OPS + desktop.tracker.replica,
    }
    assert {op.author for op in laptop.tracker.ops()} == {ANA}
    laptop.close()
    desktop.close()


def test_a_rewritten_replica_ref_is_refused_kept_and_reported_by_verify(team):
    _remote_folder, (ana, ben) = team
    ana.set_item("1.1.1", status="done")
    sync(ana)
    sync(ben)
    # someone rewrites ana's ref on the remote: a commit with an edited op, forced in
    ref = OPS + ana.tracker.replica
    repo = Repo(ana.root)
    ((_commit, blob),) = repo.read_packs(repo.commits(repo.head_of(ref)))
    forged = blob.replace(b'"done"', b'"todo"')
    bad = repo.write_pack(forged, None, "forged", "Eve <eve@example.com>")
    _git("push", "--quiet", "--force", "origin", f"{bad}:{ref}", cwd=ana.root)
    report = sync(ben)
    assert not report.ok and "history was rewritten" in report.problems[0]
    assert ben.item_state("1.1.1").status == "done"  # ours is kept
    result = verify(ben)
    assert not result.ok
    assert any("rewrote its history" in p for p in result.problems)


# --- killed mid-sync ---------------------------------------------------------------------------------


SYNC = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main(sys.argv[1:]))"]


@pytest.mark.parametrize("step", ["flush", "fetch", "integrate", "push"])
def test_a_sync_killed_at_any_step_leaves_nothing_half_done(team, step):
    remote, (ana, ben) = team
    ben.set_item("1.2.1", status="done")
    sync(ben)
    for n, item in enumerate(("1.1.1", "1.1.2", "1.1.3")):
        ana.set_item(item, status="done", owner=f"owner {n}")
    env = {**os.environ, PAUSE_ENV: step, "PYTHONPATH": str(ROOT), "PHASEGATE_USER": ANA}
    killed = subprocess.Popen(
        [*SYNC, "-C", str(ana.root), "sync"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert killed.stderr.readline().strip() == f"paused at {step}"
    killed.send_signal(signal.SIGKILL)
    killed.wait(30)
    # the next sync (here, in this process) completes, and every op is there exactly once
    again = sync(ana)
    assert again.ok, again.problems
    assert sync(ben).ok
    assert _state(ana) == _state(ben)
    assert ana.item_state("1.1.3").owner == "owner 2" and ana.item_state("1.2.1").status == "done"
    counts = _ops_in_refs(Repo(remote))
    assert set(counts) == set(_state(ana)["ops"]) and set(counts.values()) == {1}
    assert verify(ana).ok


# --- the property: any interleaving converges ---------------------------------------------------------

STEP = st.one_of(
    st.tuples(
        st.just("set"),
        st.integers(0, 2),
        st.sampled_from(["1.1.1", "1.1.2"]),
        st.sampled_from(["todo", "done", "blocked"]),
    ),
    st.tuples(
        st.just("owner"),
        st.integers(0, 2),
        st.sampled_from(["1.1.1", "1.1.2"]),
        st.text("ab", max_size=2),
    ),
    st.tuples(st.just("gate"), st.integers(0, 2)),
    st.tuples(st.just("waiver"), st.integers(0, 2)),
    st.tuples(st.just("sync"), st.integers(0, 2)),
    st.tuples(st.just("offline sync"), st.integers(0, 2)),
    st.tuples(st.just("refuse"), st.booleans()),
)


def _act(project: Project, step: tuple, remote: Path) -> None:
    kind = step[0]
    try:
        if kind == "set":
            _, _, item, status = step
            project.set_item(item, status=status, reason="waiting" if status == "blocked" else None)
        elif kind == "owner":
            project.set_item(step[2], owner=step[3])
        elif kind == "gate":
            if open_request(project, "1") is None:
                request_gate(project, "1", [ANA, BEN, CHEN])
            elif project.tracker.actor != ANA:
                decide(project, "1", "approve", "fine")
            else:
                record_review(project, "1")
        elif kind == "waiver":
            pending = [w for w in waivers(project) if w.approver is None]
            if pending and pending[0].requester != project.tracker.actor:
                approve_waiver(project, pending[0].id)
            else:
                request_waiver(project, "1.2.4", "later", "2027-01-01")
        elif kind == "sync":
            sync(project)
        elif kind == "offline sync":  # the remote cannot be reached: nothing may be lost
            _git("remote", "set-url", "origin", str(remote.parent / "gone.git"), cwd=project.root)
            assert not sync(project).ok
            _git("remote", "set-url", "origin", str(remote), cwd=project.root)
    except TrackerError:
        pass  # a refusal by the workflow (already approved, not a reviewer, ...) changes nothing


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=10))
def test_any_interleaving_of_edits_and_syncs_converges_with_every_op_once(steps):
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        remote = _remote(base)
        clones = [
            _clone(base, "ana", ANA, remote),
            _clone(base, "ben", BEN, remote),
            _clone(base, "chen", CHEN, remote),
        ]
        try:
            for step in steps:
                if step[0] == "refuse":
                    _refuse_pushes(remote, step[1])
                else:
                    _act(clones[step[1]], step, remote)
            _refuse_pushes(remote, False)
            made = {
                c.tracker.replica: {
                    op.id for op in c.tracker.ops() if op.replica == c.tracker.replica
                }
                for c in clones
            }
            for clone in (*clones, *clones[:2]):
                assert sync(clone).ok
            states = [_state(c) for c in clones]
            assert states[0] == states[1] == states[2]
            acknowledged = set().union(*made.values())
            assert acknowledged <= set(states[0]["ops"])
            counts = _ops_in_refs(Repo(remote))
            assert set(counts) == set(states[0]["ops"]) and set(counts.values()) <= {1}
        finally:
            for clone in clones:
                clone.close()


# --- time travel, the view out of git, gate reviews -----------------------------------------------


def test_status_and_export_at_a_date_or_a_commit_show_the_state_then(tmp_path, capsys):
    from datetime import UTC, datetime

    from cli.main import main

    moments = iter([datetime(2026, 11, 10, 9, tzinfo=UTC), datetime(2026, 11, 20, 9, tzinfo=UTC)])
    clock = {"now": next(moments)}
    project, _ = Project.init(tmp_path / "p", actor=ANA, clock=lambda: clock["now"])
    project.set_item("1.1.1", status="done")
    (project.root / "README.md").write_text("x\n")
    _git("add", "README.md", cwd=project.root)
    env = {"GIT_COMMITTER_DATE": "2026-11-15T12:00:00Z", "GIT_AUTHOR_DATE": "2026-11-15T12:00:00Z"}
    subprocess.run(
        ["git", "-c", "user.name=A", "-c", "user.email=a@x", "commit", "-qm", "mid"],
        cwd=project.root,
        check=True,
        env={**os.environ, **env},
    )
    clock["now"] = next(moments)
    project.set_item("1.1.2", status="done")
    project.set_item("1.1.1", owner="Ben")
    before = project.at("2026-11-12")
    assert before.item_state("1.1.1").status == "done"
    assert before.item_state("1.1.2").status == "todo" and before.item_state("1.1.1").owner is None
    before.close()
    at_commit = project.at("HEAD")
    assert at_commit.as_of == "2026-11-15T12:00:00Z"
    assert at_commit.item_state("1.1.2").status == "todo"
    at_commit.close()
    assert project.at("2026-11-01").tracker.activity_count() == 0
    now = project.at("2026-11-21")
    assert now.item_state("1.1.2").status == "done" and now.item_state("1.1.1").owner == "Ben"
    now.close()
    assert main(["-C", str(project.root), "status", "--at", "2026-11-12", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    statuses = {i["id"]: i["status"] for i in document["phases"][0]["sub_phases"][0]["items"]}
    assert statuses["1.1.1"] == "done" and statuses["1.1.2"] == "todo"
    assert main(["-C", str(project.root), "status", "--at", "2026-11-12"]) == 0
    assert "(as of 2026-11-12T23:59:59Z)" in capsys.readouterr().out
    assert main(["-C", str(project.root), "export", "--at", "HEAD"]) == 0
    assert "# " in capsys.readouterr().out
    for wrong in ("2026-13-01", "yesterday", "no-such-ref"):
        assert main(["-C", str(project.root), "status", "--at", wrong]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--at" in err
    project.close()


def test_the_tracker_stays_out_of_git_and_a_run_sees_a_clean_tree(tmp_path):
    from deliverables.git import head

    project, _ = Project.init(tmp_path / "p", actor=ANA, clock=fixed_clock)
    _git("add", "-A", cwd=project.root)
    _git("-c", "user.name=A", "-c", "user.email=a@x", "commit", "-qm", "start", cwd=project.root)
    project.set_item("1.1.1", status="done")
    assert sync(project).ok  # no remote: the outbox goes into this clone's ref alone
    assert _git("status", "--porcelain", cwd=project.root) == ""
    commit, dirty = head(project.root)
    assert commit and dirty is False
    project.close()


def test_an_older_project_that_committed_its_tracker_is_told_once(tmp_path):
    root = tmp_path / "old"
    project, _ = Project.init(root, actor=ANA, clock=fixed_clock)
    project.close()
    ignore = root / ".phasegate" / ".gitignore"
    ignore.write_text("tracker.db-wal\ntracker.db-shm\n")  # as phasegate wrote it before
    _git("add", "-f", ".phasegate/tracker.db", ".phasegate/.gitignore", cwd=root)
    _git("-c", "user.name=A", "-c", "user.email=a@x", "commit", "-qm", "old", cwd=root)
    first = Project.open(root, actor=ANA)
    assert "git rm --cached .phasegate/tracker.db" in (first.notice or "")
    assert "tracker.db" in ignore.read_text().split()
    first.close()
    again = Project.open(root, actor=ANA)
    assert again.notice is None
    again.close()


def test_a_gate_review_records_the_commit_and_the_op_it_follows(team):
    _remote_folder, (ana, _ben) = team
    request_gate(ana, "1", [BEN])
    newest = ana.tracker.newest_op()
    review = record_review(ana, "1")
    assert review.follows == newest
    (op,) = [o for o in ana.tracker.ops() if o.kind == "gate.review"]
    assert op.payload["follows"] == newest and "git_commit" in op.payload


def test_a_fresh_clone_of_the_teams_repository_opens_and_syncs_the_state(team, tmp_path):
    remote, (ana, _ben) = team
    ana.set_item("1.1.1", status="done")
    _git("add", "-A", cwd=ana.root)
    _git("-c", "user.name=A", "-c", "user.email=a@x", "commit", "-qm", "project", cwd=ana.root)
    _git("push", "--quiet", "origin", "HEAD:refs/heads/main", cwd=ana.root)
    assert sync(ana).ok
    _git("clone", "--quiet", "--branch", "main", str(remote), str(tmp_path / "fresh"))
    assert not (tmp_path / "fresh" / ".phasegate" / "tracker.db").exists()  # never committed
    fresh = Project.open(tmp_path / "fresh", actor=CHEN, clock=fixed_clock)
    assert fresh.item_state("1.1.1").status == "todo"
    report = sync(fresh)
    assert report.ok and report.changes_line() == "1 change from Ana Ruiz"
    assert fresh.item_state("1.1.1").status == "done"
    fresh.close()


def test_init_in_a_clone_lets_a_plain_git_fetch_bring_the_ops(team, tmp_path):
    remote, (ana, _ben) = team
    ana.set_item("1.1.1", status="done")
    assert sync(ana).ok
    _git("init", "--quiet", str(tmp_path / "chen"))
    _git("remote", "add", "origin", str(remote), cwd=tmp_path / "chen")
    chen, created = Project.init(tmp_path / "chen", actor=CHEN, clock=fixed_clock)
    assert not created
    _git("fetch", "--quiet", "origin", cwd=chen.root)  # plain git
    staged = Repo(chen.root).refs("refs/phasegate/remotes/origin/")
    assert list(staged) == ["refs/phasegate/remotes/origin/" + ana.tracker.replica]
    replica = _git("config", "phasegate.replica", cwd=chen.root).strip()
    assert replica == chen.tracker.replica
    chen.close()


def test_an_edited_op_appended_to_a_ref_is_refused_and_a_removed_ref_is_reported(team):
    _remote_folder, (ana, ben) = team
    ana.set_item("1.1.1", status="done")
    sync(ana)
    sync(ben)
    # someone appends, as a fast-forward, a commit whose op was edited after it was hashed
    ref = OPS + ana.tracker.replica
    repo = Repo(ana.root)
    head = repo.head_of(ref)
    ((_commit, blob),) = repo.read_packs([head])
    forged = blob.replace(b'"done"', b'"blocked"').replace(b'"lamport":1', b'"lamport":9')
    tip = repo.write_pack(forged, head, "forged", "Eve <eve@example.com>")
    _git("push", "--quiet", "origin", f"{tip}:{ref}", cwd=ana.root)
    ben.set_item("1.1.2", status="done")  # Ben's own work still goes out
    report = sync(ben)
    assert not report.ok and len(report.problems) == 1
    assert "holds an op that was edited" in report.problems[0] and "not taken" in report.problems[0]
    assert report.sent == 1
    assert ben.item_state("1.1.1").status == "done"
    result = verify(ben)
    assert not result.ok and any("does not match its content" in p for p in result.problems)
    # an ops ref deleted here: the ops this clone had from it are reported gone
    _git("update-ref", "-d", ref, cwd=ana.root)
    gone = verify(ana)
    assert any("gone from every ref" in p for p in gone.problems)


def test_a_teammates_finished_run_counts_for_validations_green_on_the_leads_clone(team):
    from deliverables.store import CheckRecord

    _remote_folder, (ana, ben) = team
    tracker = ben.tracker
    live = tracker.start_run("static", ["pos_orders"], "abc123", False)
    tracker.add_checks([CheckRecord(live, "pos_orders", "parse", "python parses", "passed")])
    assert sync(ben).ok and ana.tracker.runs() == [] and sync(ana).ok
    assert ana.tracker.runs() == []  # a run in progress stays on its clone
    tracker.finish_run(live, "passed", "1 pipeline, passed", {"python": "3.11"})
    assert sync(ben).ok and sync(ana).ok
    (run,) = ana.tracker.runs()
    assert (run.status, run.actor, run.git_commit, run.version_map) == (
        "passed",
        BEN,
        "abc123",
        {"python": "3.11"},
    )
    latest = ana.tracker.latest_checks()
    assert [c.check_name for c in latest["pos_orders"][1]] == ["python parses"]
    assert run.id == ben.tracker.runs()[0].id  # the same number on both clones


@pytest.mark.parametrize("moved_by", ["a killed flush", "another process's flush"])
def test_a_flush_that_finds_its_ref_moved_writes_every_op_once(team, moved_by):
    from deliverables.oplog import pack
    from deliverables.sync import flush

    remote, (ana, _ben) = team
    ana.set_item("1.1.1", status="done")
    repo = Repo(ana.root)
    ref = OPS + ana.tracker.replica
    assert flush(ana.tracker, repo) == 1
    ana.set_item("1.1.2", status="done")
    if moved_by == "a killed flush":  # the ref moved; the outbox and the recorded head did not
        outbox = ana.tracker.outbox()
        repo.append_pack(ref, pack(outbox), repo.head_of(ref), "phasegate: 1 op(s)", ANA)
    else:  # a second process flushed and recorded it; this one's head record is then stale
        other = Project.open(ana.root, actor=ANA, clock=fixed_clock)
        stale = ana.tracker.heads()[ref]
        assert flush(other.tracker, repo) == 1
        other.close()
        ana.tracker._conn.execute("UPDATE heads SET commit_id = ? WHERE ref = ?", (stale, ref))
    ana.set_item("1.1.3", status="done")
    # the flush commits on the head it recorded: the ref is not moved from another, the
    # flush integrates what moved it and starts over
    assert flush(ana.tracker, repo) == 1  # 1.1.3 alone: 1.1.2 is in the ref already
    assert ana.tracker.outbox() == []
    report = sync(ana)
    assert report.ok and report.sent == 3, report
    counts = _ops_in_refs(Repo(remote))
    assert len(counts) == 3 and set(counts.values()) == {1}
    assert verify(ana).ok


def test_what_a_sync_brings_in_is_news_however_old_and_same_second_changes_count(tmp_path):
    """ "Changed by others since your last session" is what reached this clone after it: a
    teammate's edit of 09:00 that Ben's 11:00 sync brings in is news to Ben, whose session was
    at 10:00; a change in the very second of his session too; his own never."""
    from datetime import UTC, datetime

    from deliverables.day import record_session

    remote = _remote(tmp_path)
    now = {"t": datetime(2026, 11, 27, 9, 0, tzinfo=UTC)}

    def clock() -> datetime:
        return now["t"]

    ana, _ = Project.init(tmp_path / "ana", actor=ANA, clock=clock)
    ben, _ = Project.init(tmp_path / "ben", actor=BEN, clock=clock)
    for clone in (ana, ben):
        _git("remote", "add", "origin", str(remote), cwd=clone.root)
    try:
        ana.set_item("1.1.3", status="done")  # 09:00, on Ana's clone only
        now["t"] = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
        record_session(ben)  # Ben opens phasegate at 10:00: Ana's edit is not here yet
        chen = Project.open(ben.root, actor=CHEN, clock=clock)  # the same second, same clone
        chen.set_item("1.2.1", owner="Chen Li")
        chen.close()
        ben.set_item("1.1.4", owner="Ben Okafor")  # his own: never news to him
        now["t"] = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
        assert sync(ana).ok and sync(ben).ok
        news = day_view(ben).changes
        assert sorted((e.actor, e.subject, e.field) for e in news) == [
            (ANA, "1.1.3", "status"),
            (CHEN, "1.2.1", "owner"),
        ]
        assert "Ana Ruiz" in render_day(ben, day_view(ben))
        record_session(ben)  # seen: from his next session on, nothing is news
        assert day_view(ben).changes == []
    finally:
        ana.close()
        ben.close()


# --- ops that no local write would make, forged into a ref --------------------------------------


def _forge(project: Project, ops: list) -> str:
    """Appends, as a fast-forward, a commit holding `ops` (right ids, written by hand, not
    through phasegate) to `project`'s ref on the remote; returns the ref."""
    ref = OPS + project.tracker.replica
    repo = Repo(project.root)
    head = _git("ls-remote", "origin", ref, cwd=project.root).split()[0]  # the remote's tip
    tip = repo.write_pack(pack(ops), head, "forged", "Eve <eve@example.com>")
    _git("push", "--quiet", "origin", f"{tip}:{ref}", cwd=project.root)
    return ref


def _op(project: Project, lamport: int, kind: str, subject: str, payload: dict, author=ANA):
    return Op.create(
        lamport=lamport,
        replica=project.tracker.replica,
        author=author,
        at="2026-03-02T10:00:00Z",
        kind=kind,
        subject=subject,
        payload=payload,
    )


CONTROL_CHARACTERS = {
    "ESC": "\x1b]0;owned\x07",
    "BEL": "\x07",
    "CR": "\r",
    "C1 CSI": "\x9b",
    "LINE SEPARATOR": "\u2028",
    "NUL": "\x00",
}
# where the character sits: (field the report names, kind, subject, payload, author)
PLACES = {
    "note": lambda c: ("note", "item.set", "1.1.1", {"fields": [["note", f"ok{c}", None]]}, ANA),
    "owner": lambda c: ("owner", "item.set", "1.1.1", {"fields": [["owner", f"x{c}", None]]}, ANA),
    "reason": lambda c: (
        "reason",
        "waiver.request",
        "waiver:G1.1",
        {"target": "G1.1", "reason": f"r{c}", "expires": "2099-01-01", "action": "waiver"},
        ANA,
    ),
    "comment": lambda c: (
        "comment",
        "gate.decision",
        "gate:1",
        {"request": None, "decision": "approve", "comment": f"c{c}", "action": "gate"},
        ANA,
    ),
    "subject": lambda c: ("subject", "item.set", f"1.1.1{c}", {"fields": []}, ANA),
    "author": lambda c: ("author", "session", "session", {}, f"Ana{c} <ana@example.com>"),
}


@pytest.mark.parametrize("char", list(CONTROL_CHARACTERS), ids=list(CONTROL_CHARACTERS))
@pytest.mark.parametrize("place", list(PLACES))
def test_a_forged_op_with_a_control_character_is_refused_like_an_edited_one(team, place, char):
    _remote_folder, (ana, ben) = team
    ana.set_item("1.1.1", status="done")
    sync(ana)
    sync(ben)
    name, kind, subject, payload, author = PLACES[place](CONTROL_CHARACTERS[char])
    ref = _forge(ana, [_op(ana, 40, kind, subject, payload, author)])
    ben.set_item("1.1.2", status="done")  # Ben's own work still goes out
    report = sync(ben)
    assert not report.ok and len(report.problems) == 1, report.problems
    line = report.problems[0]
    assert ref in line and f"its {name} holds" in line and "not taken" in line, line
    assert line.isprintable(), line  # the line names the character, never holds it
    assert report.sent == 1
    assert ben.item_state("1.1.1").status == "done"
    bad = CONTROL_CHARACTERS[char]
    conn = sqlite3.connect(ben.tracker.path)
    try:
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in conn.execute(f"SELECT * FROM {table}"):
                assert not any(isinstance(v, str) and bad in v for v in row), (table, row)
    finally:
        conn.close()
    result = verify(ben)
    assert not result.ok
    assert any(ref in p and f"its {name} holds" in p for p in result.problems), result.problems
    # the ref stays left out, sync after sync, until someone repairs it
    again = sync(ben)
    assert len(again.problems) == 1 and ref in again.problems[0]


# text whose JSON spelling has escapes, or none, around the characters the check refuses
LINE_TEXTS = {
    "plain": "Ana → Ben, 100 % done",
    "quote": 'say "done"',
    "backslash": "C:\\temp\\new",  # a backslash then n: text, not a newline
    "backslash before a quote": 'a\\"b',
    "newline": "one\ntwo",
    "tab": "one\ttwo",
    "escaped control": "a\x1bb",
    "raw C1 control": "a\x9bb",
    "DEL": "a\x7fb",
    "line separator": "a\u2028b",
    "bidi override": "a\u202eb",
    "zero-width joiner": "a\u200db",
    "no-break space": "a\u00a0b",
    "backslash then escape": "\\\x1b",
}


@pytest.mark.parametrize("text", list(LINE_TEXTS.values()), ids=list(LINE_TEXTS))
@pytest.mark.parametrize("place", ["note", "owner", "comment", "subject", "author"])
def test_the_text_check_of_a_received_op_reads_its_line_as_it_reads_its_strings(place, text):
    """The check decides on the pack line when it can (no escape but quotes and backslashes,
    every character printable): the verdict is the one the strings alone get."""
    from deliverables.oplog import from_line
    from deliverables.store import op_text_problem, plain_text

    if place == "comment":
        kind, subject, payload = "gate.decision", "gate:1", {"comment": text, "action": "gate"}
    elif place == "subject":
        kind, subject, payload = "item.set", f"1.1.1{text}", {"fields": []}
    else:
        kind, subject, payload = "item.set", "1.1.1", {"fields": [[place, text, None]]}
    author = f"Ana{text} <ana@example.com>" if place == "author" else ANA
    op = Op.create(
        lamport=3,
        replica="a" * 32,
        author=author,
        at="2026-03-02T10:00:00Z",
        kind=kind,
        subject=subject,
        payload=payload,
    )
    read = from_line(op.line())
    assert read.raw == op.line()  # read from its canonical line: the line decides
    strings_alone = Op(
        *(getattr(op, name) for name in ("lamport", "replica", "author", "at")),
        kind,
        subject,
        payload,
        op.id,
        "",
    )
    assert op_text_problem(read) == op_text_problem(strings_alone)
    # and a pack holding it, looked at whole (what a sync reads): plain only if its ops pass
    text = pack([_op_like(op, 1), op, _op_like(op, 9)]).decode()
    if plain_text(text):
        assert op_text_problem(strings_alone) is None
    assert plain_text(text) == plain_text(op.line())  # the other two ops are plain


def _op_like(op: Op, lamport: int) -> Op:
    return Op.create(
        lamport=lamport,
        replica=op.replica,
        author=ANA,
        at=op.at,
        kind="item.set",
        subject="1.1.2",
        payload={"fields": [["note", 'a "quoted" C:\\path → ok', None]]},
    )


def test_a_multiline_note_from_a_teammate_is_taken(team):
    _remote_folder, (ana, ben) = team
    ana.set_item("1.1.1", status="done", note="line one\n\tline two")
    sync(ana)
    report = sync(ben)
    assert report.ok, report.problems
    assert ben.item_state("1.1.1").note == "line one\n\tline two"
    assert verify(ben).ok


@pytest.mark.parametrize("approver", [ANA, "ANA RUIZ <Ana@Example.com>"])
@pytest.mark.parametrize("batches", ["one sync", "two syncs"])
def test_a_forged_self_approval_of_a_waiver_never_counts_on_any_clone(team, approver, batches):
    _remote_folder, (ana, ben) = team
    ana.set_item("1.1.1", status="done")
    sync(ana)
    sync(ben)
    request = _op(
        ana,
        40,
        "waiver.request",
        "waiver:G1.1",
        {"target": "G1.1", "reason": "later", "expires": "2099-01-01", "action": "waiver asked"},
    )
    approve = _op(
        ana,
        41,
        "waiver.approve",
        "waiver:G1.1",
        {"waiver": request.id, "action": "waiver approved"},
        author=approver,
    )
    if batches == "one sync":
        _forge(ana, [request, approve])
    else:
        _forge(ana, [request])
        assert sync(ben).ok
        _forge(ana, [approve])
    assert sync(ben).ok
    assert sync(ana).ok
    for clone in (ana, ben):
        (waiver,) = waivers(clone)
        assert waiver.approver is None and waiver.state(clone.today()) == "pending approval"
        clone.tracker.rebuild()  # and from the whole log alike
        (waiver,) = waivers(clone)
        assert waiver.approver is None
    assert _state(ana) == _state(ben)
    # another person's approval still counts, once, everywhere
    approve_waiver(ben, waiver.id)
    sync(ben)
    sync(ana)
    assert [w.approver for w in waivers(ana)] == [BEN]
    assert _state(ana) == _state(ben)


@pytest.mark.parametrize(
    "text", [*LINE_TEXTS.values(), "", "\n", "a\nb", "\\", '\\"', "\t", "~\x7f", "\ud800", "→ é 𝄞"]
)
@pytest.mark.parametrize("around", ["", "{}", '{"a":"\\\\"}\n', "é"])
def test_the_whole_pack_text_check_on_bytes_gives_the_verdict_of_isprintable(text, around):
    """plain_text judges the UTF-8 bytes (printable ASCII deleted, the rest by `isprintable`):
    the verdict is the one `isprintable` gives on the whole text."""
    from deliverables.store import plain_text

    def general(value: str) -> bool:
        flat = value.replace("\n", "")
        if not flat.isprintable():
            return False
        return "\\" not in flat or "\\" not in flat.replace("\\\\", "").replace('\\"', "")

    for value in (text, around + text, text + around, around + text + "\n" + around):
        encoded = value.encode(errors="surrogatepass")
        assert plain_text(value) == general(value) == plain_text(value, encoded), value


CONFIG_SPELLINGS = {
    "as git writes it": '[remote "origin"]\n\turl = /r.git\n\tfetch = +refs/heads/*:refs/x/*\n',
    "two remotes, a branch, the replica": (
        '[remote "a"]\n\turl = /a.git\n[remote "b-2"]\n\turl = https://h/b c.git\n'
        '[branch "main"]\n\tremote = b-2\n\tmerge = refs/heads/main\n[phasegate]\n\treplica = r1\n'
    ),
    "upper case names, odd spaces": '[Remote  "origin"]\nURL=/r.git\n  Fetch   =  +a:b  \n',
    "a space git refuses": '[remote "origin" ]\n\turl = /r.git\n',
    "the old subsection spelling": "[remote.origin]\n\turl = /r.git\n",
    "a section twice": '[remote "o"]\n\turl = /1\n[core]\n\tbare = false\n[remote "o"]\n\tfetch = x\n',
    "comments": '# a comment\n; another\n[remote "o"]\n\turl = /r.git # the url\n',
    "a quoted value": '[remote "o"]\n\turl = "/with space.git"\n',
    "an escape": '[remote "o"]\n\turl = /a\\\\b\n',
    "a continued line": '[remote "o"]\n\turl = /a\\\n/b\n',
    "a quote in a subsection": '[remote "o\\"x"]\n\turl = /r.git\n',
    "an include": '[include]\n\tpath = other\n[remote "o"]\n\turl = /r.git\n',
    "a conditional include": '[includeIf "gitdir:/x/"]\n\tpath = other\n',
    "a bare key": '[remote "o"]\n\turl\n',
    "an empty value": '[remote "o"]\n\turl =\n',
    "other sections only": "[core]\n\tbare = false\n[user]\n\tname = A B\n",
}


@pytest.mark.parametrize("text", list(CONFIG_SPELLINGS.values()), ids=list(CONFIG_SPELLINGS))
def test_the_settings_a_sync_reads_from_the_config_file_are_what_git_reads(tmp_path, text):
    """Read without a process where the file is plain; anything else is left to git."""
    from deliverables.gitrefs import Layout, read_settings
    from deliverables.sync import _SETTINGS, _clone_facts

    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    config = tmp_path / ".git" / "config"
    config.write_text(config.read_text() + text)
    by_git = subprocess.run(
        ["git", "config", "--get-regexp", _SETTINGS.pattern],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    layout = Layout.of(tmp_path)
    assert layout is not None
    found = read_settings(layout.common, _SETTINGS)
    assert found is None or found == by_git
    if text == CONFIG_SPELLINGS["as git writes it"]:
        assert found is not None  # the common case needs no git process
    assert _clone_facts(Repo(tmp_path)).config == by_git


@pytest.mark.parametrize("name", ["origin", "up-stream", "team/main", "équipe", "x@y"])
def test_the_first_sync_configures_the_remote_once_as_git_config_would(tmp_path, name):
    """Written to the config file under its lock where git needs no quoting, else by git."""
    from deliverables.sync import _clone_facts, configure, fetch_refspec

    remote = _remote(tmp_path)
    subprocess.run(["git", "init", "--quiet", str(tmp_path / "c")], check=True)
    _git("remote", "add", name, str(remote), cwd=tmp_path / "c")
    repo = Repo(tmp_path / "c")
    config = tmp_path / "c" / ".git" / "config"
    config.chmod(0o640)
    for _ in range(2):  # the second time, nothing to add
        facts = _clone_facts(repo)
        configure(repo, facts, name, "r1")
        specs = _git("config", "--get-all", f"remote.{name}.fetch", cwd=repo.root).splitlines()
        assert specs == [f"+refs/heads/*:refs/remotes/{name}/*", fetch_refspec(name)]
        assert _git("config", "phasegate.replica", cwd=repo.root).strip() == "r1"
        assert sorted(_clone_facts(repo).config) == sorted(facts.config)  # what it believes
    assert config.stat().st_mode & 0o777 == 0o640 and not (config.parent / "config.lock").exists()
    if name.isascii() and "@" not in name:  # written here, not by git: a section appended
        assert config.read_text().endswith(f'[remote "{name}"]\n\tfetch = {fetch_refspec(name)}\n')
    _git("fetch", "--quiet", name, cwd=repo.root)  # git reads the file it was given
    # a held lock is a clear error, the file untouched
    _git("remote", "add", "other", str(remote), cwd=repo.root)
    facts = _clone_facts(repo)
    before = config.read_bytes()
    (config.parent / "config.lock").write_text("")
    with pytest.raises(TrackerError, match="lock"):
        configure(repo, facts, "other", "r1")
    assert config.read_bytes() == before
