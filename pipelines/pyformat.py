"""Generated Python goes through ruff (import order, then format) in one batch, so it reads as
if written by hand and passes `ruff check` and `ruff format --check` in the solution repo.

The solution's own ruff settings apply: the `[tool.ruff]` of its pyproject.toml (the scaffold
writes one; a team may change it), with each file at its path in the repository, as `ruff` run
there (and the pre-commit hook, pinned to this ruff's version) reads them, so a re-generation
never undoes the project's formatting. Without such a pyproject, phasegate's defaults
(RUFF_ARGS, the scaffold's settings) apply.
"""

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
PYPROJECT = "pyproject.toml"


def ruff_config(pyproject: str | None) -> str | None:
    """`pyproject` (a pyproject.toml's text) when it configures ruff, else None."""
    if not pyproject:
        return None
    import tomllib

    try:
        document = tomllib.loads(pyproject)
    except tomllib.TOMLDecodeError as exc:
        raise GenerationError(
            f"{PYPROJECT}: not valid TOML ({exc}); ruff could not read it"
        ) from None
    return pyproject if "ruff" in (document.get("tool") or {}) else None


def format_python(files: list[RenderedFile], pyproject: str | None = None) -> list[RenderedFile]:
    """Returns `files` with every `.py` file import-sorted and formatted by ruff, with the ruff
    settings of `pyproject` (the solution's pyproject.toml text) when it has any."""
    python = [f for f in files if f.path.endswith(".py")]
    if not python:
        return files
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        raise GenerationError(
            "ruff is not installed; it formats generated Python (pip install ruff)"
        )
    config = ruff_config(pyproject)
    with tempfile.TemporaryDirectory(prefix="phasegate-format-") as tmp:
        if config is not None:  # the repository's layout: ruff finds the settings as it would there
            Path(tmp, PYPROJECT).write_text(config, encoding="utf-8")
            names = [f.path for f in python]
            settings = []
        else:
            names = [f"f{n}.py" for n in range(len(python))]
            settings = RUFF_ARGS
        for name, f in zip(names, python, strict=True):
            target = Path(tmp, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(f.content, encoding="utf-8")
        for args in (
            ["check", "--fix", "--select", "I", "--quiet", "--exit-zero"],
            ["format", "--quiet"],
        ):
            # --no-cache and cwd: ruff would leave .ruff_cache in the caller's folder (the
            # project, during a dry run that promises to write nothing); the files by name:
            # a generated file the project's settings exclude is formatted all the same
            result = subprocess.run(
                [ruff, *args, "--no-cache", *settings, *names],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=tmp,
            )
            if result.returncode != 0:
                where = f" with the [tool.ruff] settings of {PYPROJECT}" if config else ""
                raise GenerationError(
                    f"ruff {args[0]} failed on generated code{where}: "
                    f"{result.stderr.strip() or result.stdout.strip()}"
                )
        formatted = {
            f.path: Path(tmp, name).read_text(encoding="utf-8")
            for name, f in zip(names, python, strict=True)
        }
    return [RenderedFile(f.path, formatted.get(f.path, f.content), f.template) for f in files]


def project_pyproject(root: Path) -> str | None:
    """The text of the solution's pyproject.toml, or None."""
    try:
        return (Path(root) / PYPROJECT).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
