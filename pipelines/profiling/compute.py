"""The statistics of a source, on Spark, in a few passes over one (cached) DataFrame:

1. `scan`: per column, nulls, empty strings, lengths, approximate distinct counts, null markers
   (`NULL`, `N/A`…), and for text columns how many values fit each type and pattern class (int,
   long, decimal and its precision, dates in several formats, timestamps with and without zone,
   emails, UUIDs, phone- and card-like numbers, numeric-looking text with leading zeros).
2. `types`: each column typed as inferred (the cast that loses nothing), then min / max / mean /
   stddev / quantiles, exact distinct counts on small data, and the values that fail the type
   (the rows Spark would turn into nulls, or the job would reject).
3. `values`: top values of low-cardinality columns and histograms of numeric and time columns,
   in one grouped job.
4. `keys`: duplicate rows, single-column keys (verified exactly) and two-column keys.

Sensitive columns (emails, phone- or card-like numbers, person names) are flagged, and none of
their values (min, max, top values, examples) leaves this module: the profile holds counts only.

Sampled mode (`sample_rows`) profiles about that many rows: a large CSV or JSON-lines source
arrives block-sampled (pipelines.profiling.blocks: blocks of whole lines spread over the files,
its rows estimated from their bytes); any other is read whole and Bernoulli-sampled here. Every
statistic of such a profile is labelled `sampled` (`basis`), and the profile says how
(`sampling`: "blocks" or "rows").
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pipelines.errors import ProfileError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from pipelines.profiling.source import SourceFiles

Progress = Callable[[str, int, int], None]
PASSES = ("read", "scan", "types", "values", "keys")
NULL_MARKERS = ("NULL", "null", "Null", "N/A", "n/a", "NA", "\\N", "None", "none", "nil", "-")
MARKER_ORDER = tuple(sorted(NULL_MARKERS))  # Spark's order of strings (UTF-8 bytes; all ASCII)
SMALL_ROWS = 200_000  # up to here, distinct counts are exact
TOP_VALUES = 10
TOP_CARDINALITY = 1_000  # columns with more distinct values get no top-value list
BINS = 10
TYPE_SHARE = 0.95  # a type is inferred when at least this share of the values fit it
CLASS_SHARE = 0.8  # a pattern class (or sensitive kind) names a column from this share on
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
INT_RANGE = (-(2**31), 2**31 - 1)
RESAMPLE_ABOVE = 2  # a block sample of more than this many times sample_rows is sampled again

DATE_FORMATS = {  # Spark datetime pattern: a regex that shapes the text first
    "yyyy-MM-dd": r"^\d{4}-\d{2}-\d{2}$",
    "dd/MM/yyyy": r"^\d{2}/\d{2}/\d{4}$",
    "MM/dd/yyyy": r"^\d{2}/\d{2}/\d{4}$",
    "yyyy/MM/dd": r"^\d{4}/\d{2}/\d{2}$",
    "dd.MM.yyyy": r"^\d{2}\.\d{2}\.\d{4}$",
    "yyyyMMdd": r"^\d{8}$",
}
TIMESTAMP_FORMATS = {
    "dd/MM/yyyy HH:mm:ss": r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$",
    "MM/dd/yyyy HH:mm:ss": r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$",
    "dd/MM/yyyy HH:mm": r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$",
    "yyyy/MM/dd HH:mm:ss": r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}$",
}
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$"
ISO_ZONE = r"(Z|[+-]\d{2}:?\d{2})$"
PATTERNS = {  # pattern classes: name -> (Java/Python-compatible regex for the `regex` rule)
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "numeric": r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$",
}
DIGITS = tuple("0123456789")
NUMBER_STARTS = (*DIGITS, "+", "-", ".")  # the first character of every numeric-looking shape
INT_TEXT = r"^[+-]?\d+$"
DECIMAL_TEXT = r"^[+-]?\d+\.\d+$"
LEADING_ZERO = r"^[+-]?0\d+(\.\d+)?$"
BOOLEAN_TEXT = r"(?i)^(true|false)$"
PHONE_TEXT = r"^(\+|00)?[0-9][0-9 ().-]{5,18}[0-9]$"
PHONE_SHAPE = r"^(\+|00|0)|[ ().-]"  # a separator or an international / trunk prefix
CARD_TEXT = r"^(\d[ -]?){12,18}\d$"
NAME_TEXT = r"^[A-Z][a-z'-]+( [A-Z][a-z'-]+)*$"
NAME_COLUMN = re.compile(
    r"(^|_)(first|last|given|family|full|middle|sur|customer|person|contact)_?name$|^surname$|^name$",
    re.I,
)
PHONE_COLUMN = re.compile(r"phone|mobile|cell|tel(ephone)?$|fax", re.I)
FRESH_COLUMN = re.compile(r"(_at|_ts|_time|_date|_on)$|updated|modified|created|timestamp", re.I)
SPEC_TYPES = {
    "string": "string",
    "int": "int",
    "integer": "int",
    "bigint": "long",
    "long": "long",
    "smallint": "int",
    "tinyint": "int",
    "float": "float",
    "double": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp_ntz": "timestamp",
    "binary": "binary",
}
NUMERIC = ("int", "long", "float", "double")


def spec_type(spark_type: str) -> str | None:
    """The spec's type for a Spark simple type name (`decimal(12,2)` included), or None."""
    if spark_type.startswith("decimal"):
        return spark_type.replace(" ", "")
    return SPEC_TYPES.get(spark_type)


