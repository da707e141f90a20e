"""Snapshots of the screens and dialogs tests/test_snapshots.py does not cover: Validation with a
stored run shown, Prompts with a logged prompt, the two modal dialogs and the command palette.
The demo under a fixed clock; the run and the prompt are stored through the real API.

After an intended change of the look: `make test PYTEST_ARGS="--snapshot-update"`, then review
the SVGs in tests/__snapshots__/ before committing them."""

from __future__ import annotations

from datetime import datetime

from pipelines.prompt_trail import Prompt, log_prompt
from tests.test_tui_keys import store_run
from tui.app import PhasegateApp
from tui.widgets import VimTable

SIZE = (150, 42)


async def _settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_validation_screen_with_a_stored_run(snap_compare, demo):
    run_id = store_run(demo)

    async def show_run(pilot) -> None:
        await pilot.press("V")
        await _settle(pilot)
        runs = pilot.app.screen.query_one("#val-runs", VimTable)
        runs.focus()
        runs.select_key(str(run_id))
        await pilot.press("enter")
        await _settle(pilot)

    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, run_before=show_run)


def test_prompts_screen_with_a_logged_prompt(snap_compare, demo):
    prompt = Prompt(
        task="agent-prompts/tasks/ingestion/pos_orders.md",
        feature="pos_orders",
        text="Create pos_orders: CSV to Iceberg `sales.orders` as defined in "
        "agent-prompts/tasks/ingestion/pos_orders.md. Use pipelines/pos_orders.yaml.",
        context_files=("agent-prompts/tasks/ingestion/pos_orders.md", "pipelines/pos_orders.yaml"),
    )
    log_prompt(
        demo.root, prompt, developer="Ana Ruiz", model="claude-opus-4",
        now=datetime(2026, 11, 26, 16, 5),
    )  # fmt: skip

    async def open_prompts(pilot) -> None:
        await pilot.press("T")
        await _settle(pilot)

    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, run_before=open_prompts)


def test_the_text_dialog(snap_compare, demo):
    async def ask_why(pilot) -> None:
        await pilot.press("3")
        await _settle(pilot)
        pilot.app.screen.query_one("#checklist", VimTable).select_key("3.1.9")
        await pilot.press("x")
        await pilot.press("enter")  # empty: the dialog stays and says why
        await _settle(pilot)

    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, run_before=ask_why)


def test_the_choice_dialog(snap_compare, demo):
    async def pick(pilot) -> None:
        await pilot.press("2")
        await _settle(pilot)
        table = pilot.app.screen.query_one("#phase-deliverables", VimTable)
        table.focus()
        table.select_key("D2.2")
        await pilot.press("enter")
        await _settle(pilot)

    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, run_before=pick)


async def _searched(pilot, text: str) -> None:
    """Waits until the palette has searched for `text`: it searches in a worker per keystroke
    (each cancelling the one before), started when its input's change message is handled."""
    from textual.command import CommandInput, CommandList

    palette = pilot.app.screen
    await pilot.pause()  # the last keystroke's change message reaches the palette
    while not (
        palette.query_one(CommandInput).value == text
        and palette.has_class("-ready")  # a search has ended (the class is added at the end)
        and palette.query_one(CommandList).option_count
        and all(w.is_finished for w in pilot.app.workers if w.node is palette)
    ):
        await pilot.pause()
    await pilot.pause()  # the list, filled, is drawn


def test_the_command_palette(snap_compare, demo):
    async def palette(pilot) -> None:
        await pilot.press("p")
        await _settle(pilot)
        await pilot.press("ctrl+p")
        await _settle(pilot)
        await pilot.press(*"status")
        await _searched(pilot, "status")

    assert snap_compare(PhasegateApp(demo), terminal_size=SIZE, run_before=palette)
