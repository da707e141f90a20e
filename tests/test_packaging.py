"""`pip install phasegate` (or `uv tool install`) gets everything it runs on: pyproject.toml
declares every runtime dependency of requirements/run.in with a lower bound, and ships every
package."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~;\s]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_runtime_dependency_is_declared_with_a_lower_bound():
    declared = {_name(r): r for r in PYPROJECT["project"]["dependencies"]}
    wanted = {
        _name(line)
        for line in (ROOT / "requirements" / "run.in").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert set(declared) == wanted
    unbounded = [r for r in declared.values() if ">=" not in r]
    assert unbounded == []
    assert "<9" in declared["textual"]  # the major the TUI is written against


def test_the_wheel_ships_every_package_and_the_command():
    packages = set(PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    on_disk = {
        p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in ("tests", "bench")
    }
    assert packages == on_disk == {"phases", "deliverables", "pipelines", "tui", "cli"}
    assert PYPROJECT["project"]["scripts"] == {"phasegate": "cli.main:main"}
