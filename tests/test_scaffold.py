"""`phasegate generate scaffold` on real repositories: the whole tree, lint-clean code, DAGs
that load in a real DagBag, checklist items ticked by the generator, safe re-runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.scaffold import generate_scaffold
from tests.conftest import ROOT
from tests.helpers.unmeasured import unmeasured

DOCUMENT = (ROOT / "docs" / "process" / "data-solution-delivery-process.md").read_text()
RUFF = Path(sys.executable).with_name("ruff")


def _tree_paths() -> list[str]:
    """Every folder and file of the process document's 3.1 tree, as paths."""
    tree = DOCUMENT.split("### 3.1 Project Structure", 1)[1].split("```", 2)[1]
    paths, stack = [], []
    for line in tree.splitlines()[2:]:
        match = re.match(r"^((?:│   |    )*)[├└]── ([^\s#]+)", line)
        if not match:
            continue
        depth = len(match.group(1)) // 4
        stack[depth:] = [match.group(2).rstrip("/")]
        paths.append("/".join(stack) + ("/" if match.group(2).endswith("/") else ""))
    return paths


@pytest.fixture
def scaffolded(project):
    result = generate_scaffold(project)
    return project, result


def test_every_folder_and_named_file_of_the_tree_exists(scaffolded):
    project, result = scaffolded
    expected = [
        p for p in _tree_paths() if "2025-01-15" not in p
    ]  # an example record, not a file to create
    assert len(expected) > 50
    for path in expected:
        target = project.root / path
        assert target.is_dir() if path.endswith("/") else target.is_file(), path
    assert result.plan.count("new") == len(result.plan.files)


def test_starter_content_is_real(scaffolded):
    project, _ = scaffolded
    context = (project.root / "agent-prompts" / "context.yaml").read_text()
    for key in (
        'project: "acme-platform"',
        "tech_stack:",
        "constraints:",
        "patterns:",
        'error_handling: "fail-fast"',
    ):
        assert key in context
    assert (
        "Wrap main logic in try-finally"
        in (project.root / "agent-prompts/standards/error_handling.md").read_text()
    )
    assert "ruff" in (project.root / ".github/workflows/ci.yaml").read_text()
    assert "DAG integrity" in (project.root / ".github/workflows/ci.yaml").read_text()
    assert "ruff-format" in (project.root / ".pre-commit-config.yaml").read_text()
    for readme in project.root.rglob("README.md"):
        assert len(readme.read_text().strip()) > 20, readme


