"""Environments for the processes a test starts that run none of phasegate's code: Airflow's
`dag.test()` of a generated DAG, `spark-submit` and a standalone cluster, GX loading a generated
suite, a generated project's own tests. `make test` measures coverage in every Python process the
tests start (pyproject's `patch = ["subprocess"]`, through COVERAGE_PROCESS_CONFIG); in these it
would find none of phasegate's lines and only slow them down (a `spark_submit` DAG run takes
1.6x as long measured). phasegate's own processes (`phasegate ...`, the validation and profiling
children) stay measured."""

from __future__ import annotations

import os
from collections.abc import Mapping

COVERAGE_VARIABLES = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")


def unmeasured(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """`env` (this process's environment by default) without coverage's request to measure."""
    return {
        key: value
        for key, value in (os.environ if env is None else env).items()
        if key not in COVERAGE_VARIABLES
    }
