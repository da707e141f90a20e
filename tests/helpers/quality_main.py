"""`python -m tests.helpers.quality_main ROOT PIPELINE ARG... [+ ARG...]...`: runs a generated
quality runner's `main(ARG...)` as the DAG's check_quality task does, once per `+`-separated
argument list (one process, GX imported once), and prints each report as a JSON line, or the
failed expectations, the exception's message and the report when it raises DataQualityException."""

from __future__ import annotations

import importlib
import json
import sys

root, name, *argv = sys.argv[1:]
sys.path.insert(0, root)
quality = importlib.import_module(f"src.validation.{name}_quality")
runs: list[list[str]] = [[]]
for argument in argv:
    if argument == "+":
        runs.append([])
    else:
        runs[-1].append(argument)
for arguments in runs:
    try:
        print(json.dumps({"report": quality.main(arguments)}), flush=True)
    except quality.DataQualityException as exc:
        message = str(exc)  # what Airflow shows as the task's failure
        print(
            json.dumps({"failed": exc.failed, "message": message, "report": exc.report}), flush=True
        )
