"""How the DAGs run the jobs (pipelines.submission): the team's choice in context.yaml, the
in-process default without one, and a wrong value named with its file, line and field."""

from __future__ import annotations

import pytest

from pipelines.errors import SpecError
from pipelines.submission import CONTEXT, Submission, submission


def _context(root, processing: str) -> None:
    path = root / CONTEXT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "project: retail\ntech_stack:\n  processing:\n    tool: Apache Spark\n" + processing
    )


@pytest.mark.parametrize(
    ("processing", "expected"),
    [
        ("", Submission("in_process")),
        ("    submit:\n      mode: in_process\n", Submission("in_process")),
        ("    submit: spark_submit\n", Submission("spark_submit", "spark_default")),
        (
            "    submit:\n      mode: spark_submit\n      conn_id: spark_prod\n",
            Submission("spark_submit", "spark_prod"),
        ),
        (
            "    submit:\n      mode: spark_connect\n",
            Submission("spark_connect", "spark_connect_default"),
        ),
    ],
)
def test_the_choice_in_context_yaml(tmp_path, processing, expected):
    _context(tmp_path, processing)
    assert submission(tmp_path) == expected


def test_no_context_is_the_in_process_default(tmp_path):
    assert submission(tmp_path) == Submission() and Submission().in_process


@pytest.mark.parametrize(
    ("processing", "line", "field", "problem"),
    [
        (
            "    submit:\n      mode: yarn\n",
            6,
            "tech_stack.processing.submit.mode",
            "'yarn' is not one of",
        ),
        (
            "    submit:\n      mode: in_process\n      conn_id: x\n",
            7,
            "tech_stack.processing.submit.conn_id",
            "uses no connection",
        ),
        (
            "    submit:\n      mode: spark_submit\n      conn_id: 'a b'\n",
            7,
            "tech_stack.processing.submit.conn_id",
            "not an Airflow connection id",
        ),
        (
            "    submit:\n      master: local\n",
            6,
            "tech_stack.processing.submit.master",
            "unknown key",
        ),
    ],
)
def test_a_wrong_value_names_file_line_and_field(tmp_path, processing, line, field, problem):
    _context(tmp_path, processing)
    with pytest.raises(SpecError) as caught:
        submission(tmp_path)
    error = caught.value
    assert (error.path, error.line, error.field) == (str(tmp_path / CONTEXT), line, field), str(
        error
    )
    assert problem in error.problem
