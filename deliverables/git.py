"""Every question phasegate asks git, and every change it makes there: one module, one way.

All of it runs the `git` executable (no GitPython): HEAD and whether the tree is dirty, who the
user is, a path's last commit and uncommitted changes, the changes since a commit, committing one
file alone, initialising a repository, and the three-way merge of regenerated files. A failure is
a `GitError` (a `TrackerError`) naming the git command and git's own last line.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import NamedTuple

from deliverables.errors import TrackerError

TIMEOUT = 60  # seconds: git answers these in milliseconds; a hung git must not hang phasegate


class GitError(TrackerError):
    """git could not do what was asked (or is not installed)."""


class PathFacts(NamedTuple):
    """What git knows of one file or folder of the repository."""

    path: str
    exists: bool
    tracked: bool = False
    last_commit: str | None = None  # short sha
    author: str | None = None
    date: str | None = None  # ISO date of the last commit that touched it
    subject: str | None = None
    uncommitted: bool = False  # changed, staged or untracked since HEAD


# What phasegate itself writes under .phasegate/ while it works: the tracker (every tick changes
# it), the generation manifest and its base copies. Changing them is not changing the solution, so
# they never make a tree "dirty" (process.yaml stays counted: a team edits it by hand).
OWN_STATE = (".phasegate/tracker.db", ".phasegate/generated.json", ".phasegate/generated")
SOLUTION_PATHSPEC = (".", *(f":(exclude){path}" for path in OWN_STATE))


def head(root: Path) -> tuple[str | None, bool | None]:
    """HEAD's commit and whether tracked files of the solution differ from it (phasegate's own
    state aside): (None, None) outside git, (None, dirty) before the first commit."""
    status = _git(
        root, "status", "--porcelain", "--untracked-files=no", "--", *SOLUTION_PATHSPEC, check=False
    )
    if status is None:
        return None, None
    commit = _git(root, "rev-parse", "--verify", "-q", "HEAD", check=False)
    return (commit.strip() or None) if commit else None, bool(status.strip())


def identity(root: Path) -> tuple[str, str]:
    """The repository's `user.name` and `user.email` ('' for what is not set)."""
    out = _git(root, "config", "--get-regexp", r"^user\.(name|email)$", check=False) or ""
    values = dict(line.partition(" ")[::2] for line in out.splitlines())
    return values.get("user.name", "").strip(), values.get("user.email", "").strip()


def inside_repository(path: Path) -> bool:
    """Whether `path` or a folder above it is a git work tree (read from the disk: no process)."""
    return any((p / ".git").exists() for p in (path, *path.parents))


def init(root: Path) -> None:
    """`git init` in `root` (a repository of its own, even inside another one)."""
    _git(root, "init", "--quiet", str(root))


def path_facts(root: Path, relative: str) -> PathFacts:
    """Facts of a file or a folder of the repository."""
    target = root / relative
    exists = target.exists() and (not target.is_dir() or any(target.iterdir()))
    status = _git(
        root, "status", "--porcelain", "--untracked-files=all", "--", relative, check=False
    )
    if status is None:  # not a repository
        return PathFacts(relative, exists)
    # no HEAD yet, or a path git refuses: no commit to tell of
    last = _git(
        root, "log", "-1", "--format=%H%x00%an%x00%ae%x00%cI%x00%s", "--", relative, check=False
    )
    if not last or not last.strip():
        return PathFacts(relative, exists, uncommitted=bool(status.strip()))
    sha, name, email, date, subject = last.rstrip("\n").split("\x00", 4)
    return PathFacts(
        relative,
        exists,
        tracked=True,
        last_commit=sha[:10],
        author=f"{name} <{email}>",
        date=date[:10],
        subject=subject,
        uncommitted=bool(status.strip()),
    )


def commit_only(root: Path, path: Path, message: str, actor: str) -> str:
    """Commits `path` alone, authored by `actor` (`Name <email>`): whatever else is staged stays
    staged and out of this commit. Returns the new commit's sha."""
    if not inside_repository(root):
        raise GitError(f"{root} is not a git repository: cannot commit {path.name}")
    relative = str(path.resolve().relative_to(root.resolve()))
    name, _, email = actor.partition(" <")
    env = {}
    if email:
        email = email.rstrip(">")
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
    _git(root, "add", "--", relative, what=f"commit {relative}")
    # --only: a commit of these paths from HEAD plus their working-tree content; the index keeps
    # everyone else's staged changes
    _git(
        root, "commit", "--only", "-m", message, "--", relative, env=env, what=f"commit {relative}"
    )
    return (_git(root, "rev-parse", "HEAD") or "").strip()


