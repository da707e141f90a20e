"""deliverables/git.py, the one way phasegate talks to git, against real repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deliverables import git

WHO = ["-c", "user.name=Ana Ruiz", "-c", "user.email=ana@example.com"]


def sh(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *WHO, *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git.init(root)
    return root


def test_head_outside_before_and_after_the_first_commit(tmp_path, repo):
    assert git.head(tmp_path / "plain") == (None, None)  # no such folder
    (tmp_path / "plain").mkdir()
    assert git.head(tmp_path / "plain") == (None, None)
    assert git.head(repo) == (None, False)
    (repo / "a.txt").write_text("a\n")
    sh(repo, "add", "a.txt")
    assert git.head(repo) == (None, True)  # staged, nothing committed yet
    sh(repo, "commit", "-qm", "first")
    sha = sh(repo, "rev-parse", "HEAD").strip()
    assert git.head(repo) == (sha, False)
    (repo / "a.txt").write_text("b\n")
    assert git.head(repo) == (sha, True)
    (repo / "a.txt").write_text("a\n")
    (repo / "new.txt").write_text("untracked files do not make the tree dirty\n")
    assert git.head(repo) == (sha, False)


def test_identity_and_path_facts(repo):
    sh(repo, "config", "user.name", "Bo Li")
    sh(repo, "config", "user.email", "bo@example.com")
    assert git.identity(repo) == ("Bo Li", "bo@example.com")
    docs = repo / "docs"
    docs.mkdir()
    assert git.path_facts(repo, "docs") == git.PathFacts("docs", exists=False)
    (docs / "brd.md").write_text("# BRD\n")
    assert git.path_facts(repo, "docs/brd.md") == git.PathFacts(
        "docs/brd.md", exists=True, uncommitted=True
    )
    git.commit_paths(
        repo,
        ["docs"],
        "Draft the BRD",
        name="Ana Ruiz",
        email="ana@example.com",
        date="2026-11-20T10:00:00+00:00",
    )
    facts = git.path_facts(repo, "docs/brd.md")
    assert (facts.tracked, facts.author, facts.date, facts.subject, facts.uncommitted) == (
        True,
        "Ana Ruiz <ana@example.com>",
        "2026-11-20",
        "Draft the BRD",
        False,
    )
    assert facts.last_commit == sh(repo, "rev-parse", "HEAD").strip()[:10]
    (docs / "brd.md").write_text("# BRD v2\n")
    assert git.path_facts(repo, "docs/brd.md").uncommitted


def test_commit_only_leaves_other_staged_changes_staged(repo):
    (repo / "a.txt").write_text("a\n")
    (repo / "report.md").write_text("# report\n")
    sh(repo, "add", "a.txt")
    sha = git.commit_only(repo, repo / "report.md", "Gate report", "Lead Person <lead@example.com>")
    assert sh(repo, "rev-parse", "HEAD").strip() == sha
    assert sh(repo, "show", "--name-only", "--format=%an <%ae>|%s", sha).split() == [
        "Lead",
        "Person",
        "<lead@example.com>|Gate",
        "report",
        "report.md",
    ]
    assert sh(repo, "diff", "--cached", "--name-only").split() == ["a.txt"]


def test_changes_since_a_commit(repo):
    (repo / "kept.txt").write_text("1\n2\n")
    sh(repo, "add", "kept.txt")
    sh(repo, "commit", "-qm", "first")
    commit = sh(repo, "rev-parse", "HEAD").strip()
    (repo / "kept.txt").write_text("1\n2\n3\n")
    (repo / "fresh.txt").write_text("new\n")
    assert git.changes_since(repo, commit) == [("1", "0", "kept.txt")]
    assert git.exists_in(repo, commit, "kept.txt") and not git.exists_in(repo, commit, "fresh.txt")
    assert git.untracked(repo) == ["fresh.txt"]


@pytest.mark.parametrize(
    ("ours", "theirs", "clean"),
    [
        ("A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n", True),  # edits apart merge
        ("a\nb\nX\nd\ne\n", "a\nb\nY\nd\ne\n", False),  # one line, two edits: markers
        ("a\nb\nc\nd\ne\n", "a\nb\nc\nd\ne\n", True),
    ],
)
def test_merge_file(ours, theirs, clean):
    text, merged = git.merge_file(ours, "a\nb\nc\nd\ne\n", theirs, ("yours", "before", "now"))
    assert merged is clean
    if clean:
        assert text == ("A\nb\nc\nd\nE\n" if ours != theirs else ours)
    else:
        assert "<<<<<<< yours" in text and ">>>>>>> now" in text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda root: git.commit_only(root, root / "x.md", "m", "A <a@b>"), "not a git repository"),
        (lambda root: git.changes_since(root, "HEAD"), "git could not diff --numstat HEAD"),
        (lambda root: git.untracked(root / "missing"), "no such folder"),
    ],
)
def test_failures_are_git_errors_with_one_line(tmp_path, call, message):
    with pytest.raises(git.GitError) as caught:
        call(tmp_path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
