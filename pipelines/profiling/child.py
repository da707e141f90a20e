"""The profiling subprocess: `python -m pipelines.profiling.child --events-fd N REQUEST_JSON`.

One warm local Spark session (the full validation tier's settings) profiles the source the
parent resolved and checked; events go to file descriptor N as JSON lines (the protocol of
pipelines.validation.protocol): `pass` (progress), then `profile` (the result) or `error` (one
line for the user). Spark's own logs go to stdout/stderr, which the parent keeps out of sight.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime

from pipelines.validation.protocol import Emitter, describe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipelines.profiling.child")
    parser.add_argument("--events-fd", type=int, required=True)
    parser.add_argument("request")
    args = parser.parse_args(argv)
    emit = Emitter(os.fdopen(args.events_fd, "w", encoding="utf-8"))
    request = json.loads(args.request)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        from pipelines.errors import ProfileError
        from pipelines.profiling.compute import profile
        from pipelines.profiling.source import SourceFiles
        from pipelines.validation.full import java_problem, spark_session

        problem = java_problem()
        if problem:
            emit.emit("error", message=problem)
            return 1
        given = request["source"]
        source = SourceFiles(
            **{**given, "files": tuple(given["files"]), "local": tuple(given.get("local") or ())}
        )
        spark = spark_session()
        spark.sparkContext.setLogLevel("ERROR")
        now = datetime.fromisoformat(request["now"]) if request.get("now") else None
        result = profile(
            spark,
            source,
            sample_rows=request.get("sample_rows"),
            progress=lambda name, n, total: emit.emit("pass", name=name, index=n, total=total),
            now=now,
        )
    except ProfileError as exc:
        emit.emit("error", message=str(exc))
        return 1
    except Exception as exc:  # one line for the user; the parent adds the log's tail
        emit.emit("error", message=f"profiling failed: {describe(exc)}")
        return 1
    emit.emit("profile", profile=result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