def commit_paths(
    root: Path, paths: list[str], message: str, *, name: str, email: str, date: str | None = None
) -> None:
    """Adds `paths` and commits them as `name <email>`, dated `date` (ISO) when given."""
    who = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
    env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
    _git(root, *who, "add", "--", *paths, env=env)
    _git(root, *who, "commit", "--quiet", "-m", message, env=env)


def changes_since(root: Path, commit: str) -> list[tuple[str, str, str]]:
    """(added, deleted, path) of every tracked file that differs from `commit` in the work tree;
    `-` counts for binary files, as git prints them."""
    out = _git(root, "diff", "--numstat", commit) or ""
    return [tuple(line.split("\t", 2)) for line in out.splitlines() if line]  # type: ignore[misc]


def exists_in(root: Path, commit: str, path: str) -> bool:
    """Whether `path` existed in `commit`."""
    return _git(root, "cat-file", "-e", f"{commit}:{path}", check=False) is not None


def untracked(root: Path) -> list[str]:
    """Files git does not track and does not ignore."""
    return (_git(root, "ls-files", "--others", "--exclude-standard") or "").splitlines()


def commit_date(root: Path, revision: str) -> str | None:
    """The committer date (ISO 8601) of a commit named any way git knows; None if there is none."""
    out = _git(root, "show", "-s", "--format=%cI", f"{revision}^{{commit}}", "--", check=False)
    return out.strip().splitlines()[-1] if out and out.strip() else None


def is_tracked(root: Path, path: str) -> bool:
    """Whether git tracks `path` (relative to the work tree)."""
    return _git(root, "ls-files", "--error-unmatch", "--", path, check=False) is not None


def merge_file(ours: str, base: str, theirs: str, labels: tuple[str, str, str]) -> tuple[str, bool]:
    """Three-way merge of texts with `git merge-file`: (the merged text with conflict markers
    labelled `labels`, whether it merged cleanly)."""
    import tempfile  # only when merging

    with tempfile.TemporaryDirectory(prefix="phasegate-merge-") as tmp:
        paths = []
        for name, text in (("yours", ours), ("base", base), ("generated", theirs)):
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        args = ["merge-file", "-p"]
        for label in labels:
            args += ["-L", label]
        result = run(Path(tmp), [*args, *paths])
    # merge-file exits with the number of conflicts (capped at 127); above that is a failure
    if result.returncode < 0 or result.returncode > 127:
        raise GitError(f"git merge-file failed: {_last_line(result)}")
    return result.stdout, result.returncode == 0


# --- one way to run git ---------------------------------------------------------------------------


def _git(
    root: Path, *args: str, check: bool = True, env: dict | None = None, what: str | None = None
) -> str | None:
    """git's output; on failure a GitError (`check`) or None."""
    try:
        result = run(root, list(args), env=env)
    except GitError:
        if check:
            raise
        return None
    if result.returncode != 0:
        if check:
            raise GitError(f"git could not {what or ' '.join(args)}: {_last_line(result)}")
        return None
    return result.stdout


def run(
    cwd: Path,
    args: list[str],
    *,
    env: dict | None = None,
    binary: bool = False,
    input: bytes | None = None,
    timeout: float = TIMEOUT,
) -> subprocess.CompletedProcess:
    """The one place phasegate starts git: `git ARGS` in `cwd`, output captured as text (bytes
    with `binary`, fed `input`: deliverables.gitrefs streams op packs), never waiting on a
    terminal. Not finding git or the folder, or no answer within `timeout`, is a GitError."""
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=not binary,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            timeout=timeout,
            env={**os.environ, **env} if env else None,
        )
    except (FileNotFoundError, NotADirectoryError):
        if not cwd.is_dir():
            raise GitError(f"{cwd}: no such folder") from None
        raise GitError("git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} gave no answer within {timeout:.0f} s") from None


def _last_line(result: subprocess.CompletedProcess) -> str:
    lines = (result.stderr or result.stdout or "").strip().splitlines()
    return lines[-1] if lines else f"exit code {result.returncode}"
