"""`python -m tests.helpers.prepare_submission CASES`: `pipelines.validation.submitted.prepare` of
each case, in a process of its own (its AIRFLOW_HOME a throwaway folder, set before Airflow is
imported; prepare changes the environment). CASES is JSON: a list of {"root": ..., "env": {...}},
each run in the environment plus `env` (a null value removes the variable). Prints one JSON line
per case: mode, facts, problem, the sentence recorded, and the connection's variable after."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")

from pipelines.validation.submitted import conn_variable, prepare

base = dict(os.environ)
for case in json.loads(sys.argv[1]):
    os.environ.clear()
    os.environ.update(base)
    for key, value in case["env"].items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    validated = prepare(Path(case["root"]))
    conn_id = validated.how.conn_id
    print(
        json.dumps(
            {
                "mode": validated.mode,
                "facts": validated.facts,
                "problem": validated.problem,
                "described": validated.describe(),
                "connection": os.environ.get(conn_variable(conn_id)) if conn_id else None,
                "pyspark_python": os.environ.get("PYSPARK_PYTHON"),
            }
        )
    )
