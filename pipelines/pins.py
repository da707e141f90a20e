"""The versions a generated solution installs: the ones phasegate validates its code with.

The scaffold writes three files from them (templates/scaffold):
- `requirements.txt`: what the generated code imports (the jobs, the quality runners, the DAGs,
  the tests), each pinned to the version installed beside phasegate;
- `constraints.txt`: everything those depend on, pinned the same way (the closure phasegate
  validated; it plays the part of Airflow's constraints file, resolved together with PySpark,
  PyIceberg and Great Expectations), applied by `-c constraints.txt` in requirements.txt;
- `requirements-dev.txt`: the tools of the solution's CI, ruff pinned to the ruff that formats
  the generated code (pipelines.pyformat), which `.pre-commit-config.yaml` pins too.

The versions are read from the installed distributions (phasegate's lock, requirements/run.txt,
in a `make setup` install), so phasegate from a wheel pins what it runs with.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

# (distribution, extras): what the generated code imports
RUNTIME = (
    ("apache-airflow", ()),
    ("apache-airflow-providers-apache-spark", ()),  # SparkSubmitOperator, SparkConnectHook
    ("great-expectations", ()),
    ("pandas", ()),
    ("psycopg", ("binary",)),  # the PostgreSQL catalog
    ("pyarrow", ()),
    ("pyiceberg", ("pyarrow", "pyiceberg-core", "sql-postgres", "sql-sqlite")),
    ("pyspark", ("connect",)),
)
# the solution's CI tools; pre-commit is not one of phasegate's, so it is left unpinned
DEV = (("pytest", ()), ("ruff", ()))
UNPINNED_DEV = ("pre-commit",)


@dataclass(frozen=True)
class Pins:
    runtime: tuple[str, ...]  # requirement lines: name[extras]==version
    dev: tuple[str, ...]
    constraints: tuple[str, ...]  # name==version, the closure of both
    ruff: str  # the version the pre-commit hook pins


@cache
def pins() -> Pins:
    from importlib.metadata import version

    def line(name: str, extras: tuple[str, ...]) -> str:
        return f"{name}{'[' + ','.join(extras) + ']' if extras else ''}=={version(name)}"

    closure = _closure([*RUNTIME, *DEV])
    return Pins(
        runtime=tuple(line(n, e) for n, e in RUNTIME),
        dev=tuple(line(n, e) for n, e in DEV) + UNPINNED_DEV,
        constraints=tuple(f"{name}=={v}" for name, v in sorted(closure.items())),
        ruff=version("ruff"),
    )


def _closure(roots) -> dict[str, str]:
    """{distribution: installed version} of `roots` and all they require here (markers
    evaluated for this interpreter and the extras asked for)."""
    from importlib.metadata import distributions

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    installed: dict[str, tuple[str, list[str]]] = {}  # the first on sys.path wins
    for dist in distributions():
        headers = _headers(dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "")
        if headers.get("name"):
            key = canonicalize_name(headers["name"][0])
            installed.setdefault(key, (headers["version"][0], headers.get("requires-dist", [])))
    found: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    stack = [(name, frozenset(extras)) for name, extras in roots]
    while stack:
        name, extras = stack.pop()
        key = canonicalize_name(name)
        if (key, extras) in seen:
            continue
        seen.add((key, extras))
        if key not in installed:  # required only where this interpreter is not
            continue
        found[key], requires = installed[key]
        for text in requires:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not any(
                marker.evaluate({"extra": extra}) for extra in (extras or {""})
            ):
                continue
            stack.append((requirement.name, frozenset(requirement.extras)))
    return found


def _headers(text: str) -> dict[str, list[str]]:
    """The Name, Version and Requires-Dist headers of a METADATA file (the part before its
    first blank line; what email.parser would read there, ~20x faster)."""
    headers: dict[str, list[str]] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, sep, value = line.partition(":")
        if sep and key.lower() in ("name", "version", "requires-dist"):
            headers.setdefault(key.lower(), []).append(value.strip())
    return headers
