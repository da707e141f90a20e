"""The exceptions of the pipelines package; light, so the CLI can catch them at start-up."""

from __future__ import annotations

from pathlib import Path


class SpecError(Exception):
    """A pipeline spec is wrong: `str()` is `file:line: field: problem`."""

    def __init__(self, path: str | Path, line: int | None, field: str, problem: str) -> None:
        self.path, self.line, self.field, self.problem = str(path), line, field, problem
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")


class GenerationError(Exception):
    """Generation could not run; nothing was written."""
