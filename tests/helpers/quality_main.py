"""`python -m tests.helpers.quality_main ROOT PIPELINE ARG...`: runs a generated quality runner's
`main(ARG...)` as the DAG's check_quality task does and prints its report as JSON, or the failed
expectations and the report when it raises DataQualityException."""

from __future__ import annotations

import importlib
import json
import sys

root, name, *argv = sys.argv[1:]
sys.path.insert(0, root)
quality = importlib.import_module(f"src.validation.{name}_quality")
try:
    print(json.dumps({"report": quality.main(argv)}))
except quality.DataQualityException as exc:
    print(json.dumps({"failed": exc.failed, "report": exc.report}))
