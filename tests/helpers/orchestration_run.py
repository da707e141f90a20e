"""`python -m tests.helpers.orchestration_run DAGS DAG_ID LOGICAL_DATE`: `dag.test()` of an
orchestration DAG against a real metadata DB, as JSON: its run's state and logical date, and each
DagRun it triggered with that run's logical date and conf. Set AIRFLOW_HOME (holding a migrated
airflow.db) and AIRFLOW__CORE__DAGS_FOLDER=DAGS first: dag.test() writes the folder's DAGs to the
DB, so the triggered DAGs exist. Nothing runs the triggered runs here (no scheduler), so the
trigger tasks do not wait for them."""

from __future__ import annotations

import json
import sys
from datetime import datetime

from airflow import settings
from airflow.dag_processing.dagbag import DagBag

settings.configure_orm()
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
dag = bag.dags[sys.argv[2]]
for task in dag.tasks:
    task.wait_for_completion = False
run = dag.test(logical_date=datetime.fromisoformat(sys.argv[3]))
from airflow.models.dagrun import DagRun  # noqa: E402  (after the ORM is configured)

session = settings.Session()
triggered = session.query(DagRun).filter(DagRun.dag_id != dag.dag_id).all()
print(
    json.dumps(
        {
            "state": str(run.state),
            "logical_date": run.logical_date.isoformat(),
            "tasks": {ti.task_id: str(ti.state) for ti in run.get_task_instances()},
            "triggered": {
                r.dag_id: {"logical_date": r.logical_date.isoformat(), "conf": r.conf}
                for r in triggered
            },
        }
    )
)
