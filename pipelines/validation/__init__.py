"""Validation of the generated pipelines: a static tier (seconds, no Spark) and a full tier
(Spark → Iceberg → GX → Airflow `dag.test()` on sample data), run in a subprocess, stored in
the tracker. `engine.validate` is the entry point; the tiers run in `child`."""
