"""Safe re-generation on real files and real `git merge-file`: a user's edit is never lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.errors import GenerationError
from pipelines.generate import MANIFEST, RenderedFile, apply, plan

V1 = "line one\nline two\nline three\nline four\nline five\n"


def run(root: Path, *files: RenderedFile):
    result = plan(root, files)
    apply(root, result, files)
    return result


def states(result) -> dict[str, str]:
    return {f.path: f.state for f in result.files}


def test_first_run_writes_new_files_and_a_manifest(tmp_path):
    result = run(
        tmp_path, RenderedFile("src/a.py", V1, "t@1"), RenderedFile("docs/b.md", "# B\n", "t@1")
    )
    assert states(result) == {"src/a.py": "new", "docs/b.md": "new"}
    assert (tmp_path / "src/a.py").read_text() == V1
    assert (tmp_path / MANIFEST).is_file()


def test_a_rerun_without_change_writes_nothing(tmp_path):
    files = (RenderedFile("src/a.py", V1),)
    run(tmp_path, *files)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    result = run(tmp_path, *files)
    assert states(result) == {"src/a.py": "unchanged"} and not result.writes
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == stamps


def test_a_template_change_updates_an_untouched_file(tmp_path):
    run(tmp_path, RenderedFile("a.txt", V1))
    result = run(tmp_path, RenderedFile("a.txt", V1.replace("two", "TWO")))
    assert states(result) == {"a.txt": "updated"}
    assert "TWO" in (tmp_path / "a.txt").read_text()


def test_user_edits_survive_an_unchanged_template(tmp_path):
    run(tmp_path, RenderedFile("a.txt", V1))
    (tmp_path / "a.txt").write_text(V1 + "my own line\n")
    result = run(tmp_path, RenderedFile("a.txt", V1))
    assert states(result) == {"a.txt": "unchanged"}
    assert (tmp_path / "a.txt").read_text().endswith("my own line\n")


def test_user_edits_and_template_changes_are_merged(tmp_path):
    run(tmp_path, RenderedFile("a.txt", V1))
    (tmp_path / "a.txt").write_text(V1.replace("line one", "line one, edited by me"))
    result = run(
        tmp_path, RenderedFile("a.txt", V1.replace("line five", "line five, new in the template"))
    )
    assert states(result) == {"a.txt": "merged"}
    text = (tmp_path / "a.txt").read_text()
    assert "edited by me" in text and "new in the template" in text
    # and the merge base moved on: the next run with the same template changes nothing
    assert states(
        run(
            tmp_path,
            RenderedFile("a.txt", V1.replace("line five", "line five, new in the template")),
        )
    ) == {"a.txt": "unchanged"}


def test_overlapping_changes_become_a_conflict_with_markers(tmp_path):
    run(tmp_path, RenderedFile("a.txt", V1))
    (tmp_path / "a.txt").write_text(V1.replace("line three", "line three (mine)"))
    result = run(tmp_path, RenderedFile("a.txt", V1.replace("line three", "line three (template)")))
    assert states(result) == {"a.txt": "conflict"}
    text = (tmp_path / "a.txt").read_text()
    assert "<<<<<<< your version" in text and ">>>>>>> generated now" in text
    assert "line three (mine)" in text and "line three (template)" in text


def test_a_deleted_generated_file_stays_deleted(tmp_path):
    run(tmp_path, RenderedFile("a.txt", V1))
    (tmp_path / "a.txt").unlink()
    result = run(tmp_path, RenderedFile("a.txt", V1.replace("one", "1")))
    assert states(result) == {"a.txt": "deleted"}
    assert not (tmp_path / "a.txt").exists()


def test_a_file_phasegate_did_not_write_is_kept(tmp_path):
    (tmp_path / "README.md").write_text("# Our own readme\n")
    result = run(tmp_path, RenderedFile("README.md", "# Generated\n"))
    assert states(result) == {"README.md": "kept"}
    assert (tmp_path / "README.md").read_text() == "# Our own readme\n"


def test_a_dry_run_writes_nothing_but_shows_the_diff(tmp_path):
    run(tmp_path, RenderedFile("a.txt", V1))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = plan(
        tmp_path, [RenderedFile("a.txt", V1.replace("two", "2")), RenderedFile("b.txt", "b\n")]
    )
    assert states(result) == {"a.txt": "updated", "b.txt": "new"}
    assert "-line two\n+line 2\n" in result.files[0].diff
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("bad", ["../outside.txt", "/etc/passwd", ".phasegate/tracker.db"])
def test_paths_outside_the_repository_are_refused_before_anything_is_written(tmp_path, bad):
    with pytest.raises(GenerationError, match="refusing to generate"):
        plan(tmp_path, [RenderedFile("ok.txt", "fine\n"), RenderedFile(bad, "x")])
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_manifest_is_reported_with_its_line(tmp_path):
    (tmp_path / ".phasegate").mkdir()
    (tmp_path / MANIFEST).write_text('{\n "a.txt": \n')
    with pytest.raises(GenerationError, match=r"generated\.json:3: not valid JSON"):
        plan(tmp_path, [RenderedFile("a.txt", V1)])
