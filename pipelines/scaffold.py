"""The project scaffold of process 3.1/3.2: every folder of the tree, with real starter content.

`generate_scaffold` renders it, plans it against what is there (pipelines.generate), applies
it unless it is a dry run, and ticks the checklist items the scaffold satisfies, in the
activity log as done by the generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from pipelines.generate import Plan, RenderedFile, apply, plan
from pipelines.lake import default_catalog_name, env_prefix
from pipelines.pins import pins
from pipelines.pyformat import PYPROJECT, format_python, project_pyproject
from pipelines.templating import TEMPLATES, environment

if TYPE_CHECKING:
    from deliverables import Project

SCAFFOLD_VERSION = "scaffold@1"
# Checklist items the scaffold satisfies: the ten top-level folders of the tree (3.1), linting
# and formatting configured (3.2.2), pre-commit hooks (3.2.3).
ITEMS_BY_FOLDER = {
    "3.1.1": "agent-prompts",
    "3.1.2": "airflow",
    "3.1.3": "src",
    "3.1.4": "spark",
    "3.1.5": "great_expectations",
    "3.1.6": "sql",
    "3.1.7": "tests",
    "3.1.8": "scripts",
    "3.1.9": "docs",
    "3.1.10": ".github/workflows",
}
ITEMS_BY_FILE = {"3.2.2": "pyproject.toml", "3.2.3": ".pre-commit-config.yaml"}
DELIVERABLES_BY_PATH = {"D3.3": ".github/workflows/ci.yaml", "D3.6": "agent-prompts/context.yaml"}


@dataclass(frozen=True)
class ScaffoldResult:
    plan: Plan
    ticked: tuple[str, ...]
    drafted: tuple[str, ...]


def render_scaffold(
    project_name: str, today: date, pyproject: str | None = None
) -> list[RenderedFile]:
    """Every scaffold file, rendered; pure (reads templates, writes nothing). Python is
    formatted with the ruff settings of `pyproject` (the solution's pyproject.toml, when it
    has one), else of the scaffold's own pyproject.toml."""
    import yaml

    env = environment()
    folders: dict[str, str] = yaml.safe_load((TEMPLATES / "scaffold_folders.yaml").read_text())
    catalog = default_catalog_name(project_name)
    context = {
        "project": project_name,
        "catalog": catalog,
        "catalog_env": env_prefix(catalog).removeprefix("PYICEBERG_CATALOG__").rstrip("_"),
        "today": today.isoformat(),
        "pins": pins(),
        "top_folders": [(f, p) for f, p in folders.items() if "/" not in f]
        + [("docs", folders["docs"])],
    }
    context["top_folders"] = list(dict.fromkeys(context["top_folders"]))
    files = []
    root = TEMPLATES / "scaffold"
    for template in sorted(root.rglob("*.j2")):
        relative = template.relative_to(TEMPLATES).as_posix()
        output = template.relative_to(root).as_posix().removesuffix(".j2")
        files.append(
            RenderedFile(output, env.get_template(relative).render(context), SCAFFOLD_VERSION)
        )
    produced = {f.path for f in files}
    readme = env.get_template("folder_readme.md.j2")
    for folder, purpose in folders.items():
        if f"{folder}/README.md" not in produced:
            files.append(
                RenderedFile(
                    f"{folder}/README.md",
                    readme.render(folder=folder, purpose=purpose),
                    SCAFFOLD_VERSION,
                )
            )
        if folder.startswith("src/") and f"{folder}/__init__.py" not in produced:
            files.append(
                RenderedFile(f"{folder}/__init__.py", f'"""{purpose}"""\n', SCAFFOLD_VERSION)
            )
    files.append(
        RenderedFile(
            "src/__init__.py", '"""The Spark jobs of this solution."""\n', SCAFFOLD_VERSION
        )
    )
    rendered = next((f.content for f in files if f.path == PYPROJECT), None)
    return format_python(files, pyproject or rendered)


def generate_scaffold(project: Project, *, dry_run: bool = False) -> ScaffoldResult:
    """Renders, plans and (unless `dry_run`) applies the scaffold, then ticks what it satisfies."""
    rendered = render_scaffold(project.name, project.today(), project_pyproject(project.root))
    result = plan(project.root, rendered)
    if dry_run:
        return ScaffoldResult(result, (), ())
    apply(project.root, result, rendered)
    ticked, drafted = [], []
    person = project.tracker.actor
    project.tracker.actor = f"phasegate generator (run by {person})"
    try:
        for item_id, folder in ITEMS_BY_FOLDER.items():
            if (project.root / folder).is_dir() and _todo(project, item_id):
                project.set_item(item_id, status="done")
                ticked.append(item_id)
        for item_id, path in ITEMS_BY_FILE.items():
            if (project.root / path).is_file() and _todo(project, item_id):
                project.set_item(item_id, status="done")
                ticked.append(item_id)
        for deliverable_id, path in DELIVERABLES_BY_PATH.items():
            if (
                project.model.deliverable(deliverable_id) is None
                or not (project.root / path).is_file()
            ):
                continue
            if project.deliverable_state(deliverable_id).status == "missing":
                project.set_deliverable(deliverable_id, status="draft")
                drafted.append(deliverable_id)
    finally:
        project.tracker.actor = person
    return ScaffoldResult(result, tuple(ticked), tuple(drafted))


def _todo(project: Project, item_id: str) -> bool:
    return project.model.item(item_id) is not None and project.item_state(item_id).status == "todo"
