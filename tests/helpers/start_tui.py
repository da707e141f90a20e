"""Starts the TUI headless on a demo project, then prints the heavy modules that got imported.

`python -m tests.helpers.start_tui FOLDER` — used by the import-hygiene test.
"""

from __future__ import annotations

import asyncio
import json
import sys

HEAVY = (
    "pyspark",
    "great_expectations",
    "airflow",
    "pyiceberg",
    "pandas",
    "numpy",
    "sqlite_utils",
    "jinja2",
    "git",
    "psycopg",  # only when a publish runs (deliverables.publish)
)


async def main(folder: str) -> None:
    from deliverables import Project
    from tui.app import PhasegateApp

    app = PhasegateApp(Project.open(folder))
    async with app.run_test(size=(150, 42)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#phases").row_count == 7
        loaded = sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))
    print(json.dumps(loaded))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
