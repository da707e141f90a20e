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

import gc
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from deliverables.errors import TrackerError
from deliverables.gitrefs import (
    OPS,
    STAGING,
    GitError,
    Repo,
    add_settings,
    ops_ref,
    read_settings,
)
from deliverables.gitrefs import git_dir as find_git_dir
from deliverables.identity import display_name
from deliverables.oplog import Op, OpError, from_line, pack_text, unpack
from deliverables.store import op_text_problem, plain_text

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


@dataclass
class _Clone:
    """What one sync needs to know of the clone, read from its git config file (or by one git
    process)."""

    remotes: list[str]
    config: list[str]  # "key value" lines of the settings phasegate reads
    branch: str | None


# the settings a sync reads, as `git config --get-regexp` names them
_SETTINGS = re.compile(r"^(remote\..*\.(url|fetch)|branch\..*\.remote|phasegate\.replica)$")


def _clone_facts(repo: Repo) -> _Clone:
    git_dir = find_git_dir(repo.root)
    if git_dir is None:  # not found as git finds it in the common case: git says
        done = repo.git("rev-parse", "--absolute-git-dir", check=False)
        if done.returncode != 0:
            raise TrackerError(f"{repo.root} is not in a git repository: nothing to sync with")
        git_dir = Path(done.stdout.decode().strip())
    head = (git_dir / "HEAD").read_text().strip() if (git_dir / "HEAD").exists() else ""
    branch = head.removeprefix("ref: refs/heads/") if head.startswith("ref: ") else None
    layout = repo.layout
    lines = read_settings(layout.common, _SETTINGS) if layout is not None else None
    if lines is None:  # a configuration git must read (includes, quoting, global remotes, ...)
        found = repo.git("config", "--get-regexp", _SETTINGS.pattern, check=False)
        lines = found.stdout.decode().splitlines()
    remotes = []
    for line in lines:
        key = line.split(" ", 1)[0]
        if key.startswith("remote.") and key.endswith(".url"):
            remotes.append(key[len("remote.") : -len(".url")])
    return _Clone(remotes, lines, branch)


def default_remote(facts: _Clone) -> str | None:
    """The current branch's remote, else `origin`, else the only remote; None: local only."""
    if facts.branch:
        for line in facts.config:
            key, _, value = line.partition(" ")
            if key == f"branch.{facts.branch}.remote" and value in facts.remotes:
                return value
    if "origin" in facts.remotes:
        return "origin"
    return facts.remotes[0] if len(facts.remotes) == 1 else None


def configure(repo: Repo, facts: _Clone, remote: str | None, replica: str) -> None:
    """Once per clone and remote: a plain `git fetch` brings the ops too (into the staging
    namespace); a plain `git push` is left as it was. The replica id goes into the git config.
    Both are appended to the config file at once, as `git config` writes it (under its lock),
    or by `git config` when git must spell them (a remote name it would quote)."""
    settings: list[tuple[str, str, str]] = []
    if not any(line.startswith("phasegate.replica ") for line in facts.config):
        settings.append(("phasegate", "replica", replica))
    if remote is not None:
        spec = fetch_refspec(remote)
        if f"remote.{remote}.fetch {spec}" not in facts.config:
            settings.append((f"remote.{remote}", "fetch", spec))
    if not settings:
        return
    layout = repo.layout
    if layout is None or not add_settings(layout.common, settings):
        for section, key, value in settings:
            repo.git("config", "--add", f"{section}.{key}", value)
    facts.config += [f"{section}.{key} {value}" for section, key, value in settings]


def configure_clone(root: Path, replica: str) -> None:
    """What `init` does in an existing repository: every remote's fetch refspec (a plain `git
    fetch` brings the ops from then on) and the replica id in the git config."""
    repo = Repo(root)
    facts = _clone_facts(repo)
    configure(repo, facts, None, replica)
    for remote in facts.remotes:
        configure(repo, facts, remote, replica)


def fetch_refspec(remote: str) -> str:
    return f"+{OPS}*:{STAGING}{remote}/*"


def flush(tracker, repo: Repo) -> int:
    """Moves the outbox into one new commit on this replica's ref; returns how many ops.

    The commit's parent is the head this clone recorded for its ref (no git process to ask);
    the ref moves only forward (`Repo.append_pack`), so if the ref is elsewhere (a flush killed
    after moving the ref but before emptying the outbox, or a second flush of this clone in
    another process), the ref is not moved (the commit written stays unreferenced, for `git
    gc` to drop): the flush integrates the ref's commits first (which
    takes their ops out of the outbox) and starts over, so no op is written twice. The outbox
    is read, committed and emptied under one write lock (`Tracker.move_outbox`)."""
    return _flush(tracker, repo)[0]


