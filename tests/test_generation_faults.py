"""Issue 9 §5: generation and documents under faults. A killed run's staging files are removed by
the next run and never listed as user files; a document is rendered and encoded before its file
exists (no empty file after a non-UTF-8 title or user); spec text reaches every generated file
unchanged (emoji, quotes, backslashes, HTML), and the static tier's DDL check accepts it."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deliverables import Project, TrackerError
from deliverables.documents import create_document, new_adr
from pipelines.codegen import generate_pipelines, pipeline_paths
from pipelines.generate import _stage, is_staging_file
from pipelines.prompt_trail import changes_since
from pipelines.spec import load_specs
from pipelines.validation.static import ddl_problems
from tests.conftest import ROOT, fixed_clock
from tests.test_pipeline_spec import STORE_MASTER


@pytest.fixture
def project(tmp_path: Path):
    created, _ = Project.init(tmp_path / "solution", clock=fixed_clock)
    yield created
    created.close()


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


# --- a killed run ---------------------------------------------------------------------------------


def test_a_killed_runs_staging_files_are_removed_by_the_next_run(project):
    (project.root / "pipelines").mkdir()
    (project.root / "pipelines" / "store_master.yaml").write_text(STORE_MASTER)
    _git(project.root, "add", "-A")
    _git(project.root, "commit", "-qm", "start")
    # what kill -9 between staging and moving leaves: the real staging function's files
    leftovers = [
        _stage(project.root / "sql/ddl/sales.stores.sql", "half")[0],
        _stage(project.root / "src/ingestion/store_master.py", "half")[0],
        _stage(project.root / ".phasegate/generated/sql/ddl/sales.stores.sql", "half")[0],
        _stage(project.root / ".phasegate/generated.json", "{}")[0],
    ]
    mine = project.root / "sql/ddl/.notes.md.abcdefgh.tmp"  # not beside a generated file
    mine.write_text("the user's")
    assert all(p.exists() and is_staging_file(p.name) for p in leftovers)
    head = _git(project.root, "rev-parse", "HEAD").strip()
    listed = "\n".join(changes_since(project.root, head))
    assert ".tmp" not in listed.replace(".notes.md.abcdefgh.tmp", "")
    generate_pipelines(project)
    assert [p for p in leftovers if p.exists()] == []
    assert mine.read_text() == "the user's"
    staged = [p for p in project.root.rglob("*.tmp") if p != mine]
    assert staged == []


@pytest.mark.parametrize(
    ("name", "staging"),
    [
        (".sales.stores.sql.c179gf15.tmp", True),
        (".ns.t03.sql.c179gf15.tmp", True),
        (".generated.json.a_b_c_d1.tmp", True),
        ("sales.stores.sql", False),
        (".sales.stores.sql.tmp", False),
        ("notes.c179gf15.tmp", False),
        (".x.c179gf15.tmp.bak", False),
    ],
)
def test_staging_file_names(name, staging):
    assert is_staging_file(name) is staging
    assert is_staging_file(f"sql/ddl/{name}") is staging


# --- nothing half-written -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title", ["title\udcff", "\udcc3\udca9t\udce9", "ok \x1b[31m red", "a\x07"]
)
def test_an_adr_title_that_cannot_be_text_leaves_no_file(project, title):
    with pytest.raises(TrackerError, match=r"the ADR title (is not UTF-8|holds the control)"):
        new_adr(project, title)
    assert not (project.root / "docs" / "adr").exists() or not any(
        (project.root / "docs" / "adr").iterdir()
    )
    assert new_adr(project, "Use Iceberg").name == "0001-use-iceberg.md"  # and nothing blocks it


@pytest.mark.parametrize("user", ["\udcff", "Ana \udce9", "Ana\x1b]52;c;aGk=\x07"])
def test_a_user_name_that_cannot_be_text_leaves_no_file(tmp_path, monkeypatch, user):
    monkeypatch.setenv("PHASEGATE_USER", user)
    created, _ = Project.init(tmp_path / "solution", clock=fixed_clock, actor="Ana <a@x>")
    created.close()
    project = Project.open(tmp_path / "solution", clock=fixed_clock)
    try:
        with pytest.raises(TrackerError, match="PHASEGATE_USER"):
            create_document(project, "D1.3")
        assert not (project.root / "docs" / "phase-1" / "data-profiling-report.md").exists()
    finally:
        project.close()


def test_non_utf8_arguments_get_a_clear_line(tmp_path):
    folder = tmp_path / "solution"
    created, _ = Project.init(folder, clock=fixed_clock)
    created.close()
    run = subprocess.run(
        [sys.executable, "-m", "cli", "-C", str(folder), "adr", "new", b"title\xff"],
        capture_output=True,
        cwd=ROOT,
    )
    # refused before any command runs (cli.common.argument_problem): a usage error
    assert run.returncode == 2, run.stderr
    assert (
        run.stderr.decode()
        == "phasegate: argument 5 is not UTF-8 text (the byte 0xFF at position 6)\n"
    )
    assert not (folder / "docs" / "adr").exists() or not any((folder / "docs" / "adr").iterdir())


# --- spec text reaches generated files unchanged ----------------------------------------------------

HOSTILE = [
    "Customer's id 😀",
    'say "hi" and """ triple',
    "back\\slash \\n not a newline \\",
    "<img src=x onerror=alert(1)> | pipe `tick` ```fence``` **bold** # h",
    "'; DROP TABLE sales.stores; -- \\' \\\\'",
    "{{ jinja }} {% raw %} ${shell} %s %(x)s",
    "naïve café — ü ß 中文 🇫🇷 👨‍👩‍👧",
]


