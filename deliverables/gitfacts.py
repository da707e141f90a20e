"""What git knows about the solution repository (via GitPython): HEAD and whether the tree is
dirty, a path's last commit and uncommitted changes, and committing one file alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deliverables.errors import TrackerError


@dataclass(frozen=True)
class PathFacts:
    path: str
    exists: bool
    tracked: bool = False
    last_commit: str | None = None  # short sha
    author: str | None = None
    date: str | None = None  # ISO date of the last commit that touched it
    subject: str | None = None
    uncommitted: bool = False  # changed, staged or untracked since HEAD


def _repo(root: Path):
    import git  # GitPython: only when git facts are asked for

    try:
        return git.Repo(root, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


# What phasegate itself writes under .phasegate/ while it works: the tracker (every tick changes
# it), the generation manifest and its base copies. Changing them is not changing the solution, so
# they never make a tree "dirty" (process.yaml stays counted: a team edits it by hand).
OWN_STATE = (".phasegate/tracker.db", ".phasegate/generated.json", ".phasegate/generated")
SOLUTION_PATHSPEC = (".", *(f":(exclude){path}" for path in OWN_STATE))


def head(root: Path) -> tuple[str | None, bool | None]:
    """HEAD's commit and whether tracked files of the solution differ from it (phasegate's own
    state aside); (None, None) outside git."""
    repo = _repo(root)
    if repo is None:
        return None, None
    import git

    try:
        status = repo.git.status("--porcelain", "--untracked-files=no", "--", *SOLUTION_PATHSPEC)
    except git.GitCommandError:
        return None, None
    try:
        commit = repo.head.commit.hexsha
    except ValueError:  # no commit yet
        commit = None
    return commit, bool(status.strip())


def path_facts(root: Path, relative: str) -> PathFacts:
    """Facts of a file or a folder of the repository."""
    target = root / relative
    exists = target.exists() and (not target.is_dir() or any(target.iterdir()))
    repo = _repo(root)
    if repo is None:
        return PathFacts(relative, exists)
    try:
        commits = list(repo.iter_commits(paths=relative, max_count=1))
    except (ValueError, Exception):  # no HEAD yet, or git refused the path
        commits = []
    status = repo.git.status("--porcelain", "--untracked-files=all", "--", relative)
    if not commits:
        return PathFacts(relative, exists, uncommitted=bool(status.strip()))
    last = commits[0]
    return PathFacts(
        relative,
        exists,
        tracked=True,
        last_commit=last.hexsha[:10],
        author=f"{last.author.name} <{last.author.email}>",
        date=last.committed_datetime.date().isoformat(),
        subject=last.summary if isinstance(last.summary, str) else last.summary.decode(),
        uncommitted=bool(status.strip()),
    )


def commit_only(root: Path, path: Path, message: str, actor: str) -> str:
    """Commits `path` alone: whatever else is staged stays staged and out of this commit.
    Returns the new commit's sha."""
    import git

    repo = _repo(root)
    if repo is None:
        raise TrackerError(f"{root} is not a git repository: cannot commit {path.name}")
    relative = str(path.resolve().relative_to(root.resolve()))
    name, _, email = actor.partition(" <")
    env = {}
    if email:
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email.rstrip(">"),
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email.rstrip(">"),
        }
    try:
        repo.git.add("--", relative)
        # --only: a commit of these paths from HEAD plus their working-tree content; the index
        # keeps everyone else's staged changes
        repo.git.commit("--only", "-m", message, "--", relative, env=env)
    except git.GitCommandError as exc:
        detail = (exc.stderr or exc.stdout or str(exc)).strip().splitlines()
        raise TrackerError(
            f"git could not commit {relative}: {detail[-1] if detail else exc}"
        ) from None
    return repo.head.commit.hexsha
