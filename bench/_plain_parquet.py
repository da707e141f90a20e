"""`spark-submit _plain_parquet.py SOURCE OUT` (PYTHONPATH = the solution): bench/cluster.py's
baseline, the generated job's own steps (`read_batch`, `quarantine` of the rejected rows, the
rows-read count) and then plain `df.write.parquet`, no Iceberg."""

import sys
import uuid
from datetime import date

from src.ingestion import pos_orders as job

source, out = sys.argv[1], sys.argv[2]
correlation_id, run_date = str(uuid.uuid4()), date(2026, 1, 1)
spark = job.create_spark_session()
df, rejected, parsed = job.read_batch(spark, source, correlation_id, run_date)
job.quarantine(rejected, job.catalog(), correlation_id, run_date)
parsed.count()
df.write.mode("overwrite").parquet(out)
parsed.unpersist()
spark.stop()