def test_generated_python_is_lint_and_format_clean(scaffolded):
    project, _ = scaffolded
    files = [str(p) for p in project.root.rglob("*.py") if ".phasegate" not in p.parts]
    assert len(files) >= 8
    check = subprocess.run(
        [str(RUFF), "check", *files], cwd=project.root, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run(
        [str(RUFF), "format", "--check", *files], cwd=project.root, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout


def test_generated_dags_load_in_a_real_dagbag_and_the_integrity_test_passes(scaffolded, tmp_path):
    project, _ = scaffolded
    env = {**unmeasured(), "PYTHONPATH": str(ROOT), "AIRFLOW_HOME": str(tmp_path / "airflow-home")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.helpers.dagbag",
            str(project.root / "agent-prompts" / "examples"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"dags": ["example_master_pipeline"], "errors": {}, "warnings": {}}
    generated_test = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/unit/test_dag_integrity.py",
        ],
        cwd=project.root,
        env={**env, "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated_test.returncode == 0, generated_test.stdout + generated_test.stderr


def test_items_are_ticked_by_the_generator(scaffolded):
    project, result = scaffolded
    assert result.ticked == (
        "3.1.1",
        "3.1.2",
        "3.1.3",
        "3.1.4",
        "3.1.5",
        "3.1.6",
        "3.1.7",
        "3.1.8",
        "3.1.9",
        "3.1.10",
        "3.2.2",
        "3.2.3",
    )
    assert result.drafted == ("D3.3", "D3.6")
    events = project.tracker.activity(None, subject="3.1.1")
    assert events[0].actor == "phasegate generator (run by Test Engineer <test@example.com>)"
    assert project.tracker.actor == "Test Engineer <test@example.com>"  # restored
    assert project.item_state("3.2.1").status == "todo"  # standards are the team's decision


def test_a_rerun_changes_nothing_and_an_edit_survives(scaffolded):
    project, _ = scaffolded
    readme = project.root / "src" / "README.md"
    readme.write_text(readme.read_text() + "\nOur notes.\n")
    stamps = {
        p: p.stat().st_mtime_ns
        for p in project.root.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }
    again = generate_scaffold(project)
    assert again.plan.count("unchanged") == len(again.plan.files) and again.ticked == ()
    assert readme.read_text().endswith("Our notes.\n")
    after = {
        p: p.stat().st_mtime_ns
        for p in project.root.rglob("*")
        if p.is_file() and ".git" not in p.parts
    }
    assert {p: t for p, t in after.items() if ".phasegate" not in p.parts} == {
        p: t for p, t in stamps.items() if ".phasegate" not in p.parts
    }


def test_a_dry_run_writes_nothing_and_an_existing_readme_is_kept(project):
    (project.root / "README.md").write_text("# Ours\n")
    result = generate_scaffold(project, dry_run=True)
    assert result.plan.count("new") == len(result.plan.files) - 1
    assert {f.path: f.state for f in result.plan.files}["README.md"] == "kept"
    assert sorted(p.name for p in project.root.iterdir()) == [".git", ".phasegate", "README.md"]
    assert project.item_state("3.1.1").status == "todo"


def test_context_yaml_documents_where_publish_goes_without_a_password(tmp_path, monkeypatch):
    """tech_stack.serving.publish_dsn (issue 16): commented out in the starter file, with no
    password; uncommented, it is the DSN `phasegate publish` reads."""
    from datetime import date

    import yaml

    from deliverables.publish.dsn import ENV, resolve_dsn, secrets
    from pipelines.scaffold import render_scaffold

    (context,) = [
        r.content
        for r in render_scaffold("acme", date(2026, 11, 27))
        if r.path == "agent-prompts/context.yaml"
    ]
    assert "publish_dsn" not in yaml.safe_load(context)["tech_stack"]["serving"]  # commented
    (line,) = [line for line in context.splitlines() if "# publish_dsn: " in line]
    example = line.split("# publish_dsn: ", 1)[1]
    monkeypatch.delenv("PGPASSWORD", raising=False)
    assert secrets(example) == ()
    (tmp_path / "agent-prompts").mkdir()
    (tmp_path / "agent-prompts/context.yaml").write_text(
        context.replace("# publish_dsn: ", "publish_dsn: ")
    )
    monkeypatch.delenv(ENV, raising=False)
    assert resolve_dsn(tmp_path) == (example, "agent-prompts/context.yaml")


def test_an_awkward_project_name_cannot_break_generated_yaml_or_python():
    import ast
    from datetime import date

    import yaml

    from pipelines.scaffold import render_scaffold

    name = 'acme: "data" #1 \\ {x}'
    for rendered in render_scaffold(name, date(2026, 11, 27)):
        if rendered.path.endswith((".yaml", ".yml")):
            data = yaml.safe_load(rendered.content)
            if rendered.path == "agent-prompts/context.yaml":
                assert data["project"] == name
        elif rendered.path.endswith(".py"):
            ast.parse(rendered.content)


def _lock(name: str) -> dict[str, str]:
    """{distribution: version} of one of phasegate's lock files (requirements/)."""
    from packaging.utils import canonicalize_name

    text = (ROOT / "requirements" / name).read_text()
    return {canonicalize_name(n): v for n, v in re.findall(r"(?m)^([A-Za-z0-9._-]+)==(\S+)", text)}


def test_requirements_pin_what_the_code_imports_to_phasegates_lock(scaffolded):
    project, _ = scaffolded
    root = project.root
    run, dev = _lock("run.txt"), _lock("dev.txt")
    lines = [
        line
        for line in (root / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "-c constraints.txt"
    pinned = dict(
        re.match(r"([a-z0-9-]+)(?:\[[a-z0-9,-]+\])?==(\S+)", x).groups() for x in lines[1:]
    )
    # what the generated jobs, quality runners, DAGs and tests import
    for name in (
        "apache-airflow",
        "apache-airflow-providers-apache-spark",
        "pyspark",
        "pyiceberg",
        "great-expectations",
        "pandas",
        "pyarrow",
    ):
        assert pinned[name] == run[name], name
    constraints = dict(
        line.split("==")
        for line in (root / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert len(constraints) > 100  # Airflow's whole closure, resolved with the rest
    assert all(dev.get(name, run.get(name)) == version for name, version in constraints.items())
    requirements_dev = (root / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in requirements_dev
    assert (
        f"ruff=={run['ruff']}" in requirements_dev
        and f"pytest=={dev['pytest']}" in requirements_dev
    )
    # the pre-commit hook runs the ruff phasegate formats with
    assert f"rev: v{run['ruff']}" in (root / ".pre-commit-config.yaml").read_text()


def test_generated_code_follows_the_solutions_own_ruff_settings(project):
    """A team's [tool.ruff] (single quotes, 120 columns) is what phasegate formats with: the
    project's own `ruff format --check` passes and a re-generation changes nothing."""
    from pipelines.codegen import generate_pipelines
    from tests.test_validation_static import PLAIN

    generate_scaffold(project)
    root = project.root
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("line-length = 100", "line-length = 120")
        + '\n[tool.ruff.format]\nquote-style = "single"\n'
    )
    (root / "pipelines").mkdir()
    (root / "pipelines/orders.yaml").write_text(PLAIN.format(name="orders"))
    generate_pipelines(project)
    generate_scaffold(project)  # its Python follows the new settings too
    dag = (root / "airflow/dags/ingestion/orders_dag.py").read_text()
    assert "dag_id='orders'" in dag
    files = [str(p) for p in root.rglob("*.py") if ".phasegate" not in p.parts]
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [str(RUFF), *args, "--no-cache", *files], cwd=root, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout
    again = generate_scaffold(project)
    assert again.plan.count("unchanged") == len(again.plan.files)
    regenerated = generate_pipelines(project)
    assert regenerated.count("unchanged") == len(regenerated.files)


def test_ruff_settings_it_cannot_read_are_named(project):
    from pipelines.codegen import generate_pipelines
    from pipelines.errors import GenerationError
    from tests.test_validation_static import PLAIN

    generate_scaffold(project)
    root = project.root
    (root / "pipelines").mkdir()
    (root / "pipelines/orders.yaml").write_text(PLAIN.format(name="orders"))
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("line-length = 100", 'line-length = "wide"'))
    with pytest.raises(GenerationError, match=r"with the \[tool.ruff\] settings of pyproject.toml"):
        generate_pipelines(project)
    pyproject.write_text("[tool.ruff\n")
    with pytest.raises(GenerationError, match=r"pyproject\.toml: not valid TOML"):
        generate_pipelines(project)
    assert not (root / "src/ingestion/orders.py").exists()  # nothing written