def _spec_with(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    # an expression may not hold `${` (Spark would substitute it) and a local path no Spark-only
    # glob syntax: both are refused on purpose (tests/test_spec_expressions.py,
    # tests/test_repo_paths.py); every other character of the text goes through unchanged
    in_expression = text.replace("${", "$ {")
    literal = "'" + in_expression.replace("\\", "\\\\").replace("'", "\\'") + "'"
    source = json.dumps(
        "landing/" + re.sub(r"[/\\{}^!]", "_", text) + ".parquet", ensure_ascii=False
    )
    return f"""\
name: store_master
description: {quoted}
source: {{path: {source}, format: parquet}}
schema:
  - {{name: store_id, type: string, nullable: false, description: {quoted}}}
transformations:
  - derive: {{column: label, type: string, expr: {json.dumps("concat(store_id, " + literal + ")", ensure_ascii=False)}}}
  - filter: {{expr: {json.dumps("store_id <> " + literal, ensure_ascii=False)}}}
target: {{table: sales.stores}}
schedule: "@daily"
"""


def _constants(path: Path) -> dict[str, object]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: dict[str, object] = {"__doc__": ast.get_docstring(tree)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
        if isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant):
            out[f"kw:{node.arg}"] = node.value.value
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "expr":
            out.setdefault("exprs", []).append(node.args[0].value)  # type: ignore[union-attr]
    return out


@pytest.mark.parametrize("text", HOSTILE)
def test_spec_text_reaches_generated_files_unchanged(project, text):
    (project.root / "pipelines").mkdir()
    (project.root / "pipelines" / "store_master.yaml").write_text(
        _spec_with(text), encoding="utf-8"
    )
    (spec,) = load_specs(project.root)
    generate_pipelines(project)
    paths = {k: project.root / v for k, v in pipeline_paths(spec).items()}
    job = _constants(paths["job"])
    assert job["SOURCE_PATH"] == spec.source.path
    assert job["__doc__"].startswith(f"store_master: {' '.join(text.split())}.")
    assert sorted(job["exprs"]) == sorted(s.expr for s in spec.transformations)
    dag = _constants(paths["dag"])
    assert dag["kw:description"] == text
    # the DDL: the comment is the text itself, and the static tier's check accepts the file
    import sqlglot
    from sqlglot import exp

    ddl = paths["ddl"].read_text(encoding="utf-8")
    assert ddl_problems(ddl, spec) == []
    comments = [
        c.this.this
        for c in sqlglot.parse_one(ddl, read="spark").find_all(exp.CommentColumnConstraint)
    ]
    assert comments[0] == text
    # markdown: the Mermaid fence and the table stay whole, no raw HTML
    flow = (project.root / "docs/architecture/data-flow.md").read_text(encoding="utf-8")
    assert len(re.findall(r"(?m)^```", flow)) == 2
    assert not re.search(r"(?<!\\)<img", flow)  # escaped as \<img: text, not HTML
    assert len([line for line in flow.splitlines() if line.startswith("| store_master |")]) == 1
    task = paths["task"].read_text(encoding="utf-8")
    prose = re.sub(r"(`+) .*? \1|(`+)[^`]*?\2", "", task)  # outside code spans:
    assert not re.search(r"(?<!\\)<img", prose)  # only escaped
    assert not (project.root / "pwned").exists()
