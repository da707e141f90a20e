"""Op packs in git refs, through git's formats and plumbing (a handful of processes per sync at
most, never one per op).

deliverables.git asks git everything else, in text; this module is its sibling for the op log,
whose packs are bytes read and written in batches.

Each replica appends only to `refs/phasegate/ops/<replica>`: a chain of commits whose tree holds
one blob, `ops`, a pack of canonical op lines (deliverables.oplog.pack). Appending is always a
fast-forward, written as a compare-and-swap of the ref (a concurrent writer makes it fail
instead of losing a commit). Fetched copies land in `refs/phasegate/remotes/<remote>/<replica>`,
a staging namespace nothing local is overwritten in.

Where the repository is laid out as git lays it out by default (the files ref backend, SHA-1
object names, nothing steered by the environment: `Layout`), this module reads and writes git's
own formats itself instead of starting a process for each step: a flush writes its three objects
(blob, tree, commit) as one pack file with its index (Documentation/gitformat-pack.txt); refs
are read from their loose files and `packed-refs` and moved under their `.lock` files, as the
files backend does; fetched commits are read from their loose objects (a fetch of a few commits
leaves them loose); the few settings a sync reads or adds are in the plain config file. Tests
compare each with git's own answer. Anything else (another layout, packed objects, a merge, a
config with includes or quoting) goes to git (`fast-import`, `for-each-ref`, `update-ref`,
`rev-list`, `cat-file --batch`, `config`), as it always did. A sync's git processes are then
the fetch and the push alone.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import struct
import subprocess
import time
import zlib
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


# What steers where git finds the repository, its objects or its refs: with any of them set,
# git itself is asked
_STEERING_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_NAMESPACE",
)


def git_dir(root: Path) -> Path | None:
    """The git directory of the work tree at `root`, read from the disk as git discovers it (a
    `.git` folder, or a `.git` file naming one: a linked worktree, a submodule), saving a
    process; None when the environment steers git's discovery or nothing is found (then
    `git rev-parse` says)."""
    if any(name in os.environ for name in _STEERING_ENV):
        return None
    for folder in (root, *root.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return dot
        if dot.is_file():
            text = dot.read_text(errors="replace").strip()
            if not text.startswith("gitdir: "):
                return None
            found = Path(text.removeprefix("gitdir: "))
            found = found if found.is_absolute() else folder / found
            return found if found.is_dir() else None
        if (folder / "HEAD").is_file() and (folder / "objects").is_dir() and folder == root:
            return folder  # a bare repository (a remote)
    return None


@dataclass(frozen=True)
class Layout:
    """Where a repository keeps what this module reads and writes itself: the common git
    directory (shared by linked worktrees) holding `objects/`, `refs/` and `packed-refs`."""

    common: Path
    writes_refs: bool = True  # False: git writes the refs (it must log their updates)

    @classmethod
    def of(cls, root: Path) -> Layout | None:
        """The layout of the repository at `root` when it is git's default one (files ref
        backend, SHA-1 object names); None when git must be asked instead."""
        found = git_dir(root)
        if found is None:
            return None
        common = found
        pointer = found / "commondir"  # a linked worktree: refs and objects are shared
        if pointer.is_file():
            named = Path(pointer.read_text(errors="replace").strip())
            common = Path(os.path.normpath(named if named.is_absolute() else found / named))
        try:
            config = (common / "config").read_text(errors="replace").lower()
        except OSError:
            return None
        # another object format (SHA-256) or ref backend (reftable), or files shared by a group
        # (core.sharedRepository: the modes git gives them): git's own business
        if any(name in config for name in ("objectformat", "refstorage", "sharedrepository")):
            return None
        if (common / "reftable").exists():
            return None
        if not (common / "objects").is_dir() or not (common / "refs").is_dir():
            return None
        # core.logAllRefUpdates = always: every ref update is logged in a reflog, which git writes
        logged = re.search(r"logallrefupdates\s*=\s*\"?always", config) is not None
        return cls(common, writes_refs=not logged)


@dataclass(frozen=True)
class Repo:
    """The git repository holding a project (its working tree root)."""

    root: Path

    @functools.cached_property
    def layout(self) -> Layout | None:
        return Layout.of(self.root)

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
        """Every ref under `prefix` (a folder of refs, ending in `/`) and the commit it points
        at."""
        layout = self.layout
        if layout is not None and prefix.endswith("/"):
            found = read_refs(layout.common, prefix)
            if found is not None:
                return found
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
        self.update_refs([(ref, new, old)])

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
        """Commits the pack on top of `parent` and moves `ref` there; returns the commit. The
        ref moves only forward: from `parent`, or from a commit the new one continues (it was
        behind, or gone); if another writer moved it elsewhere meanwhile, the ref stays where
        it is and GitError says so. The objects are one pack file written here (no process);
        in a repository laid out otherwise, one `git fast-import` does it all."""
        who = _ident(author)
        stamp = f"{int(time.time())} +0000"
        layout = self.layout
        if layout is None:
            return self._fast_import(ref, blob, parent, message, who, stamp)
        blob_id = object_id("blob", blob)
        tree = b"100644 %s\0%s" % (PACK_FILE.encode(), bytes.fromhex(blob_id))
        tree_id = object_id("tree", tree)
        body = f"tree {tree_id}\n" + (f"parent {parent}\n" if parent else "")
        body += f"author {who} {stamp}\ncommitter {who} {stamp}\n\n{message}\n"
        commit = object_id("commit", body.encode())
        write_pack_file(
            layout.common / "objects",
            [("blob", blob, blob_id), ("tree", tree, tree_id), ("commit", body.encode(), commit)],
        )
        self._move(ref, commit, parent)
        return commit

    def _move(self, ref: str, new: str, old: str | None) -> None:
        """Moves `ref` from `old` to `new`, or forward from wherever it is when `new` continues
        that (what fast-import allows); else GitError."""
        try:
            self.set_ref(ref, new, old)
            return
        except GitError:
            pass
        actual = self.head_of(ref)
        if actual != old and (actual is None or self.is_ancestor(actual, new)):
            self.set_ref(ref, new, actual)
            return
        raise GitError(
            f"git update-ref: {ref} is at {(actual or 'nothing')[:10]}, which the new commit "
            "does not continue: not moved"
        )

    def _fast_import(
        self, ref: str, blob: bytes, parent: str | None, message: str, who: str, stamp: str
    ) -> str:
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
        layout = self.layout
        if layout is not None and layout.writes_refs and write_refs(layout.common, updates):
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

    def read_chains(self, chains: list[tuple[str, str | None]]) -> list[tuple[str, bytes]]:
        """(commit, pack blob) of each commit from each head back to its old head, not
        included (None: the whole chain), oldest first: what `read_packs(commits(heads,
        olds))` gives. Read from the loose objects when every one is loose (a fetch or a flush
        of a few commits leaves them so: `fetch.unpackLimit`) and the chains are what
        phasegate writes (one parent each, each ending at its old head); else by git."""
        layout = self.layout
        if layout is not None:
            found = read_loose_chains(layout.common / "objects", chains)
            if found is not None:
                return found
        heads = [head for head, _ in chains]
        try:
            commits = self.commits(heads, [old for _, old in chains if old])
        except GitError:  # an old head git no longer has: read the chains whole
            commits = self.commits(heads)
        return self.read_packs(commits)

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


def _ident(author: str) -> str:
    """`Name <email>` as a commit header takes it (git strips the same characters)."""
    name, cut, email = author.rpartition(" <")
    if not cut:
        name, email = author, ""
    name = "".join(c for c in name if c not in "<>\n").strip() or "phasegate"
    email = "".join(c for c in email.rstrip(">") if c not in "<>\n").strip()
    return f"{name} <{email or 'phasegate@localhost'}>"


def object_id(kind: str, body: bytes) -> str:
    """The name git gives an object: SHA-1 of its header and its body."""
    digest = hashlib.sha1(b"%s %d\0" % (kind.encode(), len(body)))
    digest.update(body)
    return digest.hexdigest()


_PACK_TYPES = {"commit": 1, "tree": 2, "blob": 3}


def write_pack_file(objects: Path, entries: list[tuple[str, bytes, str]]) -> None:
    """Writes `entries` ((kind, body, object id) each) into `objects/pack` as one pack
    (version 2, each object whole and zlib-compressed at level 1: packs of JSON lines shrink
    about as well as at the default level, three times faster) and its index (version 2), as
    git writes them: both written under temporary names and synced, then renamed, the pack
    first (git reads a pack only through its index, so a reader never sees half of one)."""
    pack = bytearray(b"PACK" + struct.pack(">II", 2, len(entries)))
    index = []  # (object id, crc32 of its packed bytes, offset)
    for kind, body, name in entries:
        size = len(body)
        header = bytearray([(_PACK_TYPES[kind] << 4) | (size & 0x0F)])
        size >>= 4
        while size:
            header[-1] |= 0x80
            header.append(size & 0x7F)
            size >>= 7
        packed = bytes(header) + zlib.compress(body, 1)
        index.append((bytes.fromhex(name), zlib.crc32(packed), len(pack)))
        pack += packed
    checksum = hashlib.sha1(pack).digest()
    pack += checksum
    index.sort()
    fanout, count = [], 0
    for first in range(256):
        count += sum(1 for name, _, _ in index if name[0] == first)
        fanout.append(count)
    idx = bytearray(b"\xfftOc" + struct.pack(">I", 2) + struct.pack(">256I", *fanout))
    idx += b"".join(name for name, _, _ in index)
    idx += struct.pack(f">{len(index)}I", *(crc for _, crc, _ in index))
    idx += struct.pack(f">{len(index)}I", *(offset for _, _, offset in index))
    idx += checksum
    idx += hashlib.sha1(idx).digest()
    folder = objects / "pack"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"pack-{checksum.hex()}"
    for suffix, data in ((".pack", pack), (".idx", idx)):
        final = folder / (name + suffix)
        temporary = folder / f"tmp_{name}_{os.getpid()}{suffix}"
        temporary.unlink(missing_ok=True)  # left by a process of that id killed while writing
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())  # git syncs the packs it writes (core.fsync's default)
        os.replace(temporary, final)


def write_refs(common: Path, updates: list[tuple[str, str, str | None]]) -> bool:
    """Compare-and-swaps of loose refs (ref, new, old or None: must not exist) as git's files
    backend makes them: each ref locked by creating `<ref>.lock` exclusively, every old value
    checked (loose file, else `packed-refs`), then each lock written and renamed over its ref;
    one that does not hold its old value moves none (GitError). False when git must do it (a
    symbolic ref, a folder in the way): nothing was changed then."""
    locked: list[tuple[Path, Path, str]] = []
    try:
        for ref, new, old in updates:
            path = common / ref
            lock = path.with_name(path.name + ".lock")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                raise GitError(
                    f"git update-ref: cannot lock {ref}: {lock} exists (another git process "
                    "is running, or one crashed: then remove that file)"
                ) from None
            except OSError:
                return False
            os.close(fd)
            locked.append((lock, path, new))
            current = read_ref(common, ref)
            if current is False:
                return False
            if current != old:
                raise GitError(
                    f"git update-ref: cannot lock {ref}: it is at {current or 'nothing'}, "
                    f"expected {old or 'nothing'}"
                )
        for lock, _, new in locked:
            lock.write_bytes(f"{new}\n".encode())
        while locked:
            lock, path, _ = locked.pop(0)
            os.replace(lock, path)
        return True
    finally:
        for lock, _, _ in locked:
            lock.unlink(missing_ok=True)


def read_loose_chains(
    objects: Path, chains: list[tuple[str, str | None]]
) -> list[tuple[str, bytes]] | None:
    """`Repo.read_chains` from the loose objects, or None for git to read them (an object not
    loose, a commit with two parents, a chain that does not reach its old head or that meets
    another chain: what rev-list decides)."""
    stops = {old for _, old in chains if old}
    seen: set[str] = set()
    out: list[tuple[str, bytes]] = []
    try:
        for head, old in chains:
            chain, sha = [], head
            while sha != old:
                found = read_loose(objects, sha)
                if sha in stops or sha in seen or found is None or found[0] != b"commit":
                    return None
                lines = found[1].split(b"\n\n", 1)[0].split(b"\n")
                if not lines[0].startswith(b"tree "):
                    return None
                parents = [line[7:].decode() for line in lines[1:] if line.startswith(b"parent ")]
                seen.add(sha)
                chain.append((sha, lines[0][5:].decode()))
                if len(parents) > 1 or (not parents and old is not None):
                    return None
                if not parents:
                    break
                sha = parents[0]
            for commit, tree in reversed(chain):
                blob = _pack_in_tree(objects, tree)
                if blob is None:
                    return None
                out.append((commit, blob))
    except (ValueError, IndexError, UnicodeDecodeError):
        return None
    return out


def _pack_in_tree(objects: Path, tree: str) -> bytes | None:
    """The content of the blob named `ops` in a loose tree (b"" when there is none, as
    `cat-file` reads `<commit>:ops`), or None when git must read it."""
    found = read_loose(objects, tree)
    if found is None or found[0] != b"tree":
        return None
    entries, at = found[1], 0
    while at < len(entries):
        space = entries.index(b" ", at)
        nul = entries.index(b"\0", space)
        name, sha = entries[space + 1 : nul], entries[nul + 1 : nul + 21]
        at = nul + 21
        if name == PACK_FILE.encode():
            found = read_loose(objects, sha.hex())
            if found is None:
                return None
            return found[1] if found[0] == b"blob" else b""
    return b""


def read_loose(objects: Path, sha: str) -> tuple[bytes, bytes] | None:
    """(kind, body) of a loose object, or None when it is not loose (packed, elsewhere) or not
    whole."""
    try:
        raw = zlib.decompress((objects / sha[:2] / sha[2:]).read_bytes())
    except (OSError, zlib.error):
        return None
    cut = raw.find(b"\0")
    kind, _, size = raw[:cut].partition(b" ")
    if cut < 0 or not size.isdigit() or int(size) != len(raw) - cut - 1:
        return None
    return kind, raw[cut + 1 :]


# Configuration given to git by the environment besides files: git must read it
_CONFIG_ENV = ("GIT_CONFIG", "GIT_CONFIG_COUNT", "GIT_CONFIG_PARAMETERS")
_SECTIONS_READ = ("[remote", "[branch", "[phasegate", "[include")


def read_settings(common: Path, wanted: re.Pattern) -> list[str] | None:
    """`git config --get-regexp` of the keys `wanted` matches, as `key value` lines, read from
    the repository's config file; None when git must read them: a value or a section name
    spelled with quotes, escapes or comments in it, includes, a worktree's own config, or a
    global or system file (as git finds them: GIT_CONFIG_GLOBAL, GIT_CONFIG_SYSTEM,
    GIT_CONFIG_NOSYSTEM) with a section of those names."""
    environ = os.environ
    if any(name in environ for name in _CONFIG_ENV):
        return None
    if "GIT_CONFIG_GLOBAL" in environ:
        others = [Path(environ["GIT_CONFIG_GLOBAL"])]
    else:
        home = Path(environ.get("HOME", "/nonexistent"))
        others = [home / ".gitconfig", Path(environ.get("XDG_CONFIG_HOME") or home / ".config")]
        others[1] = others[1] / "git" / "config"
    if environ.get("GIT_CONFIG_NOSYSTEM", "").lower() not in ("1", "true", "yes", "on"):
        others.append(Path(environ.get("GIT_CONFIG_SYSTEM", "/etc/gitconfig")))
    for other in others:
        try:
            text = other.read_text(errors="replace").lower()
        except OSError:
            continue
        if any(section in text for section in _SECTIONS_READ):
            return None
    try:
        text = (common / "config").read_text()
    except (OSError, UnicodeDecodeError):
        return None
    found, section = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[":
            match = _SECTION.fullmatch(line)
            if match is None:
                return None
            name, sub = match.group(1).lower(), match.group(2)
            if name in ("include", "includeif") or name.startswith("includeif"):
                return None
            section = f"{name}.{sub}" if sub is not None else name
            continue
        key, equals, value = line.partition("=")
        key = key.strip().lower()
        if not _KEY.fullmatch(key):
            return None
        if key == "worktreeconfig" and section == "extensions":
            return None
        full = f"{section}.{key}"
        if not wanted.match(full):
            continue
        value = value.strip()
        if not equals or any(c in value for c in '"\\#;'):
            return None
        found.append(f"{full} {value}")
    return found


def add_settings(common: Path, settings: list[tuple[str, str, str]]) -> bool:
    """Appends each (section, key, value) to the repository's config file (`remote.origin`,
    `fetch`, `+refs/...`: a section `[remote "origin"]` of its own, which git reads as one with
    the others of that name) the way `git config` writes it: the whole file written under
    `config.lock` (created exclusively, the file's mode kept) and renamed over it. False, and
    nothing written, when a name or value would need quoting (then `git config` writes it)."""
    text = ""
    for section, key, value in settings:
        name, _, sub = section.partition(".")
        plain = _PLAIN_NAME.fullmatch(name) and _PLAIN_NAME.fullmatch(key)
        if not plain or not _PLAIN_SUB.fullmatch(sub) or not _PLAIN_VALUE.fullmatch(value):
            return False
        text += f'[{name} "{sub}"]\n' if sub else f"[{name}]\n"
        text += f"\t{key} = {value}\n"
    path, lock = common / "config", common / "config.lock"
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        raise GitError(
            f"git config: could not lock {path}: {lock} exists (another git process is "
            "running, or one crashed: then remove that file)"
        ) from None
    try:
        with os.fdopen(fd, "wb") as file:
            old = path.read_bytes()
            os.fchmod(file.fileno(), os.stat(path).st_mode & 0o7777)
            file.write(old + (b"\n" if old and not old.endswith(b"\n") else b"") + text.encode())
        os.replace(lock, path)
    finally:
        lock.unlink(missing_ok=True)
    return True


_PLAIN_NAME = re.compile(r"[a-z][a-z0-9-]*")
_PLAIN_SUB = re.compile(r"[A-Za-z0-9._/-]*")
_PLAIN_VALUE = re.compile(r"[^\s\"\\#;][^\"\\#;\n]*(?<!\s)")


# git's grammar (config.c): `[name]` or `[name "subsection"]`, no other space
_SECTION = re.compile(r'\[([A-Za-z0-9.-]+)(?:\s+"([^"\\]*)")?\]')
_KEY = re.compile(r"[a-z][a-z0-9-]*")


def read_ref(common: Path, ref: str) -> str | bool | None:
    """The commit a ref names as the files backend stores it (its loose file, else its line in
    `packed-refs`), None when it does not exist, False when git must read it (symbolic)."""
    try:
        value = (common / ref).read_bytes().strip()
    except FileNotFoundError:
        value = None
    except OSError:
        return False
    if value is not None:
        return value.decode() if len(value) == 40 and _is_hex(value) else False
    try:
        packed = (common / "packed-refs").read_bytes()
    except FileNotFoundError:
        return None
    at = packed.find(f" {ref}\n".encode())
    if at < 40:
        return None
    start = packed.rfind(b"\n", 0, at) + 1
    sha = packed[start:at]
    return sha.decode() if len(sha) == 40 and _is_hex(sha) else False


def read_refs(common: Path, prefix: str) -> dict[str, str] | None:
    """The refs under `prefix` read as the files ref backend stores them: loose files under
    `refs/` (read first: `git pack-refs` writes `packed-refs` before it deletes them), then
    `packed-refs` for those with no loose file. None for anything git must read itself (a
    symbolic ref, a file that is not a ref)."""
    found: dict[str, str] = {}
    folder = common / prefix
    if folder.is_dir():
        for path in folder.rglob("*"):
            if path.name.endswith(".lock") or path.is_dir():
                continue
            try:
                value = path.read_bytes().strip()
            except OSError:
                continue  # gone meanwhile (packed)
            if len(value) != 40 or not _is_hex(value):
                return None
            found[path.relative_to(common).as_posix()] = value.decode()
    try:
        packed = (common / "packed-refs").read_bytes()
    except FileNotFoundError:
        return found
    except OSError:
        return None
    needle = b" " + prefix.encode()
    for line in packed.split(b"\n"):
        if needle in line and not line.startswith((b"#", b"^")):
            sha, _, name = line.partition(b" ")
            ref = name.decode(errors="replace")
            if ref.startswith(prefix) and _is_hex(sha) and len(sha) == 40:
                found.setdefault(ref, sha.decode())
    return found


def _is_hex(value: bytes) -> bool:
    return not value.strip(b"0123456789abcdef")


def last_line(stderr: bytes) -> str:
    """git's most telling line: the last one that says something (hints skipped)."""
    lines = [
        line.strip()
        for line in stderr.decode(errors="replace").splitlines()
        if line.strip() and not line.lstrip().startswith("hint:")
    ]
    errors = [line for line in lines if line.startswith(("fatal:", "error:", "remote:"))]
    return (errors or lines or ["failed"])[-1]
