"""What the validation subprocess tells its parent: one JSON object per line on a pipe of its own
(stdout and stderr carry the engines' logs, shown live as the run's log).

Events: `versions` (the engines' versions), `step` (a pipeline enters a step: progress),
`check` (one outcome), `pipeline` (a pipeline is done). Kept dependency-free: both sides import it.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from typing import IO, Any

STATIC_STEPS = ("sync", "parse", "lint", "dagbag", "dag", "suite", "ddl")
FULL_STEPS = ("sample", "job", "iceberg", "quality", "publish", "dag_test")
STEPS = {"static": STATIC_STEPS, "full": FULL_STEPS}
# The catalog URI reaches the child through its environment: argv is visible to every user
# (`ps`), the environment only to the owner. It may hold a password.
CATALOG_ENV = "PHASEGATE_CATALOG_URI"


class Emitter:
    """Writes events; `check` and `step` are the calls the tiers make."""

    def __init__(self, stream: IO[str] | Callable[[dict], None]) -> None:
        self._write = stream if callable(stream) else _line_writer(stream)

    def emit(self, event: str, **fields: Any) -> None:
        self._write({"event": event, **fields})

    def step(self, pipeline: str, step: str) -> None:
        self.emit("step", pipeline=pipeline, step=step)

    def check(
        self,
        pipeline: str,
        step: str,
        check: str,
        outcome: str,
        detail: str = "",
        data: dict | None = None,
        duration: float | None = None,
    ) -> None:
        self.emit(
            "check",
            pipeline=pipeline,
            step=step,
            check=check,
            outcome=outcome,
            detail=detail,
            data=data or {},
            duration=None if duration is None else round(duration, 3),
        )

    @contextmanager
    def timed(self, pipeline: str, step: str, check: str):
        """Runs a step's body: passes when it returns, records an error (with the exception, no
        traceback for the user) when it raises. The body may set `result[...]` fields."""
        self.step(pipeline, step)
        result: dict[str, Any] = {"outcome": "passed", "detail": "", "data": {}}
        start = time.perf_counter()
        try:
            yield result
        except Exception as exc:  # any failure of a step is a result, never a crash of the run
            result["outcome"] = "error"
            result["detail"] = describe(exc)
            result["data"] = {**result["data"], "traceback": traceback.format_exc(limit=6)}
        self.check(
            pipeline,
            step,
            check,
            result["outcome"],
            result["detail"],
            result["data"],
            time.perf_counter() - start,
        )


def describe(exc: BaseException) -> str:
    """One line: the exception's type and its first meaningful line (Spark errors are long)."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if len(first) > 400:
        first = first[:400] + "…"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _line_writer(stream: IO[str]) -> Callable[[dict], None]:
    def write(event: dict) -> None:
        stream.write(json.dumps(event, default=str) + "\n")
        stream.flush()

    return write