def _flush(tracker, repo: Repo) -> tuple[int, tuple[str | None, str] | None]:
    """`flush`, and (the commit the new one continues, the new one) when it made one."""
    ref = ops_ref(tracker.replica)
    used: list[tuple[str | None, str]] = []

    def commit(blob: bytes, count: int, parent: str | None) -> str:
        head = repo.append_pack(ref, blob, parent, f"phasegate: {count} op(s)", tracker.actor)
        _pause("flush")
        used.append((parent, head))
        return head

    for attempt in range(2):
        if attempt:
            actual = repo.head_of(ref)
            if actual and actual != tracker.heads().get(ref):
                _, problems = _integrate_refs(tracker, repo, {ref: actual})
                if problems:
                    raise TrackerError(problems[0])
        try:
            count = tracker.move_outbox(ref, commit)
            return count, (used[-1] if count else None)
        except GitError:
            if attempt == 0 and repo.head_of(ref) != tracker.heads().get(ref):
                continue  # the ref is not where this clone recorded it: see above
            raise
    return 0, None


def sync(project, remote: str | None = None) -> SyncReport:
    """Syncs the project's tracker with `remote` (default: see `default_remote`)."""
    tracker = project.tracker
    repo = Repo(project.root)
    facts = _clone_facts(repo)
    remote = remote or default_remote(facts)
    if remote is not None and remote not in facts.remotes:
        raise TrackerError(
            f"no git remote '{remote}' (`git remote -v` lists them; `git remote add {remote} URL`)"
        )
    report = SyncReport(remote)
    configure(repo, facts, remote, tracker.replica)
    report.flushed, flushed_on = _flush(tracker, repo)
    fetched = False
    if remote is not None:
        _pause("fetch")
        done = repo.git(
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            remote,
            fetch_refspec(remote),
            check=False,
        )
        if done.returncode == 0:
            fetched = True
            # our ref where this sync's flush left it and the remote's copy at the commit that
            # flush continued: behind ours, without a git process to tell
            known = {ops_ref(tracker.replica): flushed_on} if flushed_on else {}
            problems, refs = _fast_forward(repo, remote, known)
            report.problems += problems
        else:
            report.problems.append(
                f"cannot fetch from {remote}: {_reason(GitError(done.stderr.decode(errors='replace')))}"
                "; nothing lost, sync again later"
            )
            refs = repo.refs("refs/phasegate/")
    else:
        refs = repo.refs(OPS)
    _pause("integrate")
    report.received, refused = _integrate_refs(tracker, repo, _under(refs, OPS))
    report.problems += refused
    if fetched:
        _pause("push")
        own = (ops_ref(tracker.replica), *flushed_on) if flushed_on else None
        report.sent, refused = _push(repo, remote, refs, own, report.flushed)
        report.problems += refused
    return report


def _under(refs: dict[str, str], prefix: str) -> dict[str, str]:
    return {ref: sha for ref, sha in refs.items() if ref.startswith(prefix)}


def _fast_forward(
    repo: Repo, remote: str, known: dict[str, tuple[str | None, str]] | None = None
) -> tuple[list[str], dict[str, str]]:
    """Moves our copy of each replica's ref forward to the fetched one where that continues it
    (all in one ref transaction); returns the problems and every phasegate ref afterwards.
    `known`: per ref, (a commit, its child): with ours at the child and the fetched copy at the
    commit, the copy is behind ours, nothing to check."""
    problems, updates = [], []
    refs = repo.refs("refs/phasegate/")
    staging = f"{STAGING}{remote}/"
    for staged, sha in _under(refs, staging).items():
        ref = ops_ref(staged[len(staging) :])
        ours = refs.get(ref)
        if ours == sha or (known and (sha, ours) == known.get(ref)):
            continue
        if ours is None or repo.is_ancestor(ours, sha):
            updates.append((ref, sha, ours))
        elif not repo.is_ancestor(sha, ours):
            problems.append(
                f"{ref} on {remote} does not continue ours: its history was rewritten there "
                "(ours is kept; `phasegate verify` details it)"
            )
    repo.update_refs(updates)
    for ref, sha, _ in updates:
        refs[ref] = sha
    return problems, refs


def _integrate_refs(tracker, repo: Repo, refs: dict[str, str]) -> tuple[list[Op], list[str]]:
    """Integrates the new commits of every changed ref (one read for all); a ref holding an op
    that does not match its id is left out (its new ops are not taken) and reported."""
    heads = tracker.heads()
    changed = {ref: sha for ref, sha in refs.items() if heads.get(ref) != sha}
    if not changed:
        return [], []
    try:
        ops = _read_ops(repo, [(sha, heads.get(ref)) for ref, sha in changed.items()])
        return tracker.integrate(ops, changed), []
    except OpError:
        pass  # find which ref holds it: one at a time
    received, problems = [], []
    for ref, sha in changed.items():
        old = heads.get(ref)
        try:
            ops = _read_ops(repo, [(sha, old)])
        except UnwritableOp as exc:
            problems.append(
                f"{ref} holds {exc}: its new ops were not taken (`phasegate verify` details it)"
            )
            continue
        except OpError as exc:
            problems.append(
                f"{ref} holds an op that was edited ({exc}): its new ops were not taken "
                "(`phasegate verify` details it)"
            )
            continue
        received += tracker.integrate(ops, {ref: sha})
    return received, problems