def is_numeric(kind: str | None) -> bool:
    return bool(kind) and (kind in NUMERIC or kind.startswith("decimal"))


def read_source(spark: SparkSession, source: SourceFiles) -> DataFrame:
    """The source as Spark reads it for profiling: CSV every column as text (types are
    inferred here, from the text), JSON and Parquet with their own types."""
    options = {
        k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in source.options.items()
    }
    if source.format == "csv":
        options.setdefault("header", "true")
        options["inferSchema"] = "false"
    options.setdefault("mode", "PERMISSIVE")
    if source.format == "parquet":
        options.pop("mode")
    reader = spark.read.format(source.format).options(**options)
    return reader.load(list(source.readable))


def profile(
    spark: SparkSession,
    source: SourceFiles,
    *,
    sample_rows: int | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The profile of `source` as a JSON-ready dict (see the module's docstring)."""
    return _Profiler(spark, source, sample_rows, progress or (lambda *a: None), now).run()


class _Profiler:
    def __init__(self, spark, source, sample_rows, progress, now) -> None:
        self.spark, self.source, self.sample_rows = spark, source, sample_rows
        self.progress, self.now = progress, now or datetime.now(UTC)
        self.timings: dict[str, float] = {}

    def _pass(self, name: str) -> None:
        self._started = time.perf_counter()
        self.progress(name, PASSES.index(name) + 1, len(PASSES))

    def _done(self, name: str) -> None:
        self.timings[name] = round(time.perf_counter() - self._started, 3)

    def run(self) -> dict[str, Any]:
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        self._pass("read")
        try:
            df = read_source(self.spark, self.source)
            fields = df.schema.fields
        except Exception as exc:
            raise ProfileError(
                f"{self.source.location}: Spark cannot read it: {_cause(exc)}"
            ) from None
        if not fields:
            raise ProfileError(f"{self.source.location}: no columns found")
        names = [f.name for f in fields]
        corrupt = [n for n in names if n == "_corrupt_record"]
        if corrupt and len(names) == 1:
            raise ProfileError(
                f"{self.source.location}: not one record parses as {self.source.format}"
            )
        basis = "all rows"
        estimated = None
        if self.source.block_sampled:
            # the source is already a sample (pipelines.profiling.blocks): its rows estimated
            # from the bytes of the sampled lines; sampled again only when it is much larger
            basis, estimated = "sampled", self.source.rows_estimated
            staged = self.source.rows_staged or 0
            if self.sample_rows and staged > RESAMPLE_ABOVE * self.sample_rows:
                df = df.sample(False, self.sample_rows / staged, seed=17)
            # a few MB of staged lines are one or two file splits: one core would run every
            # pass (the whole source's many splits kept both busy: slower than reading it all)
            cores = self.spark.sparkContext.defaultParallelism
            if df.rdd.getNumPartitions() < cores:
                df = df.repartition(cores)
        elif self.sample_rows:
            estimated = self._estimate_rows(df)
            fraction = min(1.0, self.sample_rows / max(estimated, 1))
            if fraction < 1.0:
                df = df.sample(False, fraction, seed=17)
                basis = "sampled"
        df = df.persist(StorageLevel.MEMORY_AND_DISK)
        self._done("read")
        try:
            result = self._profile(df, F, basis, estimated)
        finally:
            df.unpersist()
        return result

    def _estimate_rows(self, df: DataFrame) -> int:
        """Rows in the source, estimated from the bytes of its first rows (Parquet: counted
        from the files' metadata)."""
        from pyspark.sql import functions as F

        if self.source.format == "parquet":
            return df.count()
        head = (
            df.limit(1000)
            .select(
                F.sum(
                    F.length(
                        F.concat_ws(",", *[F.col(f"`{n}`").cast("string") for n in df.columns])
                    )
                    + 1
                ).alias("b"),
                F.count(F.lit(1)).alias("n"),
            )
            .first()
        )
        if not head or not head["n"]:
            return 0
        per_row = max(1.0, head["b"] / head["n"])
        return int(self.source.bytes / per_row)

    # --- the passes ------------------------------------------------------------------------------

    def _profile(self, df: DataFrame, F, basis: str, estimated: int | None) -> dict[str, Any]:
        fields = [f for f in df.schema.fields if f.name != "_corrupt_record"]
        text_cols = [f.name for f in fields if f.dataType.simpleString() == "string"]
        given_null = {k.lower(): v for k, v in self.source.options.items()}.get("nullvalue")

        # 1. scan
        self._pass("scan")
        # one row per (column, value): the plan's size does not grow with the columns
        stacked = df.select(
            F.explode(
                F.array(
                    *[
                        F.struct(
                            F.lit(i).alias("i"),
                            F.lit(f.name in text_cols).alias("t"),
                            F.col(f"`{f.name}`").cast("string").alias("v"),
                        )
                        for i, f in enumerate(fields)
                    ]
                )
            ).alias("s")
        ).select("s.i", "s.t", "s.v")
        v, is_text = F.col("v"), F.col("t")
        stacked = stacked.select("i", "t", "v", *self._shared_matches(v, is_text, F))
        aggs = [
            F.count(v).alias("nonnull"),
            F.approx_count_distinct(v).alias("approx"),
            *self._text_scan(v, is_text, F),
        ]
        # two aggregations of ~16 expressions each, not one of ~33: the JVM runs Spark's code
        # for the one large aggregation 1.7x slower than for both halves, the stack built twice
        # included (100,000 rows x 20 columns: 4.98 -> 2.95 s)
        half = (len(aggs) + 1) // 2
        scanned: dict[int, dict[str, Any]] = {}
        for part in (aggs[:half], aggs[half:]):
            for row in stacked.groupBy("i").agg(*part).collect():
                scanned.setdefault(row["i"], {}).update(row.asDict())
        first = {"__rows": df.count()}
        for i, found in scanned.items():
            first.update({f"{i}_{k}": val for k, val in found.items() if k != "i"})
            at = first.pop(f"{i}_marker_at", None)
            first[f"{i}_marker"] = MARKER_ORDER[at - 1] if at else None
        rows = first["__rows"]
        if rows == 0:
            if self.source.format == "csv":
                raise ProfileError(
                    f"{self.source.location}: a header with no data rows "
                    f"({len(fields)} column(s)): nothing to profile"
                )
            raise ProfileError(f"{self.source.location}: no rows: nothing to profile")
        marker = None if given_null is not None else _null_marker(first, fields, text_cols)
        self._done("scan")

        columns = []
        for i, f in enumerate(fields):
            columns.append(self._column(i, f, first, rows, marker))

        # 2. types
        self._pass("types")
        typed, aggs = {}, []
        for i, col in enumerate(columns):
            expr = self._typed(col, marker, F)
            typed[col["name"]] = expr
            aggs += self._type_aggs(i, col, expr, rows, F, marker)
        second = df.agg(*aggs).first().asDict() if aggs else {}
        if rows <= SMALL_ROWS:
            second.update(self._exact_distincts(df, columns, typed, F))
        for i, col in enumerate(columns):
            self._fill_types(i, col, second, rows)
        self._failing_examples(df, columns, typed, marker, F)
        self._done("types")

        # 3. values
        self._pass("values")
        self._values(df, columns, typed, F)
        self._done("values")

        # 4. keys
        self._pass("keys")
        duplicates = rows - df.distinct().count()
        keys = self._keys(df, columns, rows, typed, F)
        self._done("keys")

        for col in columns:
            col["basis"] = basis
            if col["sensitive"]:
                _withhold(col)
        freshness = _freshness(columns)
        return {
            "rows": rows if basis == "all rows" else None,
            "rows_profiled": rows,
            "rows_estimated": estimated,
            "basis": basis,
            "sample_rows": self.sample_rows,
            "sampling": None
            if basis == "all rows"
            else "blocks"
            if self.source.block_sampled
            else "rows",
            "null_marker": marker,
            "duplicate_rows": duplicates,
            "columns": columns,
            "keys": keys,
            "freshness": freshness,
            "malformed_records": None,
            "timings": self.timings,
        }

    @staticmethod
    def _guards(c, is_text, F, guarded: bool = True) -> dict[str, Any]:
        """Cheap tests that every value a pattern matches passes, with no conversion of Spark's
        UTF-8 string to a Java one (which `rlike` pays per call): its first character, its
        length, an `@`, a `.`. `guarded=False`: each is `true` (the tests compare)."""
        first, length = F.substring(c, 1, 1), F.length(c)
        anything = F.lit(True)

        def sized(low: int, high: int | None = None):
            """Java's `$` also matches before a line terminator (\n, \r\n) at the end."""
            if not guarded:
                return anything
            return length >= low if high is None else length.between(low, high + 2)

        def test(expr):
            return expr if guarded else anything

        return {
            "nonempty": is_text & c.isNotNull() & (c != ""),
            "length": length,
            "sized": sized,
            "numberlike": test(first.isin(*NUMBER_STARTS)),  # numbers, dates, phones, cards
            "digit": test(first.isin(*DIGITS)),
            "upper": test(first.between("A", "Z")),
            "at": test(c.contains("@")),
            "point": test(c.contains(".")),  # a decimal
            "zero": test(first.isin("+", "-", "0")),  # a leading zero, maybe signed
        }

    def _shared_matches(self, c, is_text, F, guarded: bool = True) -> list:
        """The patterns several checks test (an integer's, a decimal's, an ISO timestamp's),
        each matched once per value as a column of the projection the scan aggregates (Spark
        keeps a projection whose costly expression is used more than once, rather than copying
        it into each use); `_text_scan` reads them by name."""
        g = self._guards(c, is_text, F, guarded)
        return [
            (g["nonempty"] & g["numberlike"] & c.rlike(INT_TEXT)).alias("_int"),
            (g["nonempty"] & g["numberlike"] & g["point"] & c.rlike(DECIMAL_TEXT)).alias("_dec"),
            (g["nonempty"] & g["digit"] & g["sized"](16) & c.rlike(ISO_TIMESTAMP)).alias("_iso"),
        ]

    def _text_scan(self, c, is_text, F, guarded: bool = True) -> list:
        """The text checks of every value, as aggregations over a DataFrame that holds the
        `_shared_matches` columns. Each regular expression is behind its guards (`_guards`):
        Spark evaluates `&` left to right and stops at the first false, so a value meets only
        the expressions that could match it (a word skips the ~20 numeric and date ones)."""
        g = self._guards(c, is_text, F, guarded)
        nonempty, length, sized = g["nonempty"], g["length"], g["sized"]
        numberlike, digit, upper = g["numberlike"], g["digit"], g["upper"]
        at, zero = g["at"], g["zero"]
        is_int, is_dec, is_iso = F.col("_int"), F.col("_dec"), F.col("_iso")

        def share(name, cond):
            return F.sum(F.when(nonempty & cond, 1).otherwise(0)).alias(name)

        aggs = [
            F.sum(F.when(is_text & (c == ""), 1).otherwise(0)).alias("empty"),
            F.min(F.when(nonempty, length)).alias("lenmin"),
            F.max(F.when(nonempty, length)).alias("lenmax"),
            F.sum(F.when(is_text & c.isin(*NULL_MARKERS), 1).otherwise(0)).alias("markers"),
            # the greatest marker present, as its place in Spark's order of the markers: a string
            # in an aggregation's buffer makes Spark sort every value (SortAggregate); a number not
            F.max(
                F.when(
                    is_text & c.isin(*NULL_MARKERS),
                    F.array_position(F.array(*[F.lit(m) for m in MARKER_ORDER]), c),
                )
            ).alias("marker_at"),
            share("bool", sized(4, 5) & c.rlike(BOOLEAN_TEXT)),
            share("int", is_int & c.try_cast("int").isNotNull()),
            share("long", is_int & c.try_cast("long").isNotNull()),
            share("lead0", zero & c.rlike(LEADING_ZERO)),
            share("digits", digit & c.rlike(r"^[0-9]+$")),
            share("decimal", is_dec),
            share("numeric", numberlike & c.rlike(PATTERNS["numeric"])),
            F.max(
                F.when(
                    is_int | is_dec,
                    F.length(F.regexp_extract(c, r"^[+-]?0*(\d*)", 1)),
                )
            ).alias("intdigits"),
            F.max(
                F.when(
                    is_dec,
                    F.length(F.regexp_extract(c, r"\.(\d+)$", 1)),
                )
            ).alias("scale"),
            share(
                "iso",
                is_iso & c.try_cast("timestamp").isNotNull(),
            ),
            share("isozone", is_iso & c.rlike(ISO_ZONE)),
            share("email", at & c.rlike(PATTERNS["email"])),
            share("uuid", sized(36, 36) & c.rlike(PATTERNS["uuid"])),
            share("phone", numberlike & sized(7, 22) & c.rlike(PHONE_TEXT) & c.rlike(PHONE_SHAPE)),
            share("card", digit & sized(13) & c.rlike(CARD_TEXT) & _luhn(c, F)),
            share("name", upper & c.rlike(NAME_TEXT)),
        ]
        # each format's text is as long as the format itself (yyyy-MM-dd: 10 characters)
        for n, (fmt, shape) in enumerate(DATE_FORMATS.items()):
            when = digit & sized(len(fmt), len(fmt)) & c.rlike(shape)
            aggs.append(share(f"date{n}", when & F.try_to_timestamp(c, F.lit(fmt)).isNotNull()))
        for n, (fmt, shape) in enumerate(TIMESTAMP_FORMATS.items()):
            when = digit & sized(len(fmt), len(fmt)) & c.rlike(shape)
            aggs.append(share(f"ts{n}", when & F.try_to_timestamp(c, F.lit(fmt)).isNotNull()))
        return aggs

    def _column(self, i: int, f, first: dict, rows: int, marker: str | None) -> dict[str, Any]:
        name = f.name
        spark_type = f.dataType.simpleString()
        nonnull = first[f"{i}_nonnull"]
        col: dict[str, Any] = {
            "name": name,
            "spark_type": spark_type,
            "nulls": rows - nonnull,
            "empties": 0,
            "distinct": first[f"{i}_approx"],
            "distinct_exact": False,
            "patterns": {},
            "sensitive": None,
            "date_format": None,
            "timestamp_format": None,
            "failing": 0,
            "failing_examples": [],
            "notes": [],
        }
        if spark_type != "string":
            kind = spec_type(spark_type)
            col["type"] = kind or spark_type
            col["lossless"] = kind
            if kind is None:
                col["notes"].append(
                    f"{spark_type}: nested or not a spec type; left out of the spec"
                )
            col["sensitive"] = _sensitive_by_name(name)
            col["values"] = nonnull
            return col
        markers = first[f"{i}_markers"] if marker else 0
        # null markers read as nulls (the drafted spec's nullValue)
        if marker and first.get(f"{i}_marker") == marker:
            col["nulls"] += markers
        empties = first[f"{i}_empty"]
        col["empties"] = empties
        col["length"] = {"min": first[f"{i}_lenmin"], "max": first[f"{i}_lenmax"]}
        n = nonnull - empties - (markers if marker and first.get(f"{i}_marker") == marker else 0)
        counts = {k.split("_", 1)[1]: v for k, v in first.items() if k.startswith(f"{i}_")}
        patterns = {}
        for key, label in (
            ("email", "email"),
            ("uuid", "uuid"),
            ("numeric", "numeric-looking"),
            ("lead0", "numeric with leading zeros"),
            ("digits", "digits only"),
            ("isozone", "timestamp with zone"),
            ("iso", "ISO timestamp"),
            ("phone", "phone-like"),
            ("card", "card-like (Luhn)"),
        ):
            if counts.get(key):
                patterns[label] = counts[key]
        for n_fmt, fmt in enumerate(DATE_FORMATS):
            if counts.get(f"date{n_fmt}"):
                patterns[f"date {fmt}"] = counts[f"date{n_fmt}"]
        for n_fmt, fmt in enumerate(TIMESTAMP_FORMATS):
            if counts.get(f"ts{n_fmt}"):
                patterns[f"timestamp {fmt}"] = counts[f"ts{n_fmt}"]
        col["patterns"] = patterns
        col["values"] = n
        kind, fits, extra = _infer(counts, n)
        col["type"] = kind
        col["lossless"] = kind
        col["failing"] = max(0, n - fits) if kind != "string" else 0
        col.update(extra)
        if counts.get("lead0") and kind == "string" and counts.get("numeric", 0) >= n * TYPE_SHARE:
            col["notes"].append(
                "numeric-looking with leading zeros: kept as text (a number would drop them)"
            )
        if kind.startswith("decimal"):
            col["notes"].append(f"{kind} keeps every digit; double would round")
        col["sensitive"] = _sensitive(name, counts, n, kind)
        return col

    def _typed(self, col: dict, marker: str | None, F):
        c = F.col(f"`{col['name']}`")
        if col["spark_type"] != "string":
            return c if col["lossless"] else None
        if marker:
            c = F.when(c == marker, F.lit(None)).otherwise(c)
        c = F.when(c != "", c)
        kind = col["type"]
        if kind == "string":
            return c
        if kind == "date":
            return F.try_to_timestamp(c, F.lit(col["date_format"])).cast("date")
        if kind == "timestamp":
            fmt = col["timestamp_format"]
            return F.try_to_timestamp(c, F.lit(fmt)) if fmt else c.try_cast("timestamp")
        if kind == "boolean":
            return F.when(c.rlike(BOOLEAN_TEXT), F.lower(c) == "true")
        return c.try_cast(kind)

    def _type_aggs(self, i: int, col: dict, expr, rows: int, F, marker) -> list:
        if expr is None:
            return []
        kind = col["type"]
        aggs = []
        if kind in ("date", "timestamp") or is_numeric(kind):
            aggs += [F.min(expr).alias(f"{i}_min"), F.max(expr).alias(f"{i}_max")]
        if is_numeric(kind):
            d = expr.cast("double")
            aggs += [
                F.mean(d).alias(f"{i}_mean"),
                F.stddev(d).alias(f"{i}_stddev"),
                F.percentile_approx(d, list(QUANTILES), 10_000).alias(f"{i}_q"),
            ]
        return aggs

    def _exact_distincts(self, df, columns, typed, F) -> dict[str, int]:
        """Exact distinct counts of the typed values (not of doubles), in one aggregation over a
        (column, value) stack: one distinct aggregate grouped by the column, where a
        `count(DISTINCT)` per column would make Spark expand every row once per column."""
        parts = [
            F.struct(F.lit(i).alias("i"), typed[col["name"]].cast("string").alias("v"))
            for i, col in enumerate(columns)
            if typed[col["name"]] is not None and col["type"] not in ("double", "float")
        ]
        if not parts:
            return {}
        counted = (
            df.select(F.explode(F.array(*parts)).alias("p"))
            .groupBy("p.i")
            .agg(F.count_distinct("p.v").alias("n"))
            .collect()
        )
        return {f"{row['i']}_distinct": row["n"] for row in counted}

    def _fill_types(self, i: int, col: dict, second: dict, rows: int) -> None:
        if f"{i}_distinct" in second:
            col["distinct"] = second[f"{i}_distinct"]
            col["distinct_exact"] = True
        if f"{i}_min" in second:
            col["min"], col["max"] = _plain(second[f"{i}_min"]), _plain(second[f"{i}_max"])
        if f"{i}_mean" in second:
            col["mean"] = _plain(second[f"{i}_mean"])
            col["stddev"] = _plain(second[f"{i}_stddev"])
            q = second[f"{i}_q"] or []
            col["quantiles"] = {
                f"p{int(p * 100)}": _plain(v) for p, v in zip(QUANTILES, q, strict=False)
            }
        if col["spark_type"] != "string" and col["type"] == "long" and "min" in col:
            lo, hi = col["min"], col["max"]
            if lo is not None and INT_RANGE[0] <= lo and hi <= INT_RANGE[1]:
                col["lossless"] = "int"

    def _failing_examples(self, df, columns, typed, marker, F) -> None:
        for col in columns:
            if not col["failing"] or col["sensitive"] or col["spark_type"] != "string":
                continue
            c = F.col(f"`{col['name']}`")
            cond = c.isNotNull() & (c != "") & typed[col["name"]].isNull()
            if marker:
                cond = cond & (c != marker)
            rows = df.where(cond).select(c).distinct().limit(5).collect()
            col["failing_examples"] = [r[0] for r in rows]

    def _values(self, df, columns, typed, F) -> None:
        parts = []
        for col in columns:
            expr = typed[col["name"]]
            if expr is None or col["sensitive"]:
                continue
            name = F.lit(col["name"])
            kind = col["type"]
            if col["distinct"] <= min(TOP_CARDINALITY, col.get("values", 0) / 2):
                parts.append(
                    F.struct(name.alias("c"), F.lit("v").alias("k"), expr.cast("string").alias("v"))
                )
            lo, hi = col.get("min"), col.get("max")
            if (is_numeric(kind) or kind in ("date", "timestamp")) and lo is not None and lo != hi:
                x, lo_x, hi_x = _as_number(expr, kind, lo, hi, F)
                if kind in ("int", "long", "date") and hi_x - lo_x < BINS:  # one bin a value
                    bucket = (x - lo_x).cast("long")
                    col["histogram"] = {
                        "edges": [
                            _edge(lo_x + n, kind) if kind == "date" else lo + n
                            for n in range(int(hi_x - lo_x) + 2)
                        ],
                        "counts": [],
                    }
                else:
                    width = (hi_x - lo_x) / BINS
                    bucket = F.least(F.floor((x - lo_x) / width), F.lit(BINS - 1)).cast("long")
                    col["histogram"] = {
                        "edges": [_edge(lo_x + n * width, kind) for n in range(BINS + 1)],
                        "counts": [],
                    }
                parts.append(
                    F.struct(
                        name.alias("c"), F.lit("h").alias("k"), bucket.cast("string").alias("v")
                    )
                )
        if not parts:
            return
        grouped = (
            df.select(F.explode(F.array(*parts)).alias("p"))
            .select("p.c", "p.k", "p.v")
            .where(F.col("v").isNotNull())
            .groupBy("c", "k", "v")
            .count()
            .collect()
        )
        by_col: dict[tuple[str, str], list[tuple[str, int]]] = {}
        for row in grouped:
            by_col.setdefault((row["c"], row["k"]), []).append((row["v"], row["count"]))
        for col in columns:
            values = by_col.get((col["name"], "v"))
            if values is not None:
                values.sort(key=lambda kv: (-kv[1], kv[0]))
                col["top"] = [[v, n] for v, n in values[:TOP_VALUES]]
                col["categories"] = sorted(v for v, _ in values) if len(values) <= 50 else None
            hist = col.get("histogram")
            if hist is not None:
                counts = dict(by_col.get((col["name"], "h"), []))
                hist["counts"] = [counts.get(str(n), 0) for n in range(len(hist["edges"]) - 1)]

    def _keys(self, df, columns, rows, typed, F) -> dict[str, list]:
        usable = [
            c
            for c in columns
            if c["nulls"] == 0
            and c["empties"] == 0
            and c["failing"] == 0
            and typed[c["name"]] is not None
            and c["type"] in ("string", "int", "long", "date", "timestamp")
        ]
        # a moment alone is rarely a key, even when no value repeats; with another column it may be
        single = [
            c
            for c in usable
            if c["type"] in ("string", "int", "long")
            and c["distinct"] >= rows * (1.0 if c["distinct_exact"] else 0.95)
        ]
        verify = [c for c in single if not c["distinct_exact"]]
        if verify:
            exact = df.agg(
                *[
                    F.count_distinct(F.col(f"`{c['name']}`")).alias(str(n))
                    for n, c in enumerate(verify)
                ]
            ).first()
            for n, c in enumerate(verify):
                c["distinct"], c["distinct_exact"] = exact[str(n)], True
        keys = [c["name"] for c in single if c["distinct"] == rows]
        composite: list[list[str]] = []
        if not keys:
            ranked = sorted(usable, key=lambda c: -c["distinct"])[:5]
            pairs = [
                (a, b)
                for n, a in enumerate(ranked)
                for b in ranked[n + 1 :]
                if a["distinct"] * b["distinct"] >= rows
            ]
            if pairs:
                counted = df.agg(
                    *[
                        F.count_distinct(F.col(f"`{a['name']}`"), F.col(f"`{b['name']}`")).alias(
                            str(n)
                        )
                        for n, (a, b) in enumerate(pairs)
                    ]
                ).first()
                composite = [
                    [a["name"], b["name"]]
                    for n, (a, b) in enumerate(pairs)
                    if counted[str(n)] == rows
                ][:3]
        return {"single": keys, "composite": composite}


# --- inference -----------------------------------------------------------------------------------


def _infer(counts: dict[str, int], n: int) -> tuple[str, int, dict]:
    """(spec type, how many values fit it, extra facts) for a text column of `n` values."""
    if n == 0:
        return "string", 0, {}

    def fits(key: str) -> int:
        return counts.get(key) or 0

    def enough(k: int) -> bool:
        return k >= n * TYPE_SHARE

    lead0 = fits("lead0")
    if enough(fits("bool")):
        return "boolean", fits("bool"), {}
    if enough(fits("int")) and not lead0:
        return "int", fits("int"), {}
    if enough(fits("long")) and not lead0:
        return "long", fits("long"), {}
    plain = fits("long") + fits("decimal")
    if enough(plain) and fits("decimal") and not lead0:
        scale = counts.get("scale") or 0
        precision = max(1, (counts.get("intdigits") or 0) + scale)
        if precision <= 38:
            return f"decimal({max(precision, scale)},{scale})", plain, {}
    if enough(fits("numeric")) and not lead0:
        return "double", fits("numeric"), {}
    for n_fmt, fmt in enumerate(DATE_FORMATS):
        if enough(fits(f"date{n_fmt}")):
            return "date", fits(f"date{n_fmt}"), {"date_format": fmt}
    if enough(fits("iso")):
        return "timestamp", fits("iso"), {}
    for n_fmt, fmt in enumerate(TIMESTAMP_FORMATS):
        if enough(fits(f"ts{n_fmt}")):
            return "timestamp", fits(f"ts{n_fmt}"), {"timestamp_format": fmt}
    return "string", n, {}


def _null_marker(first: dict, fields, text_cols: list[str]) -> str | None:
    """The one text that stands for null in this source (Spark's CSV nullValue is one), when a
    column holds it: the marker found in the most columns."""
    seen: dict[str, int] = {}
    for i, f in enumerate(fields):
        if f.name in text_cols and first.get(f"{i}_markers"):
            marker = first.get(f"{i}_marker")
            seen[marker] = seen.get(marker, 0) + 1
    return max(seen, key=lambda m: (seen[m], m)) if seen else None


def _sensitive(name: str, counts: dict[str, int], n: int, kind: str = "string") -> str | None:
    """The kind of personal data a column seems to hold, or None. A phone number's shape
    (digits with dashes, dots or spaces) is also a date's (2026-01-02), a decimal's (12.3456)
    or a plain number's: a column whose values have such a type (`kind`, as inferred) is a
    phone number only when its name says so."""
    if n and (counts.get("email") or 0) >= n * CLASS_SHARE:
        return "email"
    if n and (counts.get("card") or 0) >= n * CLASS_SHARE:
        return "card number"
    if (
        n
        and (counts.get("phone") or 0) >= n * CLASS_SHARE
        and (kind == "string" or PHONE_COLUMN.search(name))
    ):
        return "phone number"
    if NAME_COLUMN.search(name) and (counts.get("name") or 0) >= n * CLASS_SHARE:
        return "person name"
    return _sensitive_by_name(name)


def _sensitive_by_name(name: str) -> str | None:
    if PHONE_COLUMN.search(name):
        return "phone number"
    if re.search(r"e_?mail", name, re.I):
        return "email"
    if NAME_COLUMN.search(name):
        return "person name"
    return None


def _withhold(col: dict) -> None:
    """A sensitive column keeps its counts; none of its values stays in the profile."""
    for key in ("min", "max", "mean", "stddev", "quantiles", "top", "categories", "histogram"):
        col.pop(key, None)
    col["failing_examples"] = []
    col["withheld"] = True


def _freshness(columns: list[dict]) -> dict[str, Any] | None:
    times = [c for c in columns if c["type"] in ("date", "timestamp") and c.get("max") is not None]
    if not times:
        return None
    best = max(times, key=lambda c: (bool(FRESH_COLUMN.search(c["name"])), str(c["max"])))
    return {"column": best["name"], "latest": best["max"], "type": best["type"]}


def _luhn(c, F):
    """Spark SQL: the digits of `c` pass the Luhn check (card numbers do)."""
    digits = F.reverse(F.regexp_replace(c, "[^0-9]", ""))
    doubled = F.transform(
        F.split(digits, ""),
        lambda x, i: F.when(
            i % 2 == 1,
            F.when(x.cast("int") * 2 > 9, x.cast("int") * 2 - 9).otherwise(x.cast("int") * 2),
        ).otherwise(x.cast("int")),
    )
    return F.aggregate(doubled, F.lit(0), lambda acc, x: acc + x) % 10 == 0


def _as_number(expr, kind: str, lo, hi, F):
    if kind == "date":
        return F.datediff(expr, F.lit("1970-01-01").cast("date")).cast("double"), _num(lo), _num(hi)
    if kind == "timestamp":
        return F.unix_micros(expr).cast("double") / 1e6, _num(lo), _num(hi)
    return expr.cast("double"), float(lo), float(hi)


def _num(value) -> float:
    """A date or timestamp (as the profile holds it: ISO text) in days / seconds since 1970."""
    if len(value) == 10:
        return float((date.fromisoformat(value) - date(1970, 1, 1)).days)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _edge(x: float, kind: str):
    if kind == "date":
        return date.fromordinal(date(1970, 1, 1).toordinal() + math.floor(x)).isoformat()
    if kind == "timestamp":
        return datetime.fromtimestamp(x, UTC).isoformat(timespec="seconds")
    if kind in ("int", "long"):
        return round(x, 2)
    return float(f"{x:.6g}")


def _plain(value):
    """JSON-ready: dates and timestamps as ISO text, decimals as numbers."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _cause(exc: BaseException) -> str:
    from pipelines.validation.protocol import describe

    return describe(exc)
