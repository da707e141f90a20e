"""The floor plan holds: no import cycle inside or between phasegate's packages, the domain
never imports a front end, and the TUI knows nothing of the CLI."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.helpers.module_graph import cycles, module_graph

PACKAGES = ("phases", "deliverables", "pipelines", "tui", "cli")
DOMAIN = ("phases", "deliverables", "pipelines")
# Who may import whom, package by package: the layers from the ground up.
ALLOWED = {
    "phases": set(),
    "deliverables": {"phases"},
    "pipelines": {"phases", "deliverables"},
    "tui": {"phases", "deliverables", "pipelines"},
    "cli": {"phases", "deliverables", "pipelines", "tui"},  # tui only in `open`, lazily
}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return module_graph(ROOT, PACKAGES)


def test_there_is_no_import_cycle(graph):
    assert cycles(graph) == []


def test_each_package_imports_only_the_layers_below(graph):
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if target.split(".")[0] != module.split(".")[0]
        and target.split(".")[0] not in ALLOWED[module.split(".")[0]]
    )
    assert wrong == []


def test_the_domain_never_imports_a_front_end(graph):
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] in DOMAIN
        for target in targets
        if target.split(".")[0] in ("tui", "cli")
    )
    assert wrong == []


def test_the_cli_imports_the_tui_only_to_open_it(graph):
    uses = {(m, t) for m, targets in graph.items() for t in targets if m.startswith("cli")}
    assert {(m, t) for m, t in uses if t.startswith("tui")} == {("cli.project", "tui.app")}


def test_the_graph_covers_every_module(graph):
    assert {"deliverables.templating", "cli.main", "tui.app", "pipelines.prompt_trail"} <= set(
        graph
    )
    # the ground floor imports nothing that renders or reports
    assert graph["deliverables.templating"] <= {
        "deliverables.errors",
        "deliverables.identity",
        "deliverables.statuses",
        "deliverables.store",
        "phases.text",  # the one escaper of user text, lowest in the graph
    }


# The reader itself, on made-up packages: every spelling of an import is seen, and only
# annotations are ignored.
@pytest.mark.parametrize(
    ("source", "loop"),
    [
        ("import pkg.a", True),
        ("import pkg.a as alias", True),
        ("from pkg import a", True),
        ("from pkg.a import thing", True),
        ("from . import a", True),
        ("from .a import thing", True),
        ("def later():\n    from pkg.a import thing", True),
        ("class C:\n    def m(self):\n        import pkg.a", True),
        ("try:\n    import pkg.a\nexcept ImportError:\n    pass", True),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import thing", False),
        ("import typing\nif typing.TYPE_CHECKING:\n    import pkg.a", False),
        ("if TYPE_CHECKING:\n    pass\nelse:\n    import pkg.a", True),
        ("import os", False),
    ],
)
def test_the_reader_sees_every_spelling_of_an_import(tmp_path: Path, source: str, loop: bool):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text(textwrap.dedent(source) + "\nthing = 1\n")
    found = cycles(module_graph(tmp_path, ("pkg",)))
    assert found == ([["pkg.a", "pkg.b"]] if loop else [])


def test_a_package_init_that_re_exports_is_no_loop(tmp_path: Path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg.core import Thing\n")
    (package / "core.py").write_text("from pkg.errors import Oops\nclass Thing: ...\n")
    (package / "errors.py").write_text("class Oops(Exception): ...\n")
    graph = module_graph(tmp_path, ("pkg",))
    assert graph == {"pkg": {"pkg.core"}, "pkg.core": {"pkg.errors"}, "pkg.errors": set()}
    assert cycles(graph) == []
