"""The team's tracker through git: flush, fetch, integrate, push; and verify.

`sync(project, remote)`:
1. flush: the outbox (ops written here, not yet in git) becomes one commit on this replica's ref;
2. fetch `+refs/phasegate/ops/*` into `refs/phasegate/remotes/<remote>/*` (staging: forced, so a
   rewritten remote ref lands there and overwrites nothing of ours);
3. each staged ref that continues ours (or that we lack) fast-forwards ours (a compare-and-swap);
   one that does not is a rewritten history: ours is kept and the sync says so;
4. integrate the new commits of every `refs/phasegate/ops/*` into the view (one SQLite
   transaction that also records the heads integrated);
5. push `refs/phasegate/ops/*` without force: the remote refuses a non-fast-forward.
Each step is atomic (git ref updates, one SQLite transaction), so a sync killed anywhere leaves
nothing half-done and the next one completes. Without a remote, 1 and 4 run alone.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from deliverables.errors import TrackerError
from deliverables.gitrefs import OPS, STAGING, GitError, Repo, ops_ref
from deliverables.identity import display_name
from deliverables.oplog import Op, OpError, from_line, pack, unpack

PAUSE_ENV = "PHASEGATE_SYNC_PAUSE"  # tests: "<step>" makes a sync wait there (to be killed)


@dataclass
class SyncReport:
    remote: str | None
    flushed: int = 0
    received: list[Op] = field(default_factory=list)
    sent: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def senders(self) -> list[str]:
        """Who the received ops are from, most first."""
        counts = Counter(display_name(op.author) for op in self.received)
        return [name for name, _ in counts.most_common()]

    def changes_line(self) -> str:
        """`3 changes from Ana Ruiz, Ben Okafor` (what the TUI shows)."""
        n = len(self.received)
        if not n:
            return "no new changes"
        return f"{n} change{'s' if n != 1 else ''} from {', '.join(self.senders())}"

    def line(self) -> str:
        where = f"with {self.remote}" if self.remote else "locally (no git remote)"
        if self.problems:
            where += " (incomplete)"
        out = f"{self.sent} op{'s' if self.sent != 1 else ''} out" if self.remote else ""
        parts = [f"synced {where}: {self.changes_line()} in"] + ([out] if out else [])
        return "; ".join(parts)


def default_remote(repo: Repo) -> str | None:
    """The current branch's remote, else `origin`, else the only remote; None: local only."""
    upstream = repo.git(
        "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}", check=False
    )
    remotes = repo.text("remote").split()
    if upstream.returncode == 0:
        name = upstream.stdout.decode().strip().split("/", 1)[0]
        if name in remotes:
            return name
    if "origin" in remotes:
        return "origin"
    return remotes[0] if len(remotes) == 1 else None


def configure(repo: Repo, remote: str | None, replica: str) -> None:
    """Once per clone and remote: a plain `git fetch` brings the ops too (into the staging
    namespace); a plain `git push` is left as it was. The replica id goes into the git config."""
    found = repo.git(
        "config", "--get-regexp", r"^(remote\..*\.fetch|phasegate\.replica)$", check=False
    )
    lines = found.stdout.decode().splitlines()
    if not any(line.startswith("phasegate.replica ") for line in lines):
        repo.git("config", "phasegate.replica", replica)
    if remote is None:
        return
    spec = fetch_refspec(remote)
    if f"remote.{remote}.fetch {spec}" not in lines:
        repo.git("config", "--add", f"remote.{remote}.fetch", spec)


def fetch_refspec(remote: str) -> str:
    return f"+{OPS}*:{STAGING}{remote}/*"


