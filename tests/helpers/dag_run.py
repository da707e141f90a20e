"""`python -m tests.helpers.dag_run DAGS DAG_ID LOGICAL_DATE SOURCE`: `dag.test()` of a generated
ingestion DAG against a real metadata DB, as JSON: its run's state, each task's state, the asset
events recorded (URI and extra) and the DAGs Airflow queued to run on them. Set AIRFLOW_HOME
(holding a migrated airflow.db) and AIRFLOW__CORE__DAGS_FOLDER=DAGS first: dag.test() writes the
folder's DAGs to the DB, so the DAGs scheduled on the assets exist."""

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
    task.retries = 0  # a failed task fails the run now, not after the DAG's retry delay
run = dag.test(logical_date=datetime.fromisoformat(sys.argv[3]), run_conf={"source": sys.argv[4]})
from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel  # noqa: E402

session = settings.Session()
events = session.query(AssetEvent).all()
uris = {a.id: a.uri for a in session.query(AssetModel).all()}
queued = session.query(AssetDagRunQueue).all()
print(
    json.dumps(
        {
            "state": str(run.state),
            "tasks": {ti.task_id: str(ti.state) for ti in run.get_task_instances()},
            "events": [{"uri": uris.get(e.asset_id), "extra": e.extra} for e in events],
            "queued": sorted({(q.target_dag_id, uris.get(q.asset_id)) for q in queued}),
        }
    )
)
