"""The operation log: every change to the tracker as an immutable, content-addressed op.

An op names who (author, the git identity), where (replica: one clone of one person), when (wall
time `at`, for people; a Lamport clock, for ordering), what (kind, subject) and the data
(payload). Its id is the sha256 of the canonical JSON of all the rest, so anyone can recompute it:
an op whose text was edited no longer matches its id (`phasegate verify`).

Every clone sorts the union of all ops the same way, by `(lamport, replica, id)`, and folds them
into the same view (deliverables.view). A new local op takes `lamport = max(every lamport seen) + 1`,
so it sorts after everything its author had seen; two ops that sort in the other order than their
`prev` says were written concurrently, and the later in the order wins (see `field_change`).

Pure: no git, no SQLite (deliverables.gitrefs stores packs of ops in git, deliverables.store keeps
them in SQLite).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# What a payload of each kind carries (documented in docs/design/team-sync.md):
#   item.set / deliverable.set  {"fields": {name: {"value": v, "prev": op id | None}}}
#   gate.request                {"phase", "reviewers", "action"}
#   gate.decision               {"request": op id, "decision", "comment", "action"}
#   gate.review                 {"phase", "request": op id | None, "outcome", "git_commit",
#                                "git_dirty", "record", "corrects": op id | None, "follows": op id}
#   waiver.request              {"target", "reason", "expires", "action"}
#   waiver.approve              {"waiver": op id, "action"}
#   standup                     {"day", "yesterday", "today", "blockers"}
#   session                     {}
#   run                         {"tier", "status", "started_at", "finished_at", "git_commit",
#                                "git_dirty", "pipelines", "versions", "summary", "checks": [...]}
#   profile                     {"profile": a source's profile as pipelines.profiling.outputs
#                                .summary stores it (drift included), "action"}
#   import                      {"table", "row"}: one row of a tracker made before the op log
KINDS = (
    "item.set",
    "deliverable.set",
    "gate.request",
    "gate.decision",
    "gate.review",
    "waiver.request",
    "waiver.approve",
    "standup",
    "session",
    "run",
    "profile",
    "import",
)
IMPORT_REPLICA = "import"  # the pseudo-replica of migrated history: the same on every clone


class OpError(ValueError):
    """A line that is not a well-formed op, or whose id does not match its content."""


def canonical(value: Any) -> str:
    """The one JSON spelling of a value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_scan = json.JSONDecoder().scan_once  # the C scanner json.loads ends in


