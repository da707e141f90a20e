"""Generated Python goes through ruff (import order, then format) in one batch, so it reads as
if written by hand and passes `ruff check` and `ruff format --check` in the solution repo."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pipelines.errors import GenerationError
from pipelines.generate import RenderedFile

# the settings of the generated pyproject.toml (templates/scaffold), so both agree
RUFF_ARGS = [
    "--isolated",
    "--line-length=100",
    "--target-version=py311",
    '--config=lint.isort.known-first-party = ["src"]',
]


def format_python(files: list[RenderedFile]) -> list[RenderedFile]:
    """Returns `files` with every `.py` file import-sorted and formatted by ruff."""
    python = [f for f in files if f.path.endswith(".py")]
    if not python:
        return files
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        raise GenerationError(
            "ruff is not installed; it formats generated Python (pip install ruff)"
        )
    with tempfile.TemporaryDirectory(prefix="phasegate-format-") as tmp:
        for n, f in enumerate(python):
            Path(tmp, f"f{n}.py").write_text(f.content, encoding="utf-8")
        for args in (
            ["check", "--fix", "--select", "I", "--quiet", "--exit-zero"],
            ["format", "--quiet"],
        ):
            # --no-cache and cwd: ruff would leave .ruff_cache in the caller's folder (the
            # project, during a dry run that promises to write nothing)
            result = subprocess.run(
                [ruff, *args, "--no-cache", *RUFF_ARGS, tmp],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=tmp,
            )
            if result.returncode != 0:
                raise GenerationError(
                    f"ruff {args[0]} failed on generated code: {result.stderr.strip() or result.stdout.strip()}"
                )
        formatted = {
            f.path: Path(tmp, f"f{n}.py").read_text(encoding="utf-8") for n, f in enumerate(python)
        }
    return [RenderedFile(f.path, formatted.get(f.path, f.content), f.template) for f in files]
