"""The Pipelines and Prompts screens, driven by Pilot on real repositories."""

from __future__ import annotations

from datetime import datetime

import pytest
from textual.worker import WorkerState

from cli.main import main
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
    if key == "P":
        await _previewed(pilot)
    else:
        await app.workers.wait_for_complete()
        await pilot.pause()


async def _previewed(pilot) -> None:
    """Waits for the screen's newest preview to be shown. A preview is an exclusive worker: a
    newer one (a reload by the two-second watch, under load) cancels it, and is waited for."""
    from textual.worker import WorkerCancelled, WorkerFailed

    screen = pilot.app.screen
    while True:
        preview = screen.preview
        try:
            await preview.wait()
        except WorkerCancelled:
            assert screen.preview is not preview  # only a newer preview cancels one
            continue
        except WorkerFailed:
            pass  # the screen says so (a test looks at the message)
        await pilot.pause()  # the worker hands its result to the screen with call_from_thread
        if screen.preview is preview:
            return


async def _generated(pilot):
    """Waits for the generation to end, then for the preview it starts: the generation worker."""
    generation = pilot.app.screen.generation
    await generation.wait()  # raises if it failed or was cancelled
    await _previewed(pilot)  # the generation started it before it ended
    return generation


async def test_pipelines_screen_previews_then_generates(with_specs, capsys):
    app = PhasegateApp(with_specs)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot, "P")
        table = app.screen.query_one("#pipelines", VimTable)
        assert str(table.get_row("store_master")[4]) == "not generated"
        shown = str(table.get_row("store_master")[2])
        files = app.screen.query_one("#plan-files", VimTable)
        planned = {str(files.get_row_at(n)[1]) for n in range(files.row_count)}
        # the pipeline's ten files, the data-flow diagram and the GX context's own two files
        assert planned == {
            "agent-prompts/tasks/ingestion/store_master.md",
            "airflow/dags/ingestion/store_master_dag.py",
            "docs/architecture/data-flow.md",
            "great_expectations/.gitignore",
            "great_expectations/checkpoints/store_master.json",
            "great_expectations/expectations/store_master.json",
            "great_expectations/great_expectations.yml",
            "great_expectations/validation_definitions/store_master.json",
            "sql/ddl/sales.stores.sql",
            "src/ingestion/store_master.py",
            "src/validation/store_master_quality.py",
            "tests/fixtures/store_master.json",
            "tests/unit/test_store_master.py",
        }
        assert not (
            with_specs.root / "src/ingestion/store_master.py"
        ).exists()  # a preview writes nothing
        files.focus()
        files.select_key("src/ingestion/store_master.py")
        await pilot.pause()
        assert "+def write_to_iceberg" in str(app.screen.query_one("#diff").render())
        await pilot.press("a")
        generation = await _generated(pilot)
        assert generation.state == WorkerState.SUCCESS
        assert (with_specs.root / "src/ingestion/store_master.py").is_file()
        assert str(table.get_row("store_master")[4]) == "in sync"
    # when it runs, in the words `phasegate pipelines` prints (pipelines.overview for both;
    # printed once the app is gone: Textual takes over standard output while it runs)
    assert main(["-C", str(with_specs.root), "pipelines"]) == 0
    printed = capsys.readouterr().out.splitlines()[1]
    assert shown == "triggered"
    assert printed.split()[:3] == ["store_master", "sales.stores", shown]


async def test_a_preview_during_generation_does_not_cancel_it(with_specs, monkeypatch):
    """A preview (ctrl+r, a reload) while generation writes files starts a preview beside it; the
    generation runs to its end and says so."""
    import threading

    import pipelines.codegen

    previewing, real = threading.Event(), pipelines.codegen.generate_pipelines

    def generate_once_a_preview_started(project):
        assert previewing.wait(30), "the preview never started"
        return real(project)

    monkeypatch.setattr(pipelines.codegen, "generate_pipelines", generate_once_a_preview_started)
    app = PhasegateApp(with_specs)
    async with app.run_test(size=SIZE) as pilot:
        await _open(app, pilot, "P")
        screen = app.screen
        first_preview = screen.preview
        await pilot.press("a")
        generation = screen.generation
        await pilot.press("ctrl+r")  # "Preview again", with the pipelines table in focus
        assert screen.preview is not first_preview  # a preview started...
        await screen.preview.wait()
        assert not generation.is_finished  # ...which ran while the generation waited
        await pilot.press("a")  # a second generation is refused, not started over the first
        assert screen.generation is generation
        previewing.set()
        await _generated(pilot)
        assert generation.state == WorkerState.SUCCESS
        assert any(n.message.startswith("Generated: ") for n in app._notifications)
        assert any("Generation is running" in n.message for n in app._notifications)
    assert (with_specs.root / "src/ingestion/store_master.py").is_file()


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
        await _generated(pilot)
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
        await pilot.press("a", "ctrl+r", "j", "enter")
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
