"""What a CLI command or the TUI's screens import, for the import-hygiene tests.

    python -m tests.helpers.heavy_modules cli FOLDER ARGS...   # one `phasegate ARGS` in FOLDER
    python -m tests.helpers.heavy_modules tui FOLDER KEYS...   # the TUI, pressing each key in turn

Prints one JSON object: for `cli`, {"exit": code, "heavy": [...]}; for `tui`, {key: [...]}, the
heavy top-level modules loaded once that key's screen showed. The command is found through the
`phasegate` console script's entry point, wherever the CLI lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sys

HEAVY = ("pyspark", "great_expectations", "airflow", "pyiceberg", "pandas", "psycopg")


def loaded() -> list[str]:
    return sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))


def cli(folder: str, args: list[str]) -> dict:
    from importlib.metadata import entry_points

    (main,) = [ep.load() for ep in entry_points(group="console_scripts", name="phasegate")]
    os.chdir(folder)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            code = main(args)
        except SystemExit as exit_:
            code = exit_.code
    return {"exit": code, "heavy": loaded(), "output": sink.getvalue()[-2000:]}


async def tui(folder: str, keys: list[str]) -> dict:
    from deliverables import Project
    from tui.app import PhasegateApp

    seen = {}
    app = PhasegateApp(Project.open(folder))
    async with app.run_test(size=(150, 42)) as pilot:
        await pilot.pause()
        seen["start"] = loaded()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            await pilot.pause(0.2)  # a screen's first load may run in a worker
            seen[key] = [*loaded(), type(app.screen).__name__]
    return seen


if __name__ == "__main__":
    mode, folder, *rest = sys.argv[1:]
    result = cli(folder, rest) if mode == "cli" else asyncio.run(tui(folder, rest))
    print(json.dumps(result))
