"""The dashboard views (sql/views.sql) as data, and docs/dashboards/metabase.md drawn from them.

Each view in the file starts with a header of `-- key: value` lines (view, question, metabase,
chart) and ends with the `;` of its CREATE VIEW. The document is generated, never edited:

    python -m deliverables.publish.dashboards > docs/dashboards/metabase.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import NamedTuple

SQL_DIR = Path(__file__).with_name("sql")
VIEWS_FILE = SQL_DIR / "views.sql"
DOCUMENT = "docs/dashboards/metabase.md"
_HEADER = re.compile(r"^-- (view|question|metabase|chart): (.+)$")


class View(NamedTuple):
    name: str
    question: str
    metabase: str
    chart: str
    sql: str  # the CREATE VIEW statement, without its header


def views(text: str | None = None) -> list[View]:
    """The views of sql/views.sql, in their order."""
    text = VIEWS_FILE.read_text(encoding="utf-8") if text is None else text
    found: list[View] = []
    header: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        match = _HEADER.match(line)
        if match and not body:
            header[match[1]] = match[2].strip()
            continue
        if header:
            body.append(line)
            if line.rstrip().endswith(";"):
                missing = {"view", "question", "metabase", "chart"} - set(header)
                if missing:
                    raise ValueError(
                        f"{VIEWS_FILE.name}: a view lacks {', '.join(sorted(missing))}"
                    )
                statement = "\n".join(body).strip()
                if f"CREATE VIEW {header['view']} " not in statement:
                    raise ValueError(
                        f"{VIEWS_FILE.name}: the header of {header['view']} is not its view's"
                    )
                found.append(
                    View(
                        header["view"],
                        header["question"],
                        header["metabase"],
                        header["chart"],
                        statement,
                    )
                )
                header, body = {}, []
    return found


def render(schema: str = "phasegate") -> str:
    """docs/dashboards/metabase.md."""
    found = views()
    lines = [
        "# Dashboards in Metabase",
        "",
        "<!-- Generated from deliverables/publish/sql/views.sql by",
        "     `python -m deliverables.publish.dashboards`; do not edit (a test compares them). -->",
        "",
        "`phasegate publish` writes the tracker's facts to PostgreSQL (schema "
        f"`{schema}` unless `--schema` names another) and keeps one view per question a lead "
        "asks. In Metabase, add the database, then for each view below create the question "
        'it names ("New → Question", the view as its data) and put the questions on one '
        "dashboard with a filter on `project` wired to every card.",
        "",
        "| view | question | chart |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{v.name}` | {v.question} | {v.chart} |" for v in found]
    for v in found:
        lines += [
            "",
            f"## {v.question}",
            "",
            f"View `{schema}.{v.name}`. Chart: **{v.chart}**.",
            "",
            f"Metabase: {v.metabase}.",
            "",
            "```sql",
            v.sql,
            "```",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
