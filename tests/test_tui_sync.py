"""The TUI's background sync (issue 12), with real git: a bare remote and two clones."""

from __future__ import annotations

import subprocess
from pathlib import Path

from deliverables import Project
from deliverables.gitrefs import OPS, Repo
from deliverables.sync import sync
from tests.conftest import fixed_clock
from tui.app import PhasegateApp

ANA = "Ana Ruiz <ana@example.com>"
BEN = "Ben Okafor <ben@example.com>"


def _clone(folder: Path, name: str, actor: str, remote: Path | None) -> Project:
    project, _ = Project.init(folder / name, actor=actor, clock=fixed_clock)
    if remote is not None:
        subprocess.run(
            ["git", "remote", "add", "origin", str(remote)], cwd=project.root, check=True
        )
    return project


def _messages(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_s_syncs_in_the_background_says_what_came_in_and_the_screen_follows(tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], check=True)
    ana = _clone(tmp_path, "ana", ANA, remote)
    ben = _clone(tmp_path, "ben", BEN, remote)
    ben.set_item("1.1.1", status="done", owner="Ben Okafor")
    assert sync(ben).ok
    ben.close()
    ana.set_item("1.1.2", note="mine, still in the outbox")
    app = PhasegateApp(ana)
    async with app.run_test(size=(150, 42)) as pilot:
        await pilot.press("S")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("1 change from Ben Okafor" in m for m in _messages(app))
        assert app.project.item_state("1.1.1").status == "done"
        await pilot.pause(2.2)  # the tracker watch reloads the screen from the view
        assert app.project.tracker.outbox() == []  # Ana's change went out with the sync
    remote_refs = Repo(remote).refs(OPS)
    assert len(remote_refs) == 2


async def test_without_a_remote_the_sync_key_files_the_changes_locally(tmp_path):
    alone = _clone(tmp_path, "alone", ANA, None)
    alone.set_item("1.1.1", status="done")
    app = PhasegateApp(alone)
    async with app.run_test(size=(150, 42)) as pilot:
        await pilot.press("S")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("no new changes" in m for m in _messages(app))
        assert not any("cannot" in m for m in _messages(app))
    assert Repo(alone.root).refs(OPS)  # the ops are in this clone's own ref


async def test_leaving_the_tui_files_the_outbox_into_the_replica_ref(tmp_path):
    project = _clone(tmp_path, "p", ANA, None)
    root = project.root
    app = PhasegateApp(project)
    async with app.run_test(size=(150, 42)) as pilot:
        app.project.set_item("1.1.1", status="done")
        await pilot.pause()
    again = Project.open(root, actor=ANA)
    assert again.tracker.outbox() == []
    (head,) = Repo(root).refs(OPS).values()
    assert head
    again.close()
