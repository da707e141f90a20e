"""The operation log (ids, canonical JSON, total order, the conflict rule) and its storage in git
refs, on real git repositories."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from deliverables.gitrefs import GitError, Repo, ops_ref
from deliverables.oplog import Op, OpError, canonical, field_change, from_line, pack, unpack


def _op(lamport: int = 1, replica: str = "r1", **payload) -> Op:
    return Op.create(
        lamport=lamport,
        replica=replica,
        author="Ana Ruiz <ana@example.com>",
        at="2026-11-27T09:00:00Z",
        kind="item.set",
        subject="1.1.1",
        payload=payload or {"fields": [["status", "done", None]]},
    )


def test_an_op_id_is_the_hash_of_its_canonical_content():
    op = _op()
    assert len(op.id) == 64 and op.id == op.content_id()
    # the same content spelled in another key order or with other spaces has the same id
    assert canonical({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    again = from_line(op.line())
    assert again == op
    # any change of any field changes the id
    for changed in (
        _op(lamport=2),
        _op(replica="r2"),
        _op(fields=[["status", "todo", None]]),
    ):
        assert changed.id != op.id


@pytest.mark.parametrize(
    "edit",
    [
        lambda line: line.replace('"done"', '"todo"'),
        lambda line: line.replace('"lamport":1', '"lamport":7'),
        lambda line: line.replace("Ana Ruiz", "Eve"),
        lambda line: line.replace("2026-11-27T09", "2025-11-27T09"),
    ],
)
def test_an_edited_op_no_longer_matches_its_id(edit):
    line = edit(_op().line())
    with pytest.raises(OpError, match="does not match its content"):
        from_line(line)
    assert from_line(line, verify=False).kind == "item.set"


@pytest.mark.parametrize("text", ["", "[]", '{"lamport": 1}', "not json", '{"id": 3}'])
def test_a_line_that_is_not_an_op_is_refused_with_a_message(text):
    with pytest.raises(OpError, match="not an op"):
        from_line(text)


def test_packs_round_trip_and_the_total_order_is_lamport_then_replica_then_id():
    ops = [_op(3, "a"), _op(1, "b"), _op(1, "a"), _op(2, "z")]
    assert list(unpack(pack(ops))) == ops
    ordered = sorted(ops, key=lambda op: op.key)
    assert [(o.lamport, o.replica) for o in ordered] == [(1, "a"), (1, "b"), (2, "z"), (3, "a")]


def test_the_conflict_rule():
    first, second = _op(1, "a"), _op(2, "b")
    # never set: wins, no conflict
    assert field_change(first, None, "done", None).wins
    # written after seeing the winner: wins, no conflict
    change = field_change(second, first.id, "todo", (first.id, "done", first.key))
    assert change.wins and not change.conflict
    # written without seeing it (prev is older), a different value: wins, and a conflict
    change = field_change(second, None, "todo", (first.id, "done", first.key))
    assert change.wins and change.conflict
    # the same value: no conflict to look at
    assert not field_change(second, None, "done", (first.id, "done", first.key)).conflict
    # an op older than the winner (folded out of order) loses
    assert not field_change(first, None, "x", (second.id, "todo", second.key)).wins


# --- git refs --------------------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    subprocess.run(["git", "init", "--quiet", str(tmp_path / "r")], check=True)
    return Repo(tmp_path / "r")


def test_packs_are_commits_on_a_replica_ref_read_back_in_order(repo):
    ref = ops_ref("r1")
    assert repo.head_of(ref) is None
    first = repo.write_pack(pack([_op(1), _op(2)]), None, "2 ops", "Ana Ruiz <ana@example.com>")
    repo.set_ref(ref, first, None)
    second = repo.write_pack(pack([_op(3)]), first, "1 op", "Ana Ruiz <ana@example.com>")
    repo.set_ref(ref, second, first)
    assert repo.refs("refs/phasegate/") == {ref: second}
    assert repo.commits(second) == [first, second]
    assert repo.commits(second, [first]) == [second]
    packs = repo.read_packs([first, second])
    assert [[op.lamport for op in unpack(blob)] for _, blob in packs] == [[1, 2], [3]]
    assert repo.is_ancestor(first, second) and not repo.is_ancestor(second, first)
    # the working tree and the index never see the ops
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo.root, capture_output=True, text=True
    )
    assert status.stdout == ""


def test_a_ref_moves_only_from_the_commit_the_writer_saw(repo):
    ref = ops_ref("r1")
    first = repo.write_pack(pack([_op(1)]), None, "1", "A <a@example.com>")
    repo.set_ref(ref, first, None)
    other = repo.write_pack(pack([_op(2)]), None, "2", "A <a@example.com>")
    with pytest.raises(GitError, match="update-ref"):
        repo.set_ref(ref, other, None)  # it exists already
    with pytest.raises(GitError):
        repo.set_ref(ref, other, other)  # it does not point there
    assert repo.head_of(ref) == first


def test_a_commit_without_a_pack_reads_as_empty(repo):
    tree = repo.text("mktree", input=b"")
    commit = repo.text(
        "commit-tree",
        tree,
        "-m",
        "empty",
        env={
            "GIT_AUTHOR_NAME": "a",
            "GIT_AUTHOR_EMAIL": "a@x",
            "GIT_COMMITTER_NAME": "a",
            "GIT_COMMITTER_EMAIL": "a@x",
        },
    )
    assert repo.read_packs([commit]) == [(commit, b"")]


def test_a_new_ops_line_is_the_canonical_json_of_all_its_fields():
    op = _op()
    assert op.line() == canonical({**op.body(), "id": op.id})
    tricky = Op.create(
        lamport=1,
        replica="r",
        author='Eve ","kind":"x <eve@example.com>',
        at="2026-11-27T09:00:00Z",
        kind="item.set",
        subject="1.1.1",
        payload={"kind": ',"kind":'},
    )
    assert tricky.line() == canonical({**tricky.body(), "id": tricky.id})
    assert from_line(tricky.line()) == tricky


def test_a_line_spelled_otherwise_is_accepted_and_kept_in_its_canonical_spelling():
    op = _op()
    spaced = json.dumps({**op.body(), "id": op.id}, indent=1)  # the same content, other spaces
    read = from_line(spaced.replace("\n", ""))
    assert read == op and read.line() == canonical({**op.body(), "id": op.id})


@pytest.mark.parametrize(
    ("log", "marked"),
    [
        # (lamport, replica, in the outbox) of every op in the log; which of them a flush marks
        ([(1, "a", 1), (2, "a", 1), (3, "a", 1)], [0, 1, 2]),  # the whole outbox
        ([(1, "a", 1), (2, "b", 1), (3, "a", 1)], [0, 2]),  # another op waits between them
        ([(1, "a", 1), (2, "b", 0), (3, "a", 1)], [0, 2]),  # one in git already between them
        ([(1, "a", 1), (1, "b", 1), (2, "a", 1)], [0, 2]),  # a concurrent op, same Lamport clock
        ([(1, "a", 0), (2, "a", 1), (3, "b", 1)], [0, 1]),  # one of them in git already
        ([(1, "a", 0), (2, "b", 1), (3, "a", 1)], [0, 2]),  # as many waiting as named, not them
        ([(5, "a", 1)], [0]),
    ],
)
def test_marking_ops_as_in_git_takes_exactly_those_out_of_the_outbox(log, marked):
    import sqlite3

    from deliverables.migrations import migrate
    from deliverables.view import mark_in_git, store_ops

    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn)  # the schema every tracker has
    ops = [_op(lamport, replica) for lamport, replica, _ in log]
    for op, (_, _, waiting) in zip(ops, log, strict=True):
        store_ops(conn, [op], outbox=bool(waiting))
    mark_in_git(conn, [ops[n].key for n in marked])
    waiting = {row[0] for row in conn.execute("SELECT id FROM outbox")}
    assert waiting == {op.id for n, op in enumerate(ops) if log[n][2] and n not in marked}
    # the log keeps every op, each noted once as arrived, in the order they were stored
    assert [row[0] for row in conn.execute("SELECT id FROM ops ORDER BY lamport, replica, id")] == [
        op.id for op in sorted(ops, key=lambda op: op.key)
    ]
    assert [row[0] for row in conn.execute("SELECT id FROM arrivals ORDER BY seq")] == [
        op.id for op in ops
    ]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\r", "\x0b", "\x1c", "\n"])
def test_a_pack_reads_back_whatever_line_separator_a_value_holds(separator):
    op = _op(fields=[["note", f"one{separator}two", None]])
    assert [o.payload for o in unpack(pack([op, _op(2)]))] == [op.payload, _op(2).payload]


def test_a_pack_that_is_not_utf8_is_refused_with_a_message():
    with pytest.raises(OpError, match="not UTF-8"):
        list(unpack(pack([_op()]) + b"\xff\n"))


# --- the pack file and the refs this module writes and reads without git -----------------------


def _git_out(root: Path, *args: str, env: dict | None = None) -> str:
    import os

    done = subprocess.run(
        ["git", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **env} if env else None,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    "author",
    [
        "Ana Ruiz <ana@example.com>",
        "Zoë 100% <zoe@example.com>",  # not ASCII, and a % the commit text must keep
        "no email",
        "Odd <<name>> <odd@example.com>",  # what git strips from an identity, stripped here too
    ],
)
def test_a_flushed_pack_is_objects_git_names_and_checks_the_same(repo, author):
    assert repo.layout is not None  # a default repository: written without a git process
    ref = ops_ref("r1")
    blob = pack([_op(n) for n in range(1, 200)])
    first = repo.append_pack(ref, blob, None, "phasegate: 199 op(s)", author)
    second = repo.append_pack(ref, pack([_op(200)]), first, "phasegate: 1 op(s)", author)
    # git computes the same names for what was written, reads it back whole, and finds nothing
    # wrong with the objects, the pack files or their indexes
    assert (
        _git_out(repo.root, "rev-parse", f"{first}:ops").strip()
        == subprocess.run(
            ["git", "hash-object", "--stdin"], input=blob, capture_output=True, cwd=repo.root
        )
        .stdout.decode()
        .strip()
    )
    assert _git_out(repo.root, "cat-file", "blob", f"{first}:ops").encode() == blob
    assert _git_out(repo.root, "rev-parse", ref).strip() == second
    assert _git_out(repo.root, "rev-list", "--format=%s", second).count("phasegate:") == 2
    assert _git_out(repo.root, "log", "-1", "--format=%an <%ae>", second).strip() == (
        author.replace("<<name>>", "name") if "<" in author else f"{author} <phasegate@localhost>"
    )
    _git_out(repo.root, "fsck", "--strict", "--no-dangling", "--full")
    for index in (repo.root / ".git" / "objects" / "pack").glob("*.idx"):
        _git_out(repo.root, "verify-pack", str(index))
    assert repo.commits(second) == [first, second]
    assert [len(list(unpack(b))) for _, b in repo.read_packs([first, second])] == [199, 1]


def test_the_ref_moves_only_forward_as_fast_import_moved_it(repo):
    ref = ops_ref("r1")
    first = repo.append_pack(ref, pack([_op(1)]), None, "1", "A <a@example.com>")
    second = repo.append_pack(ref, pack([_op(2)]), first, "1", "A <a@example.com>")
    # another writer moved it meanwhile: nothing moves, GitError says so
    with pytest.raises(GitError, match="does not continue"):
        repo.append_pack(ref, pack([_op(3)]), first, "1", "A <a@example.com>")
    assert repo.head_of(ref) == second
    # behind the commit written on (moved back by hand), or deleted: it moves forward
    repo.git("update-ref", ref, first)
    third = repo.append_pack(ref, pack([_op(3)]), second, "1", "A <a@example.com>")
    assert repo.head_of(ref) == third
    repo.git("update-ref", "-d", ref)
    fourth = repo.append_pack(ref, pack([_op(4)]), third, "1", "A <a@example.com>")
    assert repo.head_of(ref) == fourth
    assert repo.commits(fourth) == [first, second, third, fourth]


def test_refs_are_read_from_loose_files_and_packed_refs_as_git_reads_them(repo):
    first = repo.append_pack(ops_ref("a"), pack([_op(1)]), None, "1", "A <a@example.com>")
    other = repo.append_pack(ops_ref("b"), pack([_op(2)]), None, "1", "A <a@example.com>")
    repo.git("update-ref", "refs/phasegate/remotes/origin/a", first)
    repo.git("update-ref", "refs/phasegate/opsx", other)  # a sibling name, not under ops/
    expected = {ops_ref("a"): first, ops_ref("b"): other}
    assert repo.refs("refs/phasegate/ops/") == expected
    repo.git("pack-refs", "--all")  # every ref in packed-refs now, no loose file
    assert not (repo.root / ".git" / "refs" / "phasegate" / "ops" / "a").exists()
    assert repo.refs("refs/phasegate/ops/") == expected
    second = repo.append_pack(ops_ref("a"), pack([_op(3)]), first, "1", "A <a@example.com>")
    # a loose file overrides the packed line; a deleted one leaves the packed line out too
    assert repo.refs("refs/phasegate/ops/") == {**expected, ops_ref("a"): second}
    repo.git("update-ref", "-d", ops_ref("b"))
    assert repo.refs("refs/phasegate/ops/") == {ops_ref("a"): second}
    assert repo.refs("refs/phasegate/") == {
        ops_ref("a"): second,
        "refs/phasegate/remotes/origin/a": first,
        "refs/phasegate/opsx": other,
    }
    listed = _git_out(repo.root, "for-each-ref", "--format=%(refname) %(objectname)", "refs/")
    assert dict(line.split() for line in listed.splitlines()) == repo.refs("refs/phasegate/")


def test_a_linked_worktree_and_a_steered_git_share_the_same_refs_and_objects(repo, tmp_path):
    base = repo.append_pack(ops_ref("a"), pack([_op(1)]), None, "1", "A <a@example.com>")
    _git_out(
        repo.root,
        "-c",
        "user.name=a",
        "-c",
        "user.email=a@x",
        "commit",
        "--allow-empty",
        "-q",
        "-m",
        "x",
    )
    _git_out(repo.root, "worktree", "add", "-q", str(tmp_path / "linked"))
    linked = Repo(tmp_path / "linked")
    assert linked.layout is not None and linked.layout.common == repo.root / ".git"
    head = linked.append_pack(ops_ref("a"), pack([_op(2)]), base, "1", "A <a@example.com>")
    assert repo.refs("refs/phasegate/") == {ops_ref("a"): head} == linked.refs("refs/phasegate/")
    # git told where the repository is: git writes and lists (fast-import, for-each-ref)
    import os

    os.environ["GIT_DIR"] = str(repo.root / ".git")
    try:
        steered = Repo(tmp_path / "linked")
        assert steered.layout is None
        tip = steered.append_pack(ops_ref("a"), pack([_op(3)]), head, "1", "A <a@example.com>")
        assert steered.refs("refs/phasegate/") == {ops_ref("a"): tip}
    finally:
        del os.environ["GIT_DIR"]
    assert repo.refs("refs/phasegate/") == {ops_ref("a"): tip}
    assert repo.commits(tip) == [base, head, tip]
    _git_out(repo.root, "fsck", "--strict", "--no-dangling")


def test_refs_move_together_or_not_at_all_and_a_held_lock_is_a_clear_error(repo):
    a = repo.append_pack(ops_ref("a"), pack([_op(1)]), None, "1", "A <a@example.com>")
    b = repo.append_pack(ops_ref("b"), pack([_op(2)]), None, "1", "A <a@example.com>")
    c = repo.append_pack(ops_ref("c"), pack([_op(3)]), None, "1", "A <a@example.com>")
    repo.git("pack-refs", "--all")  # the old values are read from packed-refs too
    with pytest.raises(GitError, match="expected"):
        repo.update_refs([(ops_ref("a"), b, a), (ops_ref("b"), c, a)])  # b is not at a
    assert repo.refs("refs/phasegate/") == {ops_ref("a"): a, ops_ref("b"): b, ops_ref("c"): c}
    repo.update_refs([(ops_ref("a"), b, a), (ops_ref("b"), c, b), (ops_ref("d"), a, None)])
    assert repo.refs("refs/phasegate/") == {
        ops_ref("a"): b,
        ops_ref("b"): c,
        ops_ref("c"): c,
        ops_ref("d"): a,
    }
    lock = repo.root / ".git" / "refs" / "phasegate" / "ops" / "c.lock"
    lock.write_text("")  # another git process at work, or one that crashed
    with pytest.raises(GitError, match=r"c\.lock exists"):
        repo.set_ref(ops_ref("c"), a, c)
    assert lock.exists() and repo.head_of(ops_ref("c")) == c
    assert not list((repo.root / ".git" / "refs").rglob("[abd].lock"))  # none left behind
    _git_out(repo.root, "fsck", "--strict", "--no-dangling")


def test_chains_read_from_loose_objects_are_what_git_reads(repo):
    from deliverables.gitrefs import read_loose_chains

    author = "A <a@example.com>"
    objects = repo.root / ".git" / "objects"
    # loose objects (hash-object, mktree, commit-tree), as a fetch of a few commits leaves them
    a1 = repo.write_pack(pack([_op(1), _op(2)]), None, "2", author)
    a2 = repo.write_pack(pack([_op(3)]), a1, "1", author)
    a3 = repo.write_pack(b"", a2, "0", author)  # an empty pack
    b1 = repo.write_pack(pack([_op(4, "r2")]), None, "1", author)
    tree = repo.text("mktree", input=b"")  # a commit holding no pack at all
    env = {
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@x",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@x",
    }
    b2 = repo.text("commit-tree", tree, "-p", b1, "-m", "none", env=env)
    merge = repo.text("commit-tree", tree, "-p", a1, "-p", b1, "-m", "merge", env=env)

    def by_git(chains):
        heads = [head for head, _ in chains]
        return repo.read_packs(repo.commits(heads, [old for _, old in chains if old]))

    for chains in (
        [(a3, None)],
        [(a3, a1)],
        [(a3, a2), (b2, None)],
        [(b2, b1), (a2, None)],
    ):
        loose = read_loose_chains(objects, chains)
        assert loose is not None  # read without git
        assert sorted(loose) == sorted(by_git(chains)) and repo.read_chains(chains) == loose
        for head, old in chains:  # each chain oldest first
            own = [c for c in repo.commits(head, [old] if old else [])]
            assert [c for c, _ in loose if c in own] == own
    # what git decides: an old head the chain does not reach, a merge, chains that meet
    for chains in ([(a2, b1)], [(merge, None)], [(a3, a1), (a2, None)]):
        assert read_loose_chains(objects, chains) is None
    assert sorted(repo.read_chains([(a2, b1)])) == sorted(by_git([(a2, b1)]))
    assert sorted(repo.read_chains([(merge, a1)])) == sorted(by_git([(merge, a1)]))
    # packed (gc): git reads them
    repo.git("update-ref", ops_ref("a"), a3)
    repo.git("update-ref", ops_ref("b"), b2)
    repo.git("gc", "--quiet")
    assert read_loose_chains(objects, [(a3, None)]) is None
    assert repo.read_chains([(a3, a1), (b2, None)]) == by_git([(a3, a1), (b2, None)])


@pytest.mark.parametrize(
    "setting",
    [
        ("core.sharedRepository", "group"),
        ("extensions.refStorage", "files"),
        ("core.logAllRefUpdates", "always"),
    ],
)
def test_a_repository_set_up_otherwise_is_left_to_git(repo, setting):
    """Files shared by a group get the modes git gives them; another ref backend is git's; a
    reflog for every ref is git's to write."""
    repo.git("config", *setting)
    fresh = Repo(repo.root)
    layout = fresh.layout
    assert layout is None or (setting[1] == "always" and not layout.writes_refs)
    head = fresh.append_pack(ops_ref("a"), pack([_op(1)]), None, "1", "A <a@example.com>")
    assert fresh.refs("refs/phasegate/") == {ops_ref("a"): head}
    assert [len(list(unpack(b))) for _, b in fresh.read_chains([(head, None)])] == [1]
    if setting[1] == "always":  # git wrote the ref, and its reflog
        assert (repo.root / ".git" / "logs" / ops_ref("a")).is_file()
