"""The exceptions of the process model."""

from __future__ import annotations

from pathlib import Path


class LocatedError(Exception):
    """A mistake in a file: `str()` is `file:line: field: problem`. Process files and pipeline
    specs both report this way (ProcessError, pipelines' SpecError)."""

    def __init__(self, path: str | Path, line: int | None, field: str, problem: str) -> None:
        self.path, self.line, self.field, self.problem = str(path), line, field, problem
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")


class ProcessError(LocatedError):
    """A process file (the default or a team's overlay) is malformed."""
