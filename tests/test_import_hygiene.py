"""Start-up stays light: the TUI and the CLI never pay for Spark, GX, Airflow, Iceberg or pandas,
the CLI never pays for Textual, and the domain packages never import Textual, the TUI or the CLI."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

from tests.conftest import ROOT

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def test_the_tui_starts_without_heavy_modules(demo):
    result = subprocess.run(
        [sys.executable, "-m", "tests.helpers.start_tui", str(demo.root)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    for heavy in ("pyspark", "great_expectations", "airflow", "pyiceberg", "pandas"):
        assert heavy not in loaded
    # and the lighter ones that are only needed later (migrations, reports, git facts)
    assert loaded == []


def test_domain_packages_never_import_textual():
    for package in ("phases", "deliverables", "pipelines"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    assert name.split(".")[0] not in ("textual", "rich", "tui", "cli"), (
                        f"{path} imports {name}"
                    )


def test_importing_the_domain_loads_no_ui_in_a_fresh_process():
    code = (
        "import sys, phases, deliverables, deliverables.report, deliverables.demo;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'tui')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_cli_starts_without_textual_or_heavy_modules(demo):
    """`phasegate status` loads neither the TUI (Textual, Rich) nor the engines; `open` alone
    imports the TUI, lazily."""
    code = "\n".join(
        [
            "import contextlib, io, sys",
            "from cli.main import main",
            "with contextlib.redirect_stdout(io.StringIO()):",
            f"    code = main(['-C', {str(demo.root)!r}, 'status'])",
            "loaded = {m.split('.')[0] for m in sys.modules}",
            "heavy = {'textual', 'rich', 'tui', 'pyspark', 'great_expectations', 'airflow',"
            " 'pyiceberg', 'pandas', 'psycopg'}",
            "print(code, sorted(loaded & heavy))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 []"


HEAVY = ("pyspark", "great_expectations", "airflow", "pyiceberg", "pandas", "psycopg")


def _heavy(*args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.helpers.heavy_modules", *args],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,  # a hang limit
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_tui_screen_opens_without_heavy_modules(demo):
    keys = ["d", "p", "D", "r", "P", "T", "V", "t", "R", "M", "F", "3", "question_mark"]
    seen = _heavy("tui", str(demo.root), *keys)
    screens = set()
    for key, modules in seen.items():
        heavy = [m for m in modules if m in HEAVY]
        assert heavy == [], f"after {key}: {heavy}"
        screens.add(modules[-1] if key != "start" else None)
    assert len(screens - {None}) >= 11  # each key did open its own screen


def _cli_project(tmp_path):
    from deliverables import Project
    from pipelines.codegen import generate_pipelines
    from pipelines.scaffold import generate_scaffold
    from pipelines.validation.engine import validate  # in this process only: the run to read
    from tests.test_pipeline_spec import STORE_MASTER

    project, _ = Project.init(tmp_path / "solution")
    generate_scaffold(project)
    (project.root / "pipelines").mkdir()
    (project.root / "pipelines" / "store_master.yaml").write_text(STORE_MASTER)
    generate_pipelines(project)
    validate(project, tier="static")
    project.close()
    return project.root


COMMANDS = [
    ("status",),
    ("status", "--json"),
    ("export",),
    ("item", "set", "1.1.1", "--status", "done"),
    ("deliverable", "set", "D1.1", "--status", "draft"),
    ("deliverable", "facts"),
    ("adr", "new", "Use Iceberg"),
    ("adr", "list"),
    ("gate", "status", "2", "--json"),  # exit 1: the gate does not pass (checked below)
    ("gate", "history"),
    ("waiver", "request", "G2.0", "--reason", "r", "--expires", "2099-01-01"),
    ("waiver", "list", "--json"),
    ("today", "--today", "plan"),
    ("runs", "--json"),
    ("runs", "show", "1"),
    ("prompt", "new", "store_master"),
    ("generate", "scaffold", "--dry-run"),
    ("generate", "pipelines", "--dry-run"),
    ("pipelines",),
    ("pipelines", "--json"),
    ("validate", "--tier", "static"),
]


def test_every_cli_command_runs_without_heavy_modules(tmp_path):
    """The CLI keeps Spark, GX, Airflow, Iceberg and pandas out of its own process: `validate`
    runs them in its subprocess."""
    root = _cli_project(tmp_path)
    for args in COMMANDS:
        result = _heavy("cli", str(root), *args)
        # gate status exits 1 while the gate does not pass (phase 2 of a fresh project)
        expected = 1 if args[:2] == ("gate", "status") else 0
        assert result["exit"] == expected, (args, result["output"])
        assert result["heavy"] == [], (args, result["heavy"])
