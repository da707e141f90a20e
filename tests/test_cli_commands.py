"""Every command of the README's shell section, run as a user runs it: the venv's `phasegate`
script in a real project in a temporary folder, under a real git repository. Each promise is read
back from the shell (or from the files the command wrote); refusals are one line, exit 1, and
change nothing stored."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from deliverables import Project
from deliverables.gates import approve_waiver, request_waiver
from deliverables.store import utc_now
from tests.conftest import ROOT, copy_project
from tests.test_cli import _digest
from tests.test_pipeline_spec import STORE_MASTER

PHASEGATE = Path(os.environ.get("VIRTUAL_ENV") or ROOT / ".venv") / "bin" / "phasegate"
HANG_LIMIT = 120  # seconds: catches a hang only; start-up speed is bench/startup.py's

LEAD = "Ana Ruiz <ana@example.com>"
REVIEWER = "Ben Okafor <ben@example.com>"
ENGINEER = "Chen Li <chen@example.com>"


def pg(*args: str, cwd: Path, user: str = LEAD, **env: str) -> subprocess.CompletedProcess:
    """`phasegate ARGS` as `user` (PHASEGATE_USER), in `cwd`."""
    return subprocess.run(
        [str(PHASEGATE), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PHASEGATE_USER": user, **env},
        stdin=subprocess.DEVNULL,
        timeout=HANG_LIMIT,
    )


def ok(*args: str, cwd: Path, user: str = LEAD) -> str:
    result = pg(*args, cwd=cwd, user=user)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def refused(*args: str, cwd: Path, user: str = LEAD) -> str:
    """The one line a refusal prints; asserts exit 1, no traceback, nothing stored changed."""
    before = _digest(cwd)
    result = pg(*args, cwd=cwd, user=user)
    assert result.returncode == 1, (args, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phasegate: "), result.stderr
    assert "Traceback" not in result.stderr
    assert _digest(cwd) == before
    return lines[0]


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def solution_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("solution")
    root = folder / "solution"
    ok("init", str(root), cwd=folder)
    (root / "README.md").write_text("solution\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "start")
    return root


@pytest.fixture
def solution(tmp_path: Path, solution_once: Path) -> Path:
    """A committed solution `phasegate init` made: each test gets a copy of its own."""
    return copy_project(solution_once, tmp_path / "solution")


def finish_phase_1(root: Path) -> None:
    project = Project.open(root, actor=LEAD)
    phase = project.model.phase("1")
    for item in phase.items:
        project.set_item(item.id, status="done")
    for d in phase.deliverables:
        for status in ("draft", "in_review", "approved"):
            project.set_deliverable(d.id, status=status)
    project.close()


# --- gates, decisions, reviews and corrections ----------------------------------------------------


def test_a_gate_from_request_to_a_corrected_review_with_json(solution):
    finish_phase_1(solution)
    pending = pg("gate", "status", "1", "--json", cwd=solution)
    assert pending.returncode == 1  # a gate that does not pass: CI can test the exit code
    status = json.loads(pending.stdout)
    assert (status["document"], status["phase"], status["outcome"]) == ("gate", "1", "pending")
    assert status["passes"] is False
    assert status["blockers"] == ["G1.3: no review requested yet (`phasegate gate request`)"]
    assert {c["id"]: c["status"] for c in status["criteria"]} == {
        "G1.1": "met",
        "G1.2": "met",
        "G1.3": "pending",
    }
    assert "in review" in ok("gate", "request", "1", "--reviewer", REVIEWER, cwd=solution)
    # the lead is no reviewer; an unknown decision, an empty comment, an unknown phase
    assert "you (Ana Ruiz) are not a reviewer" in refused(
        "gate", "decide", "1", "approve", "--comment", "fine", cwd=solution
    )
    for args, message in (
        (("gate", "decide", "1", "maybe", "--comment", "hm"), "maybe"),
        (("gate", "decide", "1", "approve", "--comment", "   "), "needs a comment"),
        (("gate", "decide", "9", "approve", "--comment", "x"), "unknown phase '9'"),
        (("gate", "decide", "2", "approve", "--comment", "x"), "2"),
    ):
        assert message in refused(*args, cwd=solution, user=REVIEWER), args
    decided = ok(
        "gate", "decide", "1", "reject", "--comment", "The BRD lacks the SLAs", cwd=solution,
        user=REVIEWER,
    )  # fmt: skip
    assert decided.strip() == "Phase 1: rejected by you — The BRD lacks the SLAs"
    ok("gate", "decide", "1", "conditions", "--comment", "Add SLAs", cwd=solution, user=REVIEWER)
    decided = json.loads(ok("gate", "status", "1", "--json", cwd=solution))
    assert decided["outcome"] == "passed" and decided["passes"] is True
    assert decided["blockers"] == []
    reviewed = pg("gate", "review", "1", "--commit", cwd=solution)
    assert reviewed.returncode == 0, reviewed.stderr
    assert reviewed.stdout.startswith("Gate review 1 of phase 1: passed")
    assert "committed" in reviewed.stdout
    assert git(solution, "log", "-1", "--format=%s").startswith("Gate review of phase 1")
    # a correction names the review it corrects, and both stay
    corrected = ok("gate", "review", "1", "--corrects", "1", cwd=solution)
    assert corrected.startswith("Gate review 2 of phase 1: passed")
    assert "no gate review 7" in refused("gate", "review", "1", "--corrects", "7", cwd=solution)
    history = json.loads(ok("gate", "history", "--json", cwd=solution))
    assert history["document"] == "gate_reviews"
    history = history["reviews"]
    assert [(r["id"], r["phase"], r["outcome"], r["corrects"]) for r in history] == [
        (1, "1", "passed", None),
        (2, "1", "passed", 1),
    ]
    assert history[0]["git_commit"] == git(solution, "rev-parse", "HEAD~1")
    assert history[0]["git_dirty"] == 0  # phasegate's own state changed; the solution did not
    decisions = history[1]["record"]["decisions"]
    assert [(d["reviewer"], d["decision"]) for d in decisions] == [
        (REVIEWER, "reject"),
        (REVIEWER, "approve_with_conditions"),
    ]
    text = ok("gate", "history", "1", cwd=solution)
    assert "(corrects 1)" in text.splitlines()[1]
    doc = json.loads(ok("status", "--json", cwd=solution))
    assert doc["phases"][0]["status"] == "passed"
    assert doc["phases"][0]["gate"] == {"outcome": "passed", "blockers": []}


def test_a_failed_review_exits_1_and_still_writes_its_report(solution):
    ok("gate", "request", "2", "--reviewer", REVIEWER, cwd=solution)
    result = pg("gate", "review", "2", cwd=solution)
    assert result.returncode == 1
    assert result.stdout.startswith("Gate review 1 of phase 2: failed")
    assert "  blocked by G2.0: " in result.stdout
    written = result.stdout.strip().splitlines()[-1].removeprefix("Wrote ")
    assert (solution / written).read_text().count("failed") >= 1


# --- waivers -------------------------------------------------------------------------------------


def test_waivers_request_approve_list_and_json(solution):
    out = ok(
        "waiver", "request", "G2.0", "--reason", "design signed off early", "--expires",
        "2099-12-31", cwd=solution,
    )  # fmt: skip
    assert out.startswith("Waiver 1 for G2.0 until 2099-12-31: awaiting approval")
    assert "waiver 1 was requested by you: another person must approve it" in refused(
        "waiver", "approve", "1", cwd=solution
    )
    assert "no waiver 9" in refused("waiver", "approve", "9", cwd=solution, user=REVIEWER)
    for args, message in (
        (("waiver", "request", "G9.9", "--reason", "r", "--expires", "2099-01-01"), "G9.9"),
        (("waiver", "request", "G2.0", "--reason", " ", "--expires", "2099-01-01"), "reason"),
        (("waiver", "request", "G2.0", "--reason", "r", "--expires", "soon"), "soon"),
        (("waiver", "request", "G2.0", "--reason", "r", "--expires", "2001-01-01"), "past"),
    ):
        assert message in refused(*args, cwd=solution), args
    approved = ok("waiver", "approve", "1", cwd=solution, user=REVIEWER)
    assert approved.strip() == "Waiver 1 for G2.0 approved; it counts until 2099-12-31"
    assert "already approved" in refused("waiver", "approve", "1", cwd=solution, user=ENGINEER)
    listed = json.loads(ok("waiver", "list", "--json", cwd=solution))
    assert listed["document"] == "waivers"
    assert [(w["id"], w["target"], w["state"], w["approver"]) for w in listed["waivers"]] == [
        (1, "G2.0", "active", REVIEWER)
    ]
    line = ok("waiver", "list", cwd=solution).strip()
    assert "G2.0" in line and "active" in line and "approved by Ben Okafor" in line
    # the waiver counts in the gate of phase 2
    gate = json.loads(pg("gate", "status", "2", "--json", cwd=solution).stdout)
    assert {c["id"]: c["status"] for c in gate["criteria"]}["G2.0"] == "waived"


def test_an_expired_waiver_shows_in_the_day_view(solution):
    # requested and approved ten days ago, it counted until the day before yesterday (on the
    # clock the CLI runs on)
    now = utc_now()
    back_then = Project.open(solution, actor=LEAD, clock=lambda: now - timedelta(days=10))
    expired = (now - timedelta(days=2)).date().isoformat()
    waiver = request_waiver(back_then, "G2.0", "design signed off early", expired)
    back_then.tracker.actor = REVIEWER
    approve_waiver(back_then, waiver.id)
    back_then.close()
    day = ok("today", cwd=solution)
    waivers = day[day.index("## Waivers to watch") : day.index("## Gates waiting")]
    assert (
        f"waiver 1 for G2.0 (expired {expired}: no longer counts)" in waivers
        and "design signed off early" in waivers
    )
    listed = json.loads(ok("waiver", "list", "--json", cwd=solution))
    assert listed["waivers"][0]["state"] == "expired"


# --- the day and stand-ups -------------------------------------------------------------------------


def test_today_saves_stand_ups_per_person_and_writes_the_day(solution, tmp_path):
    ok("item", "set", "1.1.2", "--owner", "Ana Ruiz", "--due", "2000-01-01", cwd=solution)
    ok("item", "set", "1.1.3", "--owner", "ana@example.com", cwd=solution)
    first = ok("today", "--yesterday", "BRD", "--today", "SLAs", cwd=solution)
    assert first.startswith("# Ana Ruiz's day — ")
    assert "Your first session in this project." in first
    assigned = first[first.index("## Assigned to me") : first.index("## Overdue")]
    assert "1.1.2" in assigned and "1.1.3" in assigned
    overdue = first[first.index("## Overdue (mine)") : first.index("## Due this week")]
    assert "1.1.2" in overdue and "2000-01-01" in overdue
    # times are stored to the second and "since my last session" is strict: a change in the
    # same second as the session would not count as after it (a known limit, see the report)
    time.sleep(1.1)
    ok("today", "--blockers", "no access to the POS bucket", cwd=solution, user=ENGINEER)
    ok("item", "set", "1.1.4", "--status", "done", cwd=solution, user=ENGINEER)
    out = tmp_path / "standup.md"
    result = pg("today", "--today", "SLAs and KPIs", "-o", str(out), cwd=solution)
    assert result.returncode == 0 and result.stdout == "" and f"Wrote {out}" in result.stderr
    day = out.read_text()
    changes = day[day.index("## Changed by others") : day.index("## Waivers")]
    assert "Chen Li" in changes and "1.1.4" in changes  # since my last session
    standup = day[day.index("## Stand-up") :]
    ana, chen = standup.index("**Ana Ruiz**"), standup.index("**Chen Li**")
    mine, theirs = standup[ana:chen], standup[chen:]
    # mine kept yesterday's part and took the new plan; Chen's note is Chen's alone
    assert "- Yesterday: BRD\n- Today: SLAs and KPIs\n- Blockers: none" in mine
    assert "- Yesterday: —\n- Today: —\n- Blockers: no access to the POS bucket" in theirs
    assert "stand-up note needs at least one" in refused(
        "today", "--yesterday", " ", "--today", "", cwd=solution, user=REVIEWER
    )
    assert "folder /no/such does not exist" in refused(
        "today", "-o", "/no/such/day.md", cwd=solution
    )


# --- ADRs, prompts and generation -------------------------------------------------------------------


def test_adr_list_and_status(solution):
    assert ok("adr", "list", cwd=solution).strip() == (
        'no decision records yet: phasegate adr new "title"'
    )
    ok("adr", "new", "Use Iceberg for the lake", cwd=solution)
    ok("adr", "new", "Use Delta instead", cwd=solution)
    assert ok("adr", "status", "1", "accepted", cwd=solution).strip() == "ADR 0001: accepted"
    assert "ADR 0001: superseded" in ok(
        "adr", "status", "1", "superseded", "--by", "2", cwd=solution
    )
    listed = ok("adr", "list", cwd=solution).splitlines()
    assert listed[0].startswith("0001  superseded") and listed[0].endswith(
        "Use Iceberg for the lake"
    )
    assert listed[1].startswith("0002  proposed") and listed[1].endswith("Use Delta instead")
    for args, message in (
        (("adr", "status", "7", "accepted"), "7"),
        (("adr", "status", "2", "shiny"), "shiny"),
    ):
        assert message in refused(*args, cwd=solution), args


@pytest.fixture(scope="module")
def with_pipelines_once(tmp_path_factory: pytest.TempPathFactory, solution_once: Path) -> Path:
    root = copy_project(solution_once, tmp_path_factory.mktemp("with-pipelines") / "solution")
    ok("generate", "scaffold", cwd=root)
    (root / "pipelines").mkdir()
    (root / "pipelines" / "store_master.yaml").write_text(STORE_MASTER)
    return root


@pytest.fixture
def with_pipelines(tmp_path: Path, with_pipelines_once: Path) -> Path:
    """The solution with its scaffold generated and one spec written: a copy of its own."""
    return copy_project(with_pipelines_once, tmp_path / "solution")


def test_generate_pipelines_dry_run_writes_nothing_then_generates(with_pipelines):
    root = with_pipelines
    before = sorted(p.relative_to(root) for p in root.rglob("*") if ".git" not in p.parts)
    dry = ok("generate", "pipelines", "--dry-run", cwd=root)
    assert "new        src/ingestion/store_master.py" in dry
    assert "pipelines (dry run, nothing written): " in dry
    assert "+++ b/src/ingestion/store_master.py" in dry
    after = sorted(p.relative_to(root) for p in root.rglob("*") if ".git" not in p.parts)
    assert after == before
    done = ok("generate", "pipelines", cwd=root)
    assert "new        src/ingestion/store_master.py" in done and "dry run" not in done
    again = ok("generate", "pipelines", "--dry-run", cwd=root)
    assert again.strip().endswith("pipelines (dry run, nothing written): nothing to generate") or (
        "unchanged" in again
    )


def test_prompt_new_log_and_outcome(with_pipelines):
    root = with_pipelines
    ok("generate", "pipelines", cwd=root)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "pipelines")
    text = ok("prompt", "new", "store_master", cwd=root)
    assert text.startswith("Create store_master: PARQUET to Iceberg `sales.stores` as defined in ")
    logged = ok("prompt", "log", "store_master", "--model", "claude-opus-4", cwd=root)
    record = logged.strip().removeprefix("Logged ")
    assert record.startswith("agent-prompts/executed_prompts/") and record.endswith("_v1.md")
    body = (root / record).read_text()
    assert "- Developer: Ana Ruiz" in body and "- Claude Model: claude-opus-4" in body
    assert "## PROMPT\n" + text.strip() in body
    (root / "src/ingestion/retry.py").write_text("a = 1\nb = 2\n")
    outcome = ok("prompt", "outcome", "--status", "partial", "--notes", "retry added", cwd=root)
    assert outcome.splitlines() == [
        f"{record}:",
        "- Generated: src/ingestion/retry.py (2 lines)",
        "- Status: PARTIAL",
        "- Notes: retry added",
    ]
    log = yaml.safe_load((root / "agent-prompts/executed_prompts/prompt_log.yaml").read_text())
    assert [(e["status"], e["model"]) for e in log["prompts"]] == [("PARTIAL", "claude-opus-4")]
    for args, message in (
        (("prompt", "new", "nope"), "no task 'nope'"),
        (("prompt", "log", "../../etc/passwd"), "no task"),
        (("prompt", "outcome", "x.md"), "no prompt 'x.md'"),
    ):
        assert message in refused(*args, cwd=root), args


def test_prompt_outcome_with_an_unknown_status_is_a_usage_error(with_pipelines):
    result = pg("prompt", "outcome", "--status", "GREAT", cwd=with_pipelines)
    assert result.returncode == 2 and "invalid choice: 'GREAT'" in result.stderr


def test_prompt_outcome_before_any_prompt_is_refused(with_pipelines):
    assert "has no prompts yet" in refused("prompt", "outcome", cwd=with_pipelines)


# --- init's refusals --------------------------------------------------------------------------------


def test_init_refuses_what_it_cannot_make(tmp_path):
    (tmp_path / "a-file").write_text("x")
    for target, message in (
        (tmp_path / "a-file", "a-file"),
        (tmp_path / "a-file" / "below", "a-file"),
    ):
        result = pg("init", str(target), cwd=tmp_path)
        assert result.returncode == 1, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("phasegate: ") and message in lines[0]
        assert "Traceback" not in result.stderr
    broken = tmp_path / "broken"
    (broken / ".phasegate").mkdir(parents=True)
    (broken / ".phasegate" / "process.yaml").write_text("items: [\n")
    result = pg("init", str(broken), cwd=tmp_path)
    assert result.returncode == 1 and "process.yaml:" in result.stderr
    assert not (broken / ".phasegate" / "tracker.db").exists()  # nothing half-made is left


# --- a retired item keeps its history ---------------------------------------------------------------


def test_a_retired_item_keeps_its_history(solution):
    ok(
        "item",
        "set",
        "1.2.4",
        "--status",
        "done",
        "--owner",
        "Chen Li",
        "--note",
        "kept",
        cwd=solution,
    )
    (solution / ".phasegate" / "process.yaml").write_text("items:\n  1.2.4: {retired: true}\n")
    doc = json.loads(ok("status", "--json", cwd=solution))
    ids = {i["id"] for p in doc["phases"] for s in p["sub_phases"] for i in s["items"]}
    assert "1.2.4" not in ids and "1.2.3" in ids
    assert "unknown checklist item '1.2.4'" in refused(
        "item", "set", "1.2.4", "--status", "todo", cwd=solution
    )
    project = Project.open(solution)
    state = project.tracker.item_state("1.2.4")
    assert (state.status, state.owner, state.note) == ("done", "Chen Li", "kept")
    assert [e.field for e in project.tracker.activity(subject="1.2.4")] == [
        "note",
        "owner",
        "status",
    ]
    project.close()
    # un-retired, it comes back as it was
    (solution / ".phasegate" / "process.yaml").unlink()
    doc = json.loads(ok("status", "--json", cwd=solution))
    items = {i["id"]: i for p in doc["phases"] for s in p["sub_phases"] for i in s["items"]}
    assert (items["1.2.4"]["status"], items["1.2.4"]["owner"]) == ("done", "Chen Li")
