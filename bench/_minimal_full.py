"""`_minimal_full.py SAMPLE SUITE CATALOG_URI WAREHOUSE`: the baseline of bench/validate.py's
overhead figure: a minimal hand-written script doing what one full-tier pipeline does, with the
same engines: Spark reads and transforms the sample -> Arrow -> PyIceberg append (SQL catalog) ->
read the batch back -> GX validates it against the suite."""

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

sample, suite_path, uri, warehouse = sys.argv[1:5]
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.sql.session.timeZone", "UTC")
    .config("spark.sql.shuffle.partitions", "2")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.memory", "2g")
    .getOrCreate()
)
schema = T.StructType(
    [
        T.StructField("id", T.StringType(), False),
        T.StructField("happened_at", T.TimestampType()),
        T.StructField("amount", T.DecimalType(12, 2)),
        T.StructField("quantity", T.IntegerType()),
        T.StructField("status", T.StringType()),
    ]
)
df = spark.read.schema(schema).option("header", True).csv(sample)
df = (
    df.withColumn("quantity", F.col("quantity").cast("long"))
    .withColumn("unit_price", F.expr("amount / quantity").cast("double"))
    .filter("quantity > 0")
    .dropDuplicates(["id"])
    .withColumn("_ingested_at", F.current_timestamp())
    .withColumn("_source_file", F.input_file_name())
    .withColumn("_correlation_id", F.lit("baseline"))
)
data = df.toArrow()

from pyiceberg.catalog.sql import SqlCatalog  # noqa: E402
from pyiceberg.expressions import EqualTo  # noqa: E402
from pyiceberg.transforms import DayTransform  # noqa: E402

catalog = SqlCatalog("baseline", uri=uri, warehouse=warehouse)
catalog.create_namespace_if_not_exists("bench")
table = catalog.create_table("bench.baseline", schema=data.schema)
with table.update_spec() as update:
    update.add_field("happened_at", DayTransform(), "happened_at_day")
table.append(data)
batch = table.scan(row_filter=EqualTo("_correlation_id", "baseline")).to_pandas()
for column in batch.columns:
    if getattr(batch[column].dtype, "tz", None) is not None:
        batch[column] = batch[column].dt.tz_convert("UTC").dt.tz_localize(None)

import great_expectations as gx  # noqa: E402

suite_json = json.loads(Path(suite_path).read_text())
context = gx.get_context(mode="ephemeral")
asset = context.data_sources.add_pandas("pandas").add_dataframe_asset("baseline")
gx_batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
    batch_parameters={"dataframe": batch}
)
suite = context.suites.add(gx.ExpectationSuite(**suite_json))
now = datetime.now(UTC).replace(tzinfo=None)
parameters = {}
for name, how in suite_json["meta"].get("parameters", {}).items():  # as the full tier: sample
    if how["kind"] == "freshness":
        hours = how["hours"]
        hours = hours.get("sample", hours["production"]) if isinstance(hours, dict) else hours
        parameters[name] = (now - timedelta(hours=hours)).isoformat()
    elif how["kind"] == "environment":
        parameters[name] = how["values"].get("sample", how["values"]["production"])
results = gx_batch.validate(suite, expectation_parameters=parameters)
assert results.success, [r.expectation_config.type for r in results.results if not r.success]
spark.stop()
