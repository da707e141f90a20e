"""The full tier's preparation of the submission context.yaml chooses
(pipelines.validation.submitted.prepare): a local master provided for spark_submit unless the
user configured the connection, a Spark Connect connection that is not configured or whose
server is unreachable refused with a message naming it, a bad context.yaml refused with its
line. The DAG runs themselves: tests/test_dag_modes.py."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from tests.conftest import ROOT

SUBMIT = {
    "in_process": "      mode: in_process\n",
    "spark_submit": "      mode: spark_submit\n      conn_id: spark_local\n",
    "spark_connect": "      mode: spark_connect\n      conn_id: spark_local\n",
    "bad mode": "      mode: spark_sumbit\n",
}
CONTEXT = "tech_stack:\n  processing:\n    submit:\n{submit}"
CONN = "AIRFLOW_CONN_SPARK_LOCAL"


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_prepare_provides_a_local_master_and_refuses_what_cannot_run(tmp_path):
    port = closed_port()
    user_conn = json.dumps({"conn_type": "spark", "host": "spark://10.0.0.1", "port": 7077})
    connect = json.dumps({"conn_type": "spark_connect", "host": "127.0.0.1", "port": port})
    cases = [  # (submit, environment, what prepare gives)
        ("in_process", {}, {"mode": "in_process", "problem": None}),
        (
            "spark_submit",
            {CONN: None, "PYSPARK_PYTHON": None},
            {"mode": "spark_submit", "problem": None, "master": "local[2]", "provided": True},
        ),
        (
            "spark_submit",
            {CONN: None, "PHASEGATE_SPARK_MASTER": "local[1]"},
            {"mode": "spark_submit", "problem": None, "master": "local[1]", "provided": True},
        ),
        (
            "spark_submit",
            {CONN: user_conn},
            {"mode": "spark_submit", "master": "spark://10.0.0.1:7077", "provided": False},
        ),
        (
            "spark_connect",
            {CONN: None},
            {"mode": "spark_connect", "problem": "connection spark_local is not configured"},
        ),
        (
            "spark_connect",
            {CONN: connect},
            {"mode": "spark_connect", "problem": f"server 127.0.0.1:{port} (connection"},
        ),
        ("bad mode", {}, {"mode": "in_process", "problem": "context.yaml"}),
    ]
    payload = []
    for n, (submit, env, _) in enumerate(cases):
        root = tmp_path / f"case{n}"
        (root / "agent-prompts").mkdir(parents=True)
        (root / "agent-prompts/context.yaml").write_text(CONTEXT.format(submit=SUBMIT[submit]))
        payload.append({"root": str(root), "env": env})
    done = subprocess.run(
        [sys.executable, "-m", "tests.helpers.prepare_submission", json.dumps(payload)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.strip().splitlines()[-len(cases) :]]
    for (submit, env, want), got in zip(cases, results, strict=True):
        assert got["mode"] == want["mode"], (submit, env, got)
        if want.get("problem") is None and "problem" in want:
            assert got["problem"] is None, (submit, env, got)
        elif "problem" in want:
            assert want["problem"] in got["problem"], (submit, env, got)
        if "master" in want:
            assert got["facts"]["master"] == want["master"], (submit, env, got)
            assert got["facts"]["provided"] is want["provided"], (submit, env, got)
            assert want["master"].split(":")[0] in got["described"], got
    # the provided connection is a spark one naming the local master; spark-submit runs the job
    # with this Python
    provided = results[1]
    assert json.loads(provided["connection"]) == {"conn_type": "spark", "host": "local[2]"}
    assert provided["pyspark_python"] == sys.executable
    assert provided["facts"]["spark_submit"]
    # the user's connection is left as it is
    assert results[3]["connection"] == user_conn
    # the bad value is named with its field and line
    assert "tech_stack.processing.submit.mode" in results[-1]["problem"]
    assert "context.yaml:4: " in results[-1]["problem"]
