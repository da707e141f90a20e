"""The prompt audit trail on a real git repository: compose, log, outcome from git."""

from __future__ import annotations

import subprocess
from datetime import datetime

import pytest
import yaml

from pipelines.codegen import generate_pipelines
from pipelines.prompt_trail import PromptError, compose, log_prompt, record_outcome
from pipelines.scaffold import generate_scaffold
from tests.test_pipeline_spec import STORE_MASTER

NOW = datetime(2026, 11, 27, 10, 30)


def _git(root, *args):
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(project):
    generate_scaffold(project)
    (project.root / "pipelines").mkdir()
    (project.root / "pipelines" / "store_master.yaml").write_text(STORE_MASTER)
    generate_pipelines(project)
    _git(project.root, "add", "-A")
    _git(project.root, "commit", "-qm", "scaffold and pipelines")
    return project.root


def test_compose_names_the_task_its_schema_standards_and_template(repo):
    prompt = compose(repo, "store_master")
    assert prompt.text == (
        "Create store_master: PARQUET to Iceberg `sales.stores` as defined in "
        "agent-prompts/tasks/ingestion/store_master.md. Use pipelines/store_master.yaml and follow "
        "standards/error_handling.md and standards/logging.md. Start from examples/spark_job_template.py."
    )
    assert prompt.context_files == (
        "agent-prompts/tasks/ingestion/store_master.md",
        "pipelines/store_master.yaml",
        "agent-prompts/standards/error_handling.md",
        "agent-prompts/standards/logging.md",
        "agent-prompts/examples/spark_job_template.py",
    )
    assert compose(repo, "ingestion/store_master").text == prompt.text


def test_log_writes_the_record_and_the_log_with_versions(repo):
    prompt = compose(repo, "store_master")
    first = log_prompt(repo, prompt, developer="Ana Ruiz", model="claude-opus-4", now=NOW)
    second = log_prompt(
        repo, prompt, developer="Ana Ruiz", model="claude-opus-4", now=NOW, text="Refine it"
    )
    assert (
        first.name == "2026-11-27_store_master_v1.md"
        and second.name == "2026-11-27_store_master_v2.md"
    )
    text = first.read_text()
    for expected in (
        "- Timestamp: 2026-11-27 10:30:00",
        "- Developer: Ana Ruiz",
        "- Claude Model: claude-opus-4",
        "- Task Reference: tasks/ingestion/store_master.md",
        "## PROMPT\nCreate store_master",
        "## CONTEXT FILES\n- agent-prompts/tasks/ingestion/store_master.md",
        "## OUTCOME",
        "## FOLLOW-UP PROMPTS",
    ):
        assert expected in text
    assert "## PROMPT\nRefine it" in second.read_text()
    log_text = (repo / "agent-prompts/executed_prompts/prompt_log.yaml").read_text()
    assert log_text.startswith("# Audit trail of executed prompts")  # the header comment survives
    entries = yaml.safe_load(log_text)["prompts"]
    assert [e["file"] for e in entries] == [first.name, second.name]
    assert entries[0]["status"] == "PENDING" and len(entries[0]["commit"]) == 40


def test_outcome_lists_files_created_and_modified_since_the_prompt(repo):
    log_prompt(repo, compose(repo, "store_master"), developer="Ana Ruiz", model="m", now=NOW)
    (repo / "src/ingestion/retry.py").write_text("a = 1\nb = 2\nc = 3\n")
    job = repo / "src/ingestion/store_master.py"
    job.write_text(job.read_text() + "\n# retry on transient errors\n")
    record, lines = record_outcome(repo, status="PARTIAL", notes="retry added, tests pending")
    assert lines == [
        "- Modified: src/ingestion/store_master.py (+2 -0)",
        "- Generated: src/ingestion/retry.py (3 lines)",
        "- Status: PARTIAL",
        "- Notes: retry added, tests pending",
    ]
    assert "## OUTCOME\n- Modified: src/ingestion/store_master.py (+2 -0)" in record.read_text()
    assert (
        yaml.safe_load((repo / "agent-prompts/executed_prompts/prompt_log.yaml").read_text())[
            "prompts"
        ][0]["status"]
        == "PARTIAL"
    )


def test_unknown_tasks_statuses_and_records_are_clear_errors(repo):
    with pytest.raises(PromptError, match="no task 'nope'"):
        compose(repo, "nope")
    with pytest.raises(PromptError, match="no task"):
        compose(repo, "../../etc/passwd")
    with pytest.raises(PromptError, match="has no prompts yet"):
        record_outcome(repo)
    log_prompt(repo, compose(repo, "store_master"), developer="A", model="m", now=NOW)
    with pytest.raises(PromptError, match="status must be one of"):
        record_outcome(repo, status="GREAT")
    with pytest.raises(PromptError, match=r"no prompt 'x\.md'"):
        record_outcome(repo, "x.md")
