"""The `phasegate` command in real processes: exit codes, one-line errors, nothing lost."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_project

PHASEGATE = [sys.executable, "-m", "cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [*PHASEGATE, *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def _one_clear_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("phasegate: ")
    return lines[0]


def _digest(project: Path) -> str:
    """Content of the tracker as a dump: unchanged means nothing stored was touched."""
    import sqlite3

    db = project / ".phasegate" / "tracker.db"
    conn = sqlite3.connect(db)
    try:
        text = "\n".join(conn.iterdump())
    except sqlite3.OperationalError:
        # a read-only disk: WAL needs a writable folder, so read the file as it lies (the writer
        # that made it closed last, which checkpointed the WAL into it)
        conn.close()
        conn = sqlite3.connect(f"{db.as_uri()}?immutable=1", uri=True)
        text = "\n".join(conn.iterdump())
    finally:
        conn.close()
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def made_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("made") / "solution"
    assert run("init", str(path)).returncode == 0
    return path


@pytest.fixture
def made(tmp_path: Path, made_once: Path) -> Path:
    """A project `phasegate init` made: each test gets a copy of its own."""
    return copy_project(made_once, tmp_path / "solution")


def test_init_says_when_it_initialised_git(tmp_path):
    result = run("init", str(tmp_path / "fresh"))
    assert result.returncode == 0
    assert result.stdout.startswith("Initialised an empty git repository in")
    assert (tmp_path / "fresh" / ".git").is_dir() and (
        tmp_path / "fresh" / ".phasegate" / "tracker.db"
    ).is_file()
    again = run("init", str(tmp_path / "fresh"))
    assert (
        again.returncode == 0
        and "Initialised" not in again.stdout
        and "nothing changed" in again.stdout
    )


def test_init_in_an_existing_repository_keeps_it(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    result = run("init", str(tmp_path / "repo"))
    assert result.returncode == 0 and "Initialised" not in result.stdout


def test_item_and_deliverable_set_then_status_json(made):
    result = run(
        "-C",
        str(made),
        "item",
        "set",
        "1.1.1",
        "--status",
        "done",
        "--owner",
        "Ana",
        "--due",
        "2026-12-01",
        "--note",
        "kick-off",
    )
    assert result.returncode == 0, result.stderr
    assert "1.1.1: status todo → done" in result.stdout
    assert (
        run(
            "-C", str(made), "deliverable", "set", "D1.1", "--status", "draft", "--owner", "Ana"
        ).returncode
        == 0
    )
    status = run("-C", str(made), "status", "--json")
    assert status.returncode == 0
    doc = json.loads(status.stdout)
    item = doc["phases"][0]["sub_phases"][0]["items"][0]
    assert item == {
        "id": "1.1.1",
        "text": "Capture business objectives and success criteria",
        "status": "done",
        "owner": "Ana",
        "due": "2026-12-01",
    }
    deliverable = doc["phases"][0]["deliverables"][0]
    assert deliverable == {
        "id": "D1.1",
        "title": "Business Requirements Document",
        "status": "draft",
        "owner": "Ana",
        "path": "docs/phase-1/business-requirements-document.md",
    }
    text = run("-C", str(made), "status")
    assert text.returncode == 0 and "current phase: 1. Discovery & Requirements" in text.stdout


def test_export_writes_markdown_to_a_file_or_stdout(made, tmp_path):
    out = tmp_path / "report.md"
    assert run("-C", str(made), "export", "-o", str(out)).returncode == 0
    assert out.read_text().startswith("# solution — status report")
    phase = run("-C", str(made), "export", "--phase", "2")
    assert phase.returncode == 0 and "## Phase 2: Architecture & Design" in phase.stdout
    assert "## Phase 1" not in phase.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("item", "set", "9.9.9", "--status", "done"), "unknown checklist item '9.9.9'"),
        (("item", "set", "1.1.1", "--due", "tomorrow"), "due date 'tomorrow' is not YYYY-MM-DD"),
        (("item", "set", "1.1.1", "--status", "n/a"), "needs a reason"),
        (
            ("deliverable", "set", "D1.1", "--status", "approved"),
            "cannot go from missing to approved",
        ),
        (("deliverable", "set", "D9.9", "--status", "draft"), "unknown deliverable 'D9.9'"),
        (("export", "--phase", "8"), "unknown phase '8'"),
        (("export", "-o", "/no/such/folder/r.md"), "folder /no/such/folder does not exist"),
    ],
)
def test_errors_are_one_line_exit_1_and_change_nothing(made, args, message):
    run("-C", str(made), "item", "set", "1.1.2", "--status", "done")
    before = _digest(made)
    line = _one_clear_line(run("-C", str(made), *args))
    assert message in line
    assert _digest(made) == before


def test_usage_errors_exit_2(made):
    assert run("-C", str(made), "item", "set", "1.1.1").returncode == 2
    assert run("-C", str(made), "frobnicate").returncode == 2
    assert run("-C", str(made), "item").returncode == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("item", "set", "1.1.1", "--status", "finished"), "unknown item status 'finished'"),
        (("item", "set", "1.1.1", "--status", ""), "unknown item status ''"),
        (("item", "set", "1.1.1", "--status", "approved"), "unknown item status 'approved'"),
        (("deliverable", "set", "D1.1", "--status", "done"), "unknown deliverable status 'done'"),
        (("deliverable", "set", "D1.1", "--status", "in revue"), "status 'in revue'"),
        (("prompt", "outcome", "--status", "great"), "invalid choice: 'GREAT'"),
    ],
)
def test_an_invalid_status_is_a_usage_error(made, args, message):
    before = _digest(made)
    result = run("-C", str(made), *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert message in result.stderr.strip().splitlines()[-1]
    assert _digest(made) == before


@pytest.mark.parametrize(
    ("spelling", "stored"),
    [
        ("done", "done"),
        ("DONE", "done"),
        ("n/a", "not_applicable"),
        ("not applicable", "not_applicable"),
        ("Blocked", "blocked"),
        ("to-do", "todo"),
    ],
)
def test_every_accepted_spelling_of_a_status_still_works(made, spelling, stored):
    args = ["-C", str(made), "item", "set", "1.1.3", "--status", spelling]
    if stored in ("not_applicable", "blocked"):
        args += ["--reason", "r"]
    result = run(*args)
    assert result.returncode == 0, result.stderr
    doc = json.loads(run("-C", str(made), "status", "--json").stdout)
    assert doc["phases"][0]["sub_phases"][0]["items"][2]["status"] == stored


def test_version_and_shell_completion(made):
    from importlib.metadata import version

    result = run("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"phasegate {version('phasegate')}")
    out = Path(tempfile.mkdtemp()) / "completions"
    for line, expected in (
        ("phasegate ga", {"gate"}),
        ("phasegate gate s", {"status"}),
        ("phasegate item set 1.1.1 --st", {"--status"}),
    ):
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "_ARGCOMPLETE": "1",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
        }
        done = subprocess.run([*PHASEGATE], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert set(out.read_text().split()) == expected


def test_outside_a_project_and_missing_folders(tmp_path):
    assert "not in a phasegate project" in _one_clear_line(run("-C", str(tmp_path), "status"))
    assert "no such folder" in _one_clear_line(run("-C", str(tmp_path / "nope"), "status"))


def test_without_a_terminal_the_tui_says_so_and_exits_1(made):
    line = _one_clear_line(run("-C", str(made)))
    assert "needs a terminal" in line


def test_a_malformed_process_yaml_is_reported_and_stored_data_untouched(made):
    run("-C", str(made), "item", "set", "1.1.1", "--status", "done")
    before = _digest(made)
    (made / ".phasegate" / "process.yaml").write_text(
        "items:\n  1.1.1:\n    optional: yes\n    colour: red\n"
    )
    line = _one_clear_line(run("-C", str(made), "item", "set", "1.1.2", "--status", "done"))
    assert line == (
        f"phasegate: {made / '.phasegate' / 'process.yaml'}:4: items.1.1.1.colour: "
        "unknown key (expected one of: sub_phase, text, optional, retired)"
    )
    assert _digest(made) == before


def test_a_newer_tracker_is_refused_untouched(made):
    import sqlite3

    db = made / ".phasegate" / "tracker.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    assert "newer phasegate" in _one_clear_line(run("-C", str(made), "status"))
    assert db.read_bytes() == before


@pytest.fixture
def read_only_folder():
    """A folder whose `.phasegate/` refuses the writes of the user running phasegate, made
    without privileges beyond what the tests have: as anyone but root, the folder's write bit is
    taken away; root ignores permission bits, so as root the folder and every file in it are
    made immutable (`chattr +i`, which binds root too). Running as another user instead would
    need the checkout to be readable by that user, which a checkout in a private folder is not.
    Yields (base, make_read_only)."""
    base = Path(tempfile.mkdtemp(prefix="phasegate-ro-"))
    locked: list[Path] = []

    def make_read_only() -> None:
        folder = base / "solution" / ".phasegate"
        if os.geteuid() != 0:
            folder.chmod(0o555)
            return
        locked.extend([*sorted(p for p in folder.iterdir() if p.is_file()), folder])
        done = subprocess.run(["chattr", "+i", *map(str, locked)], capture_output=True, text=True)
        assert done.returncode == 0, (
            f"chattr +i is needed to make a folder read-only for root: {done.stderr}"
        )

    try:
        yield base, make_read_only
    finally:
        if locked:
            subprocess.run(["chattr", "-i", *map(str, locked)], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_an_unwritable_phasegate_folder_is_reported_and_data_kept(read_only_folder):
    base, make_read_only = read_only_folder
    project = base / "solution"

    def as_user(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*PHASEGATE, *args],
            cwd=base,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,  # a hang limit
        )

    assert as_user("init", str(project)).returncode == 0
    assert as_user("-C", str(project), "item", "set", "1.1.1", "--status", "done").returncode == 0
    make_read_only()
    probe = project / ".phasegate" / "probe"
    assert subprocess.run(["touch", str(probe)], capture_output=True).returncode != 0
    assert not probe.exists()  # the folder does refuse this user's writes
    before = _digest(project)
    line = _one_clear_line(as_user("-C", str(project), "item", "set", "1.1.2", "--status", "done"))
    assert f"cannot write to {project / '.phasegate' / 'tracker.db'}" in line
    assert _digest(project) == before


def test_demo_creates_a_project_with_progress(tmp_path):
    result = run("demo", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    doc = json.loads(run("-C", str(tmp_path / "demo"), "status", "--json").stdout)
    assert [p["status"] for p in doc["phases"]][:3] == ["passed", "in_review", "in_progress"]
    assert "already a phasegate project" in _one_clear_line(run("demo", str(tmp_path / "demo")))


def test_generate_scaffold_and_pipelines_from_the_cli(made):
    dry = run("-C", str(made), "generate", "scaffold", "--dry-run")
    assert dry.returncode == 0 and "scaffold (dry run, nothing written): 65 new" in dry.stdout
    assert "+++ b/agent-prompts/context.yaml" in dry.stdout
    assert not (made / "agent-prompts").exists()
    done = run("-C", str(made), "generate", "scaffold")
    assert done.returncode == 0 and "ticked: 3.1.1" in done.stdout
    assert (
        run("-C", str(made), "generate", "pipelines").stdout.strip()
        == "pipelines: nothing to generate"
    )
    (made / "pipelines").mkdir()
    (made / "pipelines" / "orders.yaml").write_text(
        "name: orders\nsource: {path: ../x.csv, format: csv}\n"
    )
    line = _one_clear_line(run("-C", str(made), "generate", "pipelines"))
    assert line == f"phasegate: {made / 'pipelines' / 'orders.yaml'}:1: schema: missing (required)"


def test_pipelines_lists_when_each_runs_in_the_words_of_the_tui(demo, capsys):
    """`phasegate pipelines` words each schedule as the Pipelines screen does (one domain
    function, pipelines.overview): the demo's pair runs in one orchestration at 05:00, a
    standalone pipeline on its own cron expression, one without a schedule is triggered."""
    from cli.main import main

    (demo.root / "pipelines" / "footfall.yaml").write_text(
        "name: footfall\n"
        "source: {path: landing/footfall.csv, format: csv}\n"
        "schema:\n  - {name: store_id, type: string, nullable: false}\n"
        "target: {table: sales.footfall}\n"
        "schedule: '30 6 * * 1-5'\n"
    )
    (demo.root / "pipelines" / "returns.yaml").write_text(
        "name: returns\n"
        "source: {path: landing/returns.csv, format: csv}\n"
        "schema:\n  - {name: order_id, type: string, nullable: false}\n"
        "target: {table: sales.returns}\n"
    )
    assert main(["-C", str(demo.root), "pipelines"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["PIPELINE", "TABLE", "RUNS", "DEPENDS", "ON"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"footfall", "pos_orders", "returns", "store_master"}
    assert "sales.footfall" in rows["footfall"]
    assert "At 06:30, Monday through Friday" in rows["footfall"]
    assert "At 05:00 · orchestrated" in rows["pos_orders"]
    assert rows["pos_orders"].rstrip().endswith("store_master")
    assert "At 05:00 · orchestrated" in rows["store_master"]
    assert "triggered" in rows["returns"]
    assert main(["-C", str(demo.root), "pipelines", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    by_name = {p["name"]: p for p in document["pipelines"]}
    assert by_name["footfall"]["schedule"] == "30 6 * * 1-5"
    assert by_name["store_master"]["dag_id"] == "orchestration_store_master"
    assert by_name["returns"]["schedule"] is None
