"""Op packs in git refs, through git's plumbing (a handful of processes per sync, never one per op).

deliverables.git asks git everything else, in text; this module is its sibling for the op log,
whose packs are bytes read and written in batches (`cat-file --batch`, `fast-import`).

Each replica appends only to `refs/phasegate/ops/<replica>`: a chain of commits whose tree holds
one blob, `ops`, a pack of canonical op lines (deliverables.oplog.pack). Appending is always a
fast-forward, written with `update-ref <ref> <new> <old>` (a compare-and-swap: a concurrent
writer makes it fail instead of losing a commit). Fetched copies land in
`refs/phasegate/remotes/<remote>/<replica>`, a staging namespace nothing local is overwritten in.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from deliverables.git import GitError, run  # one runner and one error for every git call

OPS = "refs/phasegate/ops/"
STAGING = "refs/phasegate/remotes/"
ZERO = "0" * 40
PACK_FILE = "ops"


def ops_ref(replica: str) -> str:
    return OPS + replica


def staging_ref(remote: str, replica: str) -> str:
    return f"{STAGING}{remote}/{replica}"


@dataclass(frozen=True)
class Repo:
    """The git repository holding a project (its working tree root)."""

    root: Path

    def git(
        self,
        *args: str,
        input: bytes | None = None,
        check: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess:
        # deliverables.git.run starts every git process; here its output stays bytes
        done = run(self.root, list(args), env=env, binary=True, input=input, timeout=timeout)
        if check and done.returncode != 0:
            raise GitError(f"git {args[0]}: {last_line(done.stderr)}")
        return done

    def text(self, *args: str, **kwargs) -> str:
        return self.git(*args, **kwargs).stdout.decode().strip()

    # --- refs ------------------------------------------------------------------------------------

    def refs(self, prefix: str) -> dict[str, str]:
        """Every ref under `prefix` and the commit it points at."""
        out = self.text("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        return dict(line.split(" ", 1) for line in out.splitlines() if line)  # type: ignore[misc]

    def head_of(self, ref: str) -> str | None:
        done = self.git("rev-parse", "--verify", "--quiet", ref + "^{commit}", check=False)
        return done.stdout.decode().strip() or None

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.git("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0

    def set_ref(self, ref: str, new: str, old: str | None) -> None:
        """Compare-and-swap: moves `ref` to `new` only if it still points at `old` (None: only
        if it does not exist yet)."""
        self.git("update-ref", "-m", "phasegate", ref, new, old or ZERO)

    # --- packs -----------------------------------------------------------------------------------

    def write_pack(self, blob: bytes, parent: str | None, message: str, author: str) -> str:
        """A commit (child of `parent`) whose tree holds the pack; returns its id. Nothing points
        at it until `set_ref` does."""
        sha = self.text("hash-object", "-w", "--stdin", input=blob)
        tree = self.text("mktree", input=f"100644 blob {sha}\t{PACK_FILE}\n".encode())
        name, _, email = author.partition(" <")
        identity = {
            "GIT_AUTHOR_NAME": name or "phasegate",
            "GIT_AUTHOR_EMAIL": email.rstrip(">") or "phasegate@localhost",
        }
        identity["GIT_COMMITTER_NAME"] = identity["GIT_AUTHOR_NAME"]
        identity["GIT_COMMITTER_EMAIL"] = identity["GIT_AUTHOR_EMAIL"]
        args = ["commit-tree", tree, "-m", message]
        if parent:
            args += ["-p", parent]
        return self.text(*args, env=identity)

    def append_pack(
        self, ref: str, blob: bytes, parent: str | None, message: str, author: str
    ) -> str:
        """Commits the pack on top of `parent` and moves `ref` there, in one `git fast-import`
        (one process for blob, tree, commit and ref). fast-import moves a ref only forward:
        if another writer moved it meanwhile, nothing changes and GitError says so."""
        name, _, email = author.partition(" <")
        who = f"{name or 'phasegate'} <{email.rstrip('>') or 'phasegate@localhost'}>"
        stamp = f"{int(time.time())} +0000"
        text = message.encode()
        stream = b"".join(
            [
                b"blob\nmark :1\ndata %d\n" % len(blob),
                blob,
                b"\ncommit %s\nmark :2\n" % ref.encode(),
                f"author {who} {stamp}\ncommitter {who} {stamp}\n".encode(),
                b"data %d\n" % len(text),
                text,
                b"\n",
                (f"from {parent}\n".encode() if parent else b"")
                + f"M 100644 :1 {PACK_FILE}\n\nget-mark :2\n".encode(),
            ]
        )
        # zlib level 1: packs of JSON lines shrink about as well, and writing them is 3x faster.
        # unpackLimit 0 keeps the pack fast-import wrote as it is: by default (below 100 objects)
        # it explodes it into loose objects afterwards, compressing everything a second time
        # (half the flush's time for 10,000 ops; `git gc --auto` gathers the small packs).
        done = self.git(
            "-c",
            "pack.compression=1",
            "-c",
            "fastimport.unpackLimit=0",
            "fast-import",
            "--quiet",
            input=stream,
            check=False,
        )
        if done.returncode != 0:
            raise GitError(f"git fast-import: {last_line(done.stderr)}")
        return done.stdout.decode().split()[-1]

    def update_refs(self, updates: list[tuple[str, str, str | None]]) -> None:
        """Several compare-and-swaps (ref, new, old or None: must not exist) in one transaction:
        all move or none."""
        if not updates:
            return
        lines = ["start"]
        lines += [f"update {ref} {new} {old or ZERO}" for ref, new, old in updates]
        lines += ["prepare", "commit", ""]
        self.git("update-ref", "--stdin", input="\n".join(lines).encode())

    def subjects(self, heads: Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
        """The subject line of each commit reachable from `heads` and not from `exclude`."""
        heads = list(heads)
        if not heads:
            return []
        args = ["rev-list", "--format=%s", *heads, *(f"^{c}" for c in exclude)]
        lines = self.text(*args).splitlines()
        return [line for line in lines if not line.startswith("commit ")]

    def commits(self, head: str | Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
        """The commits of the chain(s) ending at `head` not reachable from `exclude`, oldest
        first (one process for any number of refs)."""
        heads = [head] if isinstance(head, str) else list(head)
        if not heads:
            return []
        args = ["rev-list", "--reverse", "--topo-order", *heads]
        args += [f"^{commit}" for commit in exclude]
        return self.text(*args).split()

    def read_packs(self, commits: list[str]) -> list[tuple[str, bytes]]:
        """(commit, pack blob) of each commit, in one `cat-file --batch`."""
        if not commits:
            return []
        query = "".join(f"{c}:{PACK_FILE}\n" for c in commits).encode()
        out = self.git("cat-file", "--batch", input=query).stdout
        packs, at = [], 0
        for commit in commits:
            end = out.index(b"\n", at)
            header = out[at:end].split()
            at = end + 1
            if len(header) < 3 or header[1] != b"blob":  # "<name> missing": no pack in it
                packs.append((commit, b""))
                continue
            size = int(header[2])
            packs.append((commit, out[at : at + size]))
            at += size + 1
        return packs


def last_line(stderr: bytes) -> str:
    """git's most telling line: the last one that says something (hints skipped)."""
    lines = [
        line.strip()
        for line in stderr.decode(errors="replace").splitlines()
        if line.strip() and not line.lstrip().startswith("hint:")
    ]
    errors = [line for line in lines if line.startswith(("fatal:", "error:", "remote:"))]
    return (errors or lines or ["failed"])[-1]
