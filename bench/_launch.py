"""One cold start for bench/startup.py: `python bench/_launch.py phasegate|minimal [PROJECT]`.

Prints `ready` when the first screen is populated, then exits. Runs headless: what is measured
is Python start, imports, opening the project and composing the screen, not terminal speed.
"""

from __future__ import annotations

import sys


def phasegate(folder: str) -> None:
    from deliverables import Project  # what `phasegate open` does, in the same order
    from tui.app import PhasegateApp

    class Bench(PhasegateApp):
        def on_ready(self) -> None:
            super().on_ready()
            table = "#day-mine" if self.current_mode == "today" else "#phases"
            if self.current_mode == "dashboard" and self.screen.query_one(table).row_count != 7:
                raise SystemExit("dashboard not populated")
            print("ready", flush=True)
            self.exit()

    Bench(Project.open(folder)).run(headless=True)


def minimal() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

    class Minimal(App):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns("phase", "progress")
            for n in range(7):
                table.add_row(str(n), "0%")

        def on_ready(self) -> None:
            print("ready", flush=True)
            self.exit()

    Minimal().run(headless=True)


if __name__ == "__main__":
    if sys.argv[1] == "phasegate":
        phasegate(sys.argv[2])
    else:
        minimal()
