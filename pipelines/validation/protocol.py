"""What the validation subprocess tells its parent: one JSON object per line on a pipe of its own
(stdout and stderr carry the engines' logs, shown live as the run's log).

Events: `versions` (the engines' versions), `step` (a pipeline enters a step: progress),
`check` (one outcome), `pipeline` (a pipeline is done). Kept dependency-free: both sides import it.
"""

from __future__ import annotations

import json
import re
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
    """One line: the exception's type and what it says. For an error from the JVM (Py4J's
    `An error occurred while calling o108.getResult`, then a Java stack trace) the line is
    Spark's innermost error class and the root cause, e.g. `[MALFORMED_RECORD_IN_PARSING...]
    Malformed records are detected... (cause: NumberFormatException: For input string: "abc")`."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = java_cause(text) or (lines[0] if lines else "")
    if len(first) > 400:
        first = first[:400] + "…"
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


# "org.apache.spark.SparkException: message", at a line's start (after Py4J's ": " or "Caused by: ")
_JAVA_EXCEPTION = re.compile(r"^(?:: |Caused by: )?([\w.$]+(?:Exception|Error)): (.+)$", re.M)
_ERROR_CLASS = re.compile(r"\[[A-Z_.]+\]")


def java_cause(text: str) -> str | None:
    """The innermost Spark error class of a Java exception chain in `text` and its root cause,
    or None when `text` holds no Java exception (the generated jobs' `spark_cause` does the same
    for their own log line)."""
    chain = _JAVA_EXCEPTION.findall(text)
    if not chain:
        return None
    classed = [message for _, message in chain if _ERROR_CLASS.match(message)]
    line = classed[-1] if classed else f"{chain[0][0].rsplit('.', 1)[-1]}: {chain[0][1]}"
    kind, root = chain[-1]
    if root not in line:
        line += f" (cause: {kind.rsplit('.', 1)[-1]}: {root})"
    return line.strip()


def _line_writer(stream: IO[str]) -> Callable[[dict], None]:
    def write(event: dict) -> None:
        stream.write(json.dumps(event, default=str) + "\n")
        stream.flush()

    return write
