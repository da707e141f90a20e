"""`python -m tests.helpers.dagbag FOLDER`: loads FOLDER in a real DagBag (no metadata DB) and
prints its DAG ids, import errors and captured warnings as JSON. Set AIRFLOW_HOME first."""

from __future__ import annotations

import json
import sys

from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
print(
    json.dumps(
        {
            "dags": sorted(bag.dag_ids),
            "errors": bag.import_errors,
            "warnings": {k: list(v) for k, v in bag.captured_warnings.items()},
        }
    )
)