def flush(tracker, repo: Repo) -> int:
    """Moves the outbox into one new commit on this replica's ref; returns how many ops.

    Killed after the ref moved but before the outbox was marked: the next flush finds the ref
    ahead of the head it recorded and integrates those commits first (which marks their ops as
    in git), so no op is written twice."""
    ref = ops_ref(tracker.replica)
    recorded = tracker.heads().get(ref)
    actual = repo.head_of(ref)
    if actual and actual != recorded:
        _integrate_refs(tracker, repo, {ref: actual})
    pending = tracker.outbox()
    if not pending:
        return 0
    commit = repo.write_pack(
        pack(pending), actual, f"phasegate: {len(pending)} op(s)", tracker.actor
    )
    repo.set_ref(ref, commit, actual)
    _pause("flush")
    tracker.integrate(pending, {ref: commit})
    return len(pending)


def sync(project, remote: str | None = None) -> SyncReport:
    """Syncs the project's tracker with `remote` (default: see `default_remote`)."""
    tracker = project.tracker
    repo = Repo(project.root)
    if repo.git("rev-parse", "--git-dir", check=False).returncode != 0:
        raise TrackerError(f"{project.root} is not in a git repository: nothing to sync with")
    remote = remote or default_remote(repo)
    if remote is not None and remote not in repo.text("remote").split():
        raise TrackerError(
            f"no git remote '{remote}' (`git remote -v` lists them; `git remote add {remote} URL`)"
        )
    report = SyncReport(remote)
    configure(repo, remote, tracker.replica)
    report.flushed = flush(tracker, repo)
    fetched = False
    if remote is not None:
        _pause("fetch")
        try:
            done = repo.git(
                "fetch", "--quiet", "--no-tags", remote, fetch_refspec(remote), check=False
            )
            if done.returncode != 0:
                raise GitError(done.stderr.decode(errors="replace"))
            fetched = True
        except GitError as exc:
            report.problems.append(
                f"cannot fetch from {remote}: {_reason(exc)}; nothing lost, sync again later"
            )
        if fetched:
            report.problems += _fast_forward(repo, remote)
    _pause("integrate")
    report.received = _integrate_refs(tracker, repo, repo.refs(OPS))
    if fetched:
        _pause("push")
        report.sent, refused = _push(repo, remote)
        report.problems += refused
    return report


def _fast_forward(repo: Repo, remote: str) -> list[str]:
    problems = []
    local = repo.refs(OPS)
    for staged, sha in repo.refs(f"{STAGING}{remote}/").items():
        replica = staged.rsplit("/", 1)[1]
        ref = ops_ref(replica)
        ours = local.get(ref)
        if ours == sha:
            continue
        if ours is None:
            repo.set_ref(ref, sha, None)
        elif repo.is_ancestor(ours, sha):
            repo.set_ref(ref, sha, ours)
        elif not repo.is_ancestor(sha, ours):
            problems.append(
                f"{ref} on {remote} does not continue ours: its history was rewritten there "
                "(ours is kept; `phasegate verify` details it)"
            )
    return problems


def _integrate_refs(tracker, repo: Repo, refs: dict[str, str]) -> list[Op]:
    heads = tracker.heads()
    changed = {ref: sha for ref, sha in refs.items() if heads.get(ref) != sha}
    if not changed:
        return []
    commits: list[str] = []
    for ref, sha in changed.items():
        old = heads.get(ref)
        exclude = [old] if old and repo.head_of(old) else []
        commits += repo.commits(sha, exclude)
    ops: list[Op] = []
    for commit, blob in repo.read_packs(list(dict.fromkeys(commits))):
        try:
            ops.extend(unpack(blob))
        except OpError as exc:
            raise TrackerError(
                f"commit {commit[:10]} holds an op that was edited: {exc} (`phasegate verify`)"
            ) from None
    return tracker.integrate(ops, changed)


