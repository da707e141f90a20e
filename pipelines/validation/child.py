"""The validation subprocess: `python -m pipelines.validation.child --root R --tier T --events-fd N
[--rows N] [--warehouse W] PIPELINE...`, the catalog URI in the environment (PHASEGATE_CATALOG_URI:
it may hold a password, and argv is visible to every user).

Events go to file descriptor N (see `protocol`); everything else the engines print goes to
stdout/stderr, which the parent shows as the run's log. The parent owns timeouts, cancellation
and storage; this process only runs checks, and reports even its own failures as events.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from pipelines.validation.protocol import CATALOG_ENV, Emitter, describe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipelines.validation.child")
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--tier", choices=("static", "full"), required=True)
    parser.add_argument("--events-fd", type=int, required=True)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--warehouse")
    parser.add_argument("pipelines", nargs="+")
    args = parser.parse_args(argv)
    emit = Emitter(os.fdopen(args.events_fd, "w", encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="phasegate-validate-") as scratch:
        workdir = Path(scratch)
        _quiet_environment(args.root, workdir)
        emit.emit("versions", versions=versions(args.tier))
        from pipelines.spec import load_specs

        specs = load_specs(args.root)
        if args.tier == "static":
            from pipelines.validation.static import run_static

            run_static(args.root, specs, args.pipelines, emit)
            for name in args.pipelines:
                emit.emit("pipeline", pipeline=name)
        else:
            from pipelines.validation.full import FullTier, Lake

            lake = Lake(args.root, os.environ.get(CATALOG_ENV, ""), args.warehouse)
            chosen = [s for s in specs if s.name in args.pipelines]
            chosen.sort(key=lambda s: args.pipelines.index(s.name))
            FullTier(args.root, emit, lake, workdir, args.rows).run(chosen)
    return 0


def _quiet_environment(root: Path, workdir: Path) -> None:
    """Before anything imports Airflow, GX or Spark: a throwaway AIRFLOW_HOME pointed at the
    project's DAGs, no example DAGs, no progress bars or usage statistics."""
    home = workdir / "airflow"
    home.mkdir()
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(root / "airflow" / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "GX_ANALYTICS_ENABLED": "False",
            "TQDM_DISABLE": "1",
            "PYSPARK_PYTHON": sys.executable,
        }
    )


def versions(tier: str) -> dict[str, str]:
    """The engines this run used, without importing them."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    names = ["apache-airflow", "great-expectations", "sqlglot", "ruff"]
    if tier == "full":
        names += ["pyspark", "pyiceberg", "pyarrow", "pandas"]
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "missing"
    if tier == "full":
        found["java"] = _java_version()
    return found


def _java_version() -> str:
    import shutil
    import subprocess

    home = os.environ.get("JAVA_HOME")
    java = str(Path(home, "bin", "java")) if home else shutil.which("java")
    if not java:
        return "missing"
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "missing"
    first = (out.stderr or out.stdout).strip().splitlines()
    return first[0] if first else "unknown"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # the parent records this line as the run's error
        print(f"validation subprocess failed: {describe(exc)}", file=sys.stderr)
        sys.exit(3)
