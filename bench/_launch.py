"""One cold start for bench/startup.py: `python bench/_launch.py phasegate|minimal [PROJECT]`.

Prints `ready` when the first screen is populated, then ends the process at once. Runs headless: what is measured
is Python start, imports, opening the project and composing the screen, not terminal speed.
"""

from __future__ import annotations

import sys


def phasegate(folder: str) -> None:
    import gc

    from deliverables import Project  # what `phasegate open` does, in the same order

    gc.disable()  # as cli/project.py's open_tui does before importing the TUI
    from tui.app import PhasegateApp

    class Bench(PhasegateApp):
        def on_ready(self) -> None:
            super().on_ready()
            populated(self.screen)
            ready()

    Bench(Project.open(folder)).run(headless=True)


def ready() -> None:
    """Reports the first screen and ends the process at once, for both apps alike: the CPU time
    and the instructions counted are the start's, not the app's teardown or the interpreter's
    final garbage collection."""
    import os

    print("ready", flush=True)
    os._exit(0)


def populated(screen) -> None:
    """Stops the bench if the first screen is not filled in: a fast empty screen proves nothing."""
    from textual.widgets import DataTable

    if screen.id == "today" or type(screen).__name__ == "TodayScreen":
        # the returning user (Ben Okafor) has items of her own and a session before this one
        mine = screen.query_one("#day-mine", DataTable).row_count
        changes = str(screen.query_one("#day-changes-log").render())
        if not mine or "Your first session here" in changes:
            raise SystemExit(f"the day is not populated ({mine} items, changes: {changes[:60]!r})")
    else:
        phases = screen.query_one("#phases", DataTable).row_count
        activity = str(screen.query_one("#activity-log").render()).splitlines()
        if phases != 7 or len(activity) != 30:
            raise SystemExit(
                f"the dashboard is not populated ({phases} phases, {len(activity)} events)"
            )


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
            ready()

    Minimal().run(headless=True)


if __name__ == "__main__":
    if sys.argv[1] == "phasegate":
        phasegate(sys.argv[2])
    else:
        minimal()