def _push(repo: Repo, remote: str) -> tuple[int, list[str]]:
    """Pushes every ops ref (no force); returns the ops sent and a line per refusal."""
    before = repo.refs(f"{STAGING}{remote}/")
    if not repo.refs(OPS):  # nothing written yet, by anyone: nothing to push
        return 0, []
    done = repo.git("push", "--porcelain", remote, f"{OPS}*:{OPS}*", check=False)
    out = done.stdout.decode()
    problems, sent_commits = [], []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        flag, refs, summary = parts[0], parts[1], parts[2]
        local = refs.split(":", 1)[0]
        if flag == "!":
            problems.append(f"{remote} refused {local}: {summary.strip()}; nothing lost")
        elif flag in ("*", " ", "+"):
            replica = local.rsplit("/", 1)[1]
            old = before.get(f"{STAGING}{remote}/{replica}")
            head = repo.head_of(local)
            if head:
                sent_commits += repo.commits(head, [old] if old else [])
    if done.returncode != 0 and not problems:
        problems.append(f"cannot push to {remote}: {_reason(GitError(done.stderr.decode()))}")
    sent = sum(blob.count(b"\n") for _, blob in repo.read_packs(sent_commits))
    # the staging copies now match what the remote holds
    if not problems:
        for ref, sha in repo.refs(OPS).items():
            replica = ref.rsplit("/", 1)[1]
            staged = f"{STAGING}{remote}/{replica}"
            if before.get(staged) != sha:
                repo.git("update-ref", staged, sha, check=False)
    return sent, problems


def _reason(exc: Exception) -> str:
    """git's first fatal line says why (`'…' does not appear to be a git repository`); the
    last one only that it could not read."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    fatal = [line for line in lines if "fatal:" in line or "error:" in line]
    text = (fatal or lines or ["failed"])[0]
    for prefix in ("git fetch: ", "git push: ", "fatal: ", "error: "):
        text = text.removeprefix(prefix)
    return text.rstrip(".")


def _pause(step: str) -> None:
    """Lets a test kill a sync at a named step (the environment names it)."""
    if os.environ.get(PAUSE_ENV) == step:
        print(f"paused at {step}", file=sys.stderr, flush=True)
        time.sleep(60)


# --- verify -------------------------------------------------------------------------------------


@dataclass
class Verification:
    refs: int = 0
    commits: int = 0
    ops: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(project) -> Verification:
    """Recomputes every op's id in every replica's chain, checks that each chain only ever grew
    (fetched copies continue ours), and that every op this clone had from git is still in git."""
    tracker, repo = project.tracker, Repo(project.root)
    result = Verification()
    local = repo.refs(OPS)
    seen: set[str] = set()
    for ref, head in sorted(local.items()):
        result.refs += 1
        commits = repo.commits(head)
        result.commits += len(commits)
        for commit, blob in repo.read_packs(commits):
            for number, line in enumerate(blob.decode(errors="replace").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    op = from_line(line)
                except OpError as exc:
                    result.problems.append(f"{ref} commit {commit[:10]} line {number}: {exc}")
                    continue
                seen.add(op.id)
                result.ops += 1
    for staged, sha in repo.refs(STAGING).items():
        ref = ops_ref(staged.rsplit("/", 1)[1])
        ours = local.get(ref)
        if (
            ours
            and ours != sha
            and not repo.is_ancestor(sha, ours)
            and not repo.is_ancestor(ours, sha)
        ):
            remote = staged[len(STAGING) :].split("/", 1)[0]
            result.problems.append(
                f"{ref}: the copy on {remote} ({sha[:10]}) rewrote its history (ours: {ours[:10]})"
            )
    heads = tracker.heads()
    for ref, commit in heads.items():
        if ref in local and local[ref] != commit and not repo.is_ancestor(commit, local[ref]):
            result.problems.append(
                f"{ref}: now at {local[ref][:10]}, which does not contain {commit[:10]} "
                "integrated before: ops were removed or rewritten"
            )
    for op in tracker.ops():
        if op.content_id() != op.id:
            result.problems.append(f"op {op.short} in this clone's log does not match its content")
    in_git = {row[0] for row in tracker.query("SELECT id FROM ops WHERE pushed = 1")}
    missing = in_git - seen
    for op_id in sorted(missing)[:20]:
        result.problems.append(f"op {op_id[:10]} was in git and is gone from every ref")
    if len(missing) > 20:
        result.problems.append(f"... and {len(missing) - 20} more ops gone from git")
    return result
