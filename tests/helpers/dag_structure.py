"""`python -m tests.helpers.dag_structure FOLDER`: every DAG of FOLDER (a real DagBag, no metadata
DB) with its schedule, tasks, edges and TriggerDagRunOperator settings, as JSON.
Set AIRFLOW_HOME first."""

from __future__ import annotations

import json
import sys

from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
out = {
    "errors": bag.import_errors,
    "warnings": {k: list(v) for k, v in bag.captured_warnings.items()},
    "dags": {},
}
for dag_id, dag in sorted(bag.dags.items()):
    tasks = {}
    for task in dag.tasks:
        info = {"downstream": sorted(task.downstream_task_ids), "operator": type(task).__name__}
        if info["operator"] == "TriggerDagRunOperator":
            info.update(
                trigger_dag_id=task.trigger_dag_id,
                wait=task.wait_for_completion,
                conf=task.conf,
                logical_date=str(task.logical_date),
                reset_dag_run=task.reset_dag_run,
            )
        tasks[task.task_id] = info
    out["dags"][dag_id] = {
        "schedule": str(getattr(dag, "schedule", None)),
        "tasks": tasks,
        "params": {k: dag.params[k] for k in dag.params},
    }
print(json.dumps(out, default=str))
