"""The one exception type of the process model."""

from __future__ import annotations

from pathlib import Path


class ProcessError(Exception):
    """A process file is malformed: `str()` is `file:line: field: problem`."""

    def __init__(self, path: str | Path, line: int | None, field: str, problem: str) -> None:
        self.path, self.line, self.field, self.problem = str(path), line, field, problem
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")