def decode(text: str) -> Any:
    """`json.loads` of a compact JSON text (an op line, a payload cut out of one): the C scanner
    alone, without `loads`' two regex passes and three Python frames (half the decoding time of a
    rebuild's 100,000 payloads). Anything else (whitespace around it, invalid JSON) goes through
    `json.loads`, which decodes it or raises its own error."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        end = -1
    return value if end == len(text) else json.loads(text)


def new_replica_id() -> str:
    """A replica: one clone of one person, random so two clones never share one."""
    return os.urandom(16).hex()


@dataclass(frozen=True)
class Op:
    lamport: int
    replica: str
    author: str
    at: str  # UTC, YYYY-MM-DDTHH:MM:SSZ
    kind: str
    subject: str
    payload: dict = field(default_factory=dict)
    id: str = ""
    raw: str = field(default="", compare=False, repr=False)  # the pack line it was read from

    @classmethod
    def create(
        cls,
        *,
        lamport: int,
        replica: str,
        author: str,
        at: str,
        kind: str,
        subject: str,
        payload: dict,
    ) -> Op:
        """A new op with its id computed from its content."""
        body = canonical(
            {
                "lamport": lamport,
                "replica": replica,
                "author": author,
                "at": at,
                "kind": kind,
                "subject": subject,
                "payload": payload,
            }
        )
        op_id = hashlib.sha256(body.encode()).hexdigest()
        # the line is the body with the id among its sorted keys, right before "kind" (the first
        # `,"kind":` is the top-level one: a quote inside a string is escaped)
        cut = body.index(',"kind":')
        line = f'{body[:cut]},"id":"{op_id}"{body[cut:]}'
        return cls(lamport, replica, author, at, kind, subject, payload, op_id, line)

    @classmethod
    def stored(
        cls,
        lamport: int,
        replica: str,
        author: str,
        at: str,
        kind: str,
        subject: str,
        payload: dict,
        op_id: str,
        raw: str,
    ) -> Op:
        """The same op as `Op(...)` with these fields, built by filling its `__dict__`: a frozen
        dataclass's `__init__` sets each field through `object.__setattr__`, which was a tenth
        of a rebuild. For ops read back (from the log, or a pack line being verified)."""
        op = _new(cls)
        fields = op.__dict__
        fields["lamport"], fields["replica"], fields["author"] = lamport, replica, author
        fields["at"], fields["kind"], fields["subject"] = at, kind, subject
        fields["payload"], fields["id"], fields["raw"] = payload, op_id, raw
        return op

    def body(self) -> dict:
        """Every field but the id: what the id is the hash of."""
        return {
            "lamport": self.lamport,
            "replica": self.replica,
            "author": self.author,
            "at": self.at,
            "kind": self.kind,
            "subject": self.subject,
            "payload": self.payload,
        }

    def content_id(self) -> str:
        return hashlib.sha256(canonical(self.body()).encode()).hexdigest()

    @property
    def key(self) -> tuple[int, str, str]:
        """The total order every clone agrees on."""
        return (self.lamport, self.replica, self.id)

    def line(self) -> str:
        """One line of a pack: the canonical JSON of the body and the id."""
        return self.raw or canonical({**self.body(), "id": self.id})

    @property
    def short(self) -> str:
        return self.id[:10]


_new = object.__new__


def from_line(text: str, *, verify: bool = True, encoded: bytes | None = None) -> Op:
    """Reads one pack line; with `verify`, refuses an op whose id is not its content's hash.
    `encoded`: the line's UTF-8 bytes, when the caller has them (a pack), so they are hashed
    without encoding the line again."""
    try:
        data = decode(text)
        op = Op.stored(
            int(data["lamport"]),
            str(data["replica"]),
            str(data["author"]),
            str(data["at"]),
            str(data["kind"]),
            str(data["subject"]),
            dict(data["payload"]),
            str(data["id"]),
            text,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise OpError(f"not an op: {exc}: {text[:80]!r}") from None
    if verify:
        canonical_line = _matches_line(op, text, encoded)
        if canonical_line is None:
            if op.content_id() != op.id:
                raise OpError(
                    f"op {op.id[:10]} does not match its content (edited after it was written)"
                )
            # the right content, spelled otherwise: kept in its canonical spelling, which the
            # log relies on (deliverables.view.read_ops cuts the payload out of it)
            return Op(*(getattr(op, name) for name in _FIELDS), "")
    return op


_FIELDS = ("lamport", "replica", "author", "at", "kind", "subject", "payload", "id")


def _matches_line(op: Op, text: str, encoded: bytes | None = None) -> bool | None:
    """True when `text` is the canonical line of `op` and hashes to its id (None otherwise). A
    canonical line is the canonical body with `,"id":"…"` after the author (keys sorted; a quote
    inside a string is escaped, so the first such member is the top-level one): hashing the line
    around it needs no re-encoding of the op."""
    data = text.encode() if encoded is None else encoded
    member = f',"id":"{op.id}"'.encode()
    cut = data.find(member)
    if cut == -1:
        return None
    digest = hashlib.sha256(data[:cut])
    digest.update(data[cut + len(member) :])
    return True if digest.hexdigest() == op.id else None


def pack(ops: Iterable[Op]) -> bytes:
    """A batch of ops as stored in one git blob: one canonical line per op."""
    return "".join(op.line() + "\n" for op in ops).encode()


def unpack(blob: bytes, *, verify: bool = True, text: str | None = None) -> Iterator[Op]:
    """The ops of a pack, one per line. Lines end at `\n` alone: canonical JSON escapes it
    inside strings but keeps U+2028, U+2029 and U+0085 as they are, which `splitlines` would
    split at. `text`: the pack decoded, when the caller has it (`pack_text`)."""
    text = pack_text(blob) if text is None else text
    # the byte 0x0A is "\n" in UTF-8 and in no other character: the same lines, as bytes
    for line, encoded in zip(text.split("\n"), blob.split(b"\n"), strict=True):
        if line.strip():
            yield from_line(line, verify=verify, encoded=encoded)


def pack_text(blob: bytes) -> str:
    """A pack's text; a pack that is not UTF-8 is refused."""
    try:
        return blob.decode()
    except UnicodeDecodeError as exc:
        raise OpError(f"not an op: a pack that is not UTF-8 ({exc})") from None


def ordered(ops: Iterable[Op]) -> list[Op]:
    return sorted(ops, key=lambda op: op.key)


class FieldChange(NamedTuple):
    """What applying one field of a set-op does, given the field's current winner. (A
    NamedTuple: a frozen dataclass costs ~4 M more instructions to define at start-up.)"""

    wins: bool
    conflict: bool  # written without seeing the current winner, and to a different value


def field_change(
    op: Op, prev: str | None, value: Any, winner: tuple[str, Any, tuple] | None
) -> FieldChange:
    """The conflict rule, for one field. `winner`: (op id, value, order key) of the op whose value
    the field holds, or None when it was never set.

    Last writer wins in the total order: when ops are folded in order (always, see
    deliverables.view), the op being applied is the newest and wins. It was concurrent with the
    current winner when its `prev` (the winner its author saw) is another op: then, if the two
    values differ, the two are a conflict that the day view shows; the overwritten value stays
    in the log and in the activity history.
    """
    if winner is None:
        return FieldChange(True, False)
    winner_id, winner_value, winner_key = winner
    if winner_key > op.key:  # only when folding out of order: the newer one stays
        return FieldChange(False, prev != winner_id and winner_value != value)
    return FieldChange(True, prev != winner_id and winner_value != value)
