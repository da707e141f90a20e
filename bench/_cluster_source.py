"""`spark-submit _cluster_source.py OUT ROWS`: bench/cluster.py's source, ROWS orders as Parquet
in the spec's schema, over two days, every row valid."""

import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

out, rows = sys.argv[1], int(sys.argv[2])
spark = SparkSession.builder.appName("bench source").getOrCreate()
n = F.col("id")
spark.range(rows, numPartitions=4).select(
    F.concat(F.lit("o"), n.cast("string")).alias("order_id"),
    F.concat(F.lit("s"), (n % 500).cast("string")).alias("store_id"),
    F.timestamp_seconds(F.lit(1_767_225_600) + (n * 172_800 / rows).cast("long")).alias(
        "ordered_at"
    ),
    ((n % 10_000) / 100).cast("decimal(12,2)").alias("amount"),
    (1 + n % 50).cast("int").alias("quantity"),
    F.element_at(
        F.array(F.lit("paid"), F.lit("refunded"), F.lit("void")), (n % 3 + 1).cast("int")
    ).alias("status"),
    F.concat(F.lit("o"), n.cast("string"), F.lit("@example.com")).alias("email"),
).write.mode("overwrite").parquet(out)
spark.stop()