def _read_ops(repo: Repo, chains: list[tuple[str, str | None]]) -> list[Op]:
    """The verified ops of the commits from each head back to its old head (None: all)."""
    ops: list[Op] = []
    gc_was_on = gc.isenabled()
    gc.disable()  # decoding allocates and frees nothing: no collector walks (see view.rebuild)
    try:
        for _commit, blob in repo.read_chains(chains):
            text = pack_text(blob)
            start = len(ops)
            ops.extend(unpack(blob, text=text))
            if not plain_text(text, blob):  # one look at the whole pack, else op by op
                for op in ops[start:]:
                    check_received(op)
    finally:
        if gc_was_on:
            gc.enable()
    return ops


class UnwritableOp(OpError):
    """An op with the right id whose text a local write refuses (a control character): forged
    into a ref by hand, it is kept out like an edited op."""


def check_received(op: Op) -> None:
    """Raises `UnwritableOp` for an op that `Tracker.record`/`update` would have refused."""
    problem = op_text_problem(op)
    if problem:
        raise UnwritableOp(f"an op ({op.short}, {op.kind}) that no phasegate writes: its {problem}")


def _push(
    repo: Repo,
    remote: str,
    refs: dict[str, str],
    flushed_on: tuple[str, str | None, str] | None = None,
    flushed: int = 0,
) -> tuple[int, list[str]]:
    """Pushes every ops ref (no force); returns the ops sent and a line per refusal.
    `flushed_on`: (this replica's ref, the commit this sync's flush continued, the one it
    made): when that ref alone went out, at that commit, and the remote had the one before,
    what went out is the `flushed` ops, with no git process to count them."""
    staging = f"{STAGING}{remote}/"
    local = _under(refs, OPS)
    before = {staging + ref[len(OPS) :]: refs.get(staging + ref[len(OPS) :]) for ref in local}
    ahead = {ref: sha for ref, sha in local.items() if before[staging + ref[len(OPS) :]] != sha}
    if not ahead:  # the remote has all we have (as fetched a moment ago)
        return 0, []
    done = repo.git("push", "--porcelain", remote, *(f"{ref}:{ref}" for ref in ahead), check=False)
    problems, pushed = [], []
    for line in done.stdout.decode().splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        flag, spec, summary = parts[0], parts[1], parts[2]
        ref = spec.split(":", 1)[0]
        if flag == "!":
            problems.append(f"{remote} refused {ref}: {summary.strip()}; nothing lost")
        elif flag in ("*", " ", "+", "=") and ref in ahead:
            pushed.append(ref)
    if done.returncode != 0 and not problems:
        problems.append(f"cannot push to {remote}: {_reason(GitError(done.stderr.decode()))}")
    if not pushed:
        return 0, problems
    if flushed_on and pushed == [flushed_on[0]]:
        ref, parent, head = flushed_on
        if ahead[ref] == head and before[staging + ref[len(OPS) :]] == parent:
            return flushed, problems
    olds = [sha for ref in pushed if (sha := before[staging + ref[len(OPS) :]])]
    sent = 0
    for subject in repo.subjects([ahead[ref] for ref in pushed], olds):
        count = subject.removeprefix("phasegate: ").split(" ", 1)[0]
        sent += int(count) if count.isdigit() else 0
    # git itself moves the staging copies (the remote's fetch refspec names them, `configure`)
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
            for number, line in enumerate(blob.decode(errors="replace").split("\n"), 1):
                if not line.strip():
                    continue
                try:
                    op = from_line(line)
                    check_received(op)
                except UnwritableOp as exc:
                    result.problems.append(f"{ref} commit {commit[:10]} line {number}: {exc}")
                    seen.add(op.id)
                    continue
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
    in_git = {
        row[0]
        for row in tracker.query(
            "SELECT id FROM ops WHERE (lamport, replica, id) NOT IN (SELECT * FROM outbox)"
        )
    }
    missing = in_git - seen
    for op_id in sorted(missing)[:20]:
        result.problems.append(f"op {op_id[:10]} was in git and is gone from every ref")
    if len(missing) > 20:
        result.problems.append(f"... and {len(missing) - 20} more ops gone from git")
    return result
