"""The generated solution's own CI passes (its .github/workflows/ci.yaml): in a virtualenv made
from the requirements the scaffold writes, its ruff check, ruff format --check and pytest (the DAG
integrity test and a pipeline's job tests on a real local Spark) pass on a solution with a
pipeline. The virtualenv is cached across runs under ~/.cache/phasegate-tests, keyed by the hash
of the requirement files (and the Python version): uv builds it once in ~25 s (its cache warm)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_validation_static import PLAIN, make_solution

CACHE = Path(os.environ.get("PHASEGATE_TEST_CACHE", Path.home() / ".cache" / "phasegate-tests"))
REQUIREMENTS = ("requirements.txt", "constraints.txt", "requirements-dev.txt")


def solution_venv(root: Path) -> Path:
    """A virtualenv with `root`'s requirements-dev.txt installed, shared by every run (and every
    process: a lock) that asks for the same requirements."""
    digest = hashlib.sha256(sys.version.encode())
    for name in REQUIREMENTS:
        digest.update((root / name).read_bytes())
    venv = CACHE / f"solution-{digest.hexdigest()[:16]}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").is_file():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run(
                [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
            )
            uv = Path(sys.executable).with_name("uv")
            install = subprocess.run(
                [
                    str(uv if uv.exists() else "uv"),
                    "pip",
                    "install",
                    "--quiet",
                    "--python",
                    str(venv / "bin" / "python"),
                    "--compile-bytecode",
                    "-r",
                    str(root / "requirements-dev.txt"),
                ],
                capture_output=True,
                text=True,
                timeout=1200,
            )
            assert install.returncode == 0, install.stderr[-3000:]
            (venv / ".complete").touch()
    return venv


@pytest.mark.slow
def test_the_generated_solution_passes_its_own_ci(tmp_path):
    project = make_solution(tmp_path / "retail", {"orders": PLAIN.format(name="orders")})
    root = project.root
    project.close()
    assert "-c constraints.txt" in (root / "requirements.txt").read_text()
    venv = solution_venv(root)
    bin_ = venv / "bin"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "COVERAGE", "COV_CORE", "PYICEBERG_"))
    }
    env.update(
        PATH=f"{bin_}{os.pathsep}{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        AIRFLOW_HOME=str(tmp_path / "airflow-home"),
    )
    # the CI's steps (ci.yaml; its separate DAG integrity step is part of the whole pytest run),
    # each the tool the virtualenv installed
    uv = Path(sys.executable).with_name("uv")
    steps = [
        [str(uv if uv.exists() else "uv"), "pip", "check", "--python", str(bin_ / "python")],
        [str(bin_ / "ruff"), "check", "."],
        [str(bin_ / "ruff"), "format", "--check", "."],
        [str(bin_ / "pytest"), "-q", "-p", "no:cacheprovider"],
    ]
    for step in steps:
        result = subprocess.run(
            step, cwd=root, env=env, capture_output=True, text=True, timeout=900
        )
        assert result.returncode == 0, (step, result.stdout[-4000:], result.stderr[-4000:])
    ci = (root / ".github/workflows/ci.yaml").read_text()
    for command in ("pip install -r requirements-dev.txt", "ruff check .", "ruff format --check ."):
        assert command in ci  # what this test ran is what the CI runs
