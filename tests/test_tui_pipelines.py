"""The Pipelines and Prompts screens, driven by Pilot on real repositories."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipelines.codegen import generate_pipelines
from pipelines.prompt_trail import compose, log_prompt
from pipelines.scaffold import generate_scaffold
from tests.test_pipeline_spec import STORE_MASTER
from tui.app import PhasegateApp
from tui.widgets import VimTable

SIZE = (150, 40)


@pytest.fixture
def with_specs(project):
    generate_scaffold(project)
    (project.root / "pipelines").mkdir()
    (project.root / "pipelines" / "store_master.yaml").write_text(STORE_MASTER)
    return project


async def _open(app, pilot, key):
    await pilot.press(key)
    await pilot.pause()
    await _settled(app, pilot)


async def _settled(app, pilot) -> None:
    """Waits for the screen's workers. A preview is an exclusive worker: when a reload starts a
    newer one (the two-second refresh, under load), the older is cancelled, which
    `wait_for_complete` raises; the newer one is then waited for."""
    from textual.worker import WorkerCancelled

    while True:
        try:
            await app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            await pilot.pause()
    await pilot.pause()


async def test_pipelines_screen_previews_then_generates(with_specs):
    app = PhasegateApp(with_specs)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot, "P")
        table = app.screen.query_one("#pipelines", VimTable)
        assert str(table.get_row("store_master")[4]) == "not generated"
        files = app.screen.query_one("#plan-files", VimTable)
        assert files.row_count == 10  # nine files of the pipeline and the data-flow diagram
        assert not (
            with_specs.root / "src/ingestion/store_master.py"
        ).exists()  # a preview writes nothing
        files.focus()
        files.select_key("src/ingestion/store_master.py")
        await pilot.pause()
        assert "+def write_to_iceberg" in str(app.screen.query_one("#diff").render())
        await pilot.press("a")
        await pilot.pause()
        await _settled(app, pilot)
        await _settled(app, pilot)
        assert (with_specs.root / "src/ingestion/store_master.py").is_file()
        assert str(table.get_row("store_master")[4]) == "in sync"


async def test_a_spec_change_shows_out_of_date_and_keeps_user_edits(with_specs):
    generate_pipelines(with_specs)
    job = with_specs.root / "src/ingestion/store_master.py"
    original = job.read_text()
    job.write_text(original.replace("ingestion job.", "ingestion job (reviewed by Ana)."))
    assert job.read_text() != original
    spec = with_specs.root / "pipelines/store_master.yaml"
    before = spec.read_text()
    spec.write_text(
        before.replace("nullable: false}", "nullable: false}\n  - {name: region, type: string}")
    )
    assert spec.read_text() != before
    app = PhasegateApp(with_specs)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot, "P")
        table = app.screen.query_one("#pipelines", VimTable)
        assert str(table.get_row("store_master")[4]) == "out of date"
        states = {
            str(r[1]): str(r[0])
            for r in (
                app.screen.query_one("#plan-files", VimTable).get_row_at(i)
                for i in range(app.screen.query_one("#plan-files", VimTable).row_count)
            )
        }
        assert states["src/ingestion/store_master.py"] == "merged"
        await pilot.press("a")
        await pilot.pause()
        await _settled(app, pilot)
    text = job.read_text()
    assert "reviewed by Ana" in text and '"region"' in text


async def test_a_broken_spec_is_shown_not_crashed(with_specs):
    (with_specs.root / "pipelines" / "store_master.yaml").write_text(
        "name: store_master\nsource: {path: /etc, format: csv}\n"
    )
    app = PhasegateApp(with_specs)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot, "P")
        assert "schema: missing (required)" in str(app.screen.query_one("#diff").render())
        await pilot.press("a", "g", "j", "enter")
        await pilot.pause()
        assert app.is_running


async def test_prompts_screen_lists_the_trail_and_copies_a_prompt(with_specs):
    generate_pipelines(with_specs)
    prompt = compose(with_specs.root, "store_master")
    log_prompt(
        with_specs.root,
        prompt,
        developer="Ana Ruiz",
        model="claude-opus-4",
        now=datetime(2026, 11, 27, 10, 0),
    )
    app = PhasegateApp(with_specs)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot, "T")
        table = app.screen.query_one("#prompts", VimTable)
        assert table.row_count == 1
        assert [str(c) for c in table.get_row_at(0)] == [
            "2026-11-27 10:00:00",
            "Ana Ruiz",
            "claude-opus-4",
            "tasks/ingestion/store_master.md",
            "PENDING",
        ]
        assert "## CONTEXT FILES" in str(app.screen.query_one("#record").render())
        await pilot.press("c")
        assert app.clipboard == prompt.text


async def test_prompts_screen_without_prompts(project):
    app = PhasegateApp(project)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot, "T")
        assert app.screen.query_one("#prompts", VimTable).row_count == 0
        await pilot.press("c", "j", "enter")
        assert app.is_running


async def test_a_failing_background_job_is_shown_as_a_message(with_specs, monkeypatch):
    import pipelines.codegen

    def broken(*args, **kwargs):
        raise RuntimeError("the template folder is unreadable")

    monkeypatch.setattr(pipelines.codegen, "render_pipelines", broken)
    app = PhasegateApp(with_specs)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot, "P")
        await pilot.pause()
        assert any(
            "RuntimeError: the template folder is unreadable" in n.message
            for n in app._notifications
        )
        assert app.is_running
