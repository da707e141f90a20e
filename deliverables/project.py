"""A phasegate project: a solution repository, its process model and its tracker.

The CLI and the TUI both act through `Project`: it checks ids against the process model,
enforces the status workflows, and derives progress. State lives only in the tracker; progress,
phase status and the current phase are computed from it, never stored.
"""

from __future__ import annotations

import re
from contextlib import suppress
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import NamedTuple

from deliverables import git
from deliverables.errors import TrackerError
from deliverables.identity import current_actor
from deliverables.paths import inside_repo
from deliverables.statuses import (
    DELIVERABLE_FLOW,
    DELIVERABLE_STATUSES,
    ITEM_STATUSES,
    PASSING,
    STATUS_LABELS,
    parse_date,
    parse_status,
)
from deliverables.store import Clock, DeliverableState, Event, ItemState, Tracker, utc_now
from phases import ChecklistItem, Deliverable, Phase, ProcessModel, load_process
from phases.text import check_text

STATE_DIR = ".phasegate"
TRACKER_FILE = "tracker.db"
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")

GITIGNORE = (
    "# The tracker is a local view of the op log, which lives in git refs\n"
    "# (refs/phasegate/ops/*, `phasegate sync`): never committed\n"
    "tracker.db\ntracker.db-wal\ntracker.db-shm\nlake/\nruns/\n"
)

# A document path is a plain relative file path: not a URI (file:x.md), a drive (D:/x.md), a glob
# (docs/*.md) or a Windows path (\\srv\x.md), each of which `deliverable create` would write as a
# strangely named file.
_DOCUMENT_PATH_REFUSED = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|[*?\[\]{}\\]")


def parse_due(text: str) -> str | None:
    """`YYYY-MM-DD`, or empty to clear (statuses.parse_date, as every date a person types)."""
    if not text.strip():
        return None
    return parse_date(text, "due date").isoformat()


class Progress(NamedTuple):
    """Completion of a phase: required items done or N/A, required deliverables approved or N/A."""

    items_done: int
    items_total: int
    deliverables_done: int
    deliverables_total: int

    @property
    def done(self) -> int:
        return self.items_done + self.deliverables_done

    @property
    def total(self) -> int:
        return self.items_total + self.deliverables_total

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


class DueItem(NamedTuple):
    item: ChecklistItem
    state: ItemState

    @property
    def overdue_on(self) -> str:
        return self.state.due or ""


class Project:
    """An open project. Use `Project.open` (existing) or `Project.init` (new)."""

    def __init__(self, root: Path, model: ProcessModel, tracker: Tracker) -> None:
        self.root, self.model, self.tracker = root, model, tracker
        self.notice: str | None = None  # something to tell the user once (the CLI prints it)
        self.as_of: str | None = None  # a past state (`at`): read-only

    def at(self, moment: str) -> Project:
        """The project as it was at `moment` (a date: the end of that day, UTC; a time; or a
        git commit: its committer date): the ops up to then folded into a temporary view, read
        with the same code as today's. Close it when done."""
        until = resolve_moment(self.root, moment)
        snapshot = self.tracker.snapshot(until)
        past = Project(self.root, self.model, snapshot)
        past.as_of = until
        return past

    @property
    def name(self) -> str:
        return self.root.name

    @classmethod
    def open(
        cls, path: Path | str = ".", *, clock: Clock = utc_now, actor: str | None = None
    ) -> Project:
        """Opens the project that holds `path` (it or a parent has `.phasegate/`)."""
        start = Path(path).resolve()
        if not start.exists():
            raise TrackerError(f"{path}: no such folder")
        for candidate in (start, *start.parents):
            state = candidate / STATE_DIR
            # a fresh clone of the team's repository has `.phasegate/` (committed) but no
            # tracker (never committed): it starts empty, and `phasegate sync` fills it
            if (state / TRACKER_FILE).is_file() or (state / ".gitignore").is_file():
                return cls._load(candidate, clock, actor)
        raise TrackerError(
            f"{start} is not in a phasegate project (run `phasegate init` there first)"
        )

    @classmethod
    def init(
        cls, path: Path | str = ".", *, clock: Clock = utc_now, actor: str | None = None
    ) -> tuple[Project, bool]:
        """Creates `.phasegate/` in `path` (and a git repository if there is none).

        Returns the project and whether git was initialised.
        """
        root = Path(path).resolve()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TrackerError(f"cannot create {root}: {exc.strerror or exc}") from None
        created_git = False
        if not git.inside_repository(root):
            try:
                git.init(root)
            except git.GitError as exc:
                raise TrackerError(f"cannot initialise git in {root}: {exc}") from None
            created_git = True
        project = cls._load(root, clock, actor)
        ignore = root / STATE_DIR / ".gitignore"
        if not ignore.exists():
            ignore.write_text(GITIGNORE)
        if not created_git:  # a clone may have remotes already: a plain fetch brings the ops
            from deliverables.sync import configure_clone

            with suppress(TrackerError):  # `phasegate sync` configures them too
                configure_clone(root, project.tracker.replica)
        return project, created_git

    @classmethod
    def _load(cls, root: Path, clock: Clock, actor: str | None) -> Project:
        model = load_process(
            root
        )  # first: a broken process.yaml must not leave a fresh tracker behind
        tracker = Tracker.open(
            root / STATE_DIR / TRACKER_FILE,
            actor=actor or partial(current_actor, root),
            clock=clock,
        )
        project = cls(root, model, tracker)
        project.notice = _ignore_tracker(root)
        return project

    def close(self) -> None:
        self.tracker.close()

    # --- look-ups ------------------------------------------------------------------------------

    def item(self, item_id: str) -> ChecklistItem:
        item = self.model.item(item_id.strip())
        if item is None:
            raise TrackerError(self._unknown(item_id, "checklist item", "1.1.1"))
        return item

    def deliverable(self, deliverable_id: str) -> Deliverable:
        found = self.model.deliverable(deliverable_id.strip())
        if found is None:
            raise TrackerError(self._unknown(deliverable_id, "deliverable", "D1.1"))
        return found

    def _unknown(self, ident: str, what: str, example: str) -> str:
        hint = ""
        if self.model.deliverable(ident) is not None:
            hint = f"; {ident} is a deliverable: use `phasegate deliverable set {ident.upper()}`"
        elif self.model.item(ident) is not None:
            hint = f"; {ident} is a checklist item: use `phasegate item set {ident}`"
        return f"unknown {what} '{ident}' (ids look like {example}; `phasegate status` lists them){hint}"

    # --- changes -------------------------------------------------------------------------------

    def set_item(
        self,
        item_id: str,
        *,
        status: str | None = None,
        reason: str | None = None,
        owner: str | None = None,
        due: str | None = None,
        note: str | None = None,
    ) -> list[Event]:
        """Changes an item. `None` leaves a field as it is; an empty string clears it."""
        item = self.item(item_id)
        current = self.tracker.item_state(item.id)
        changes: dict[str, str | None] = {}
        if status is not None:
            changes["status"] = parse_status(status, ITEM_STATUSES, "item")
        if owner is not None:
            changes["owner"] = owner.strip() or None
        if due is not None:
            changes["due"] = parse_due(due)
        if note is not None:
            changes["note"] = note.strip() or None
        changes.update(
            _reason_rule(item.id, current.status, current.reason, changes.get("status"), reason)
        )
        return self.tracker.update("item", item.id, changes)

    def toggle_item(self, item_id: str) -> list[Event]:
        """todo → done, done → todo, not applicable → todo."""
        item = self.item(item_id)
        status = self.tracker.item_state(item.id).status
        return self.set_item(
            item.id, status="todo" if status in ("done", "not_applicable") else "done"
        )

    def set_deliverable(
        self,
        deliverable_id: str,
        *,
        status: str | None = None,
        reason: str | None = None,
        owner: str | None = None,
        path: str | None = None,
    ) -> list[Event]:
        """Changes a deliverable; a status change must follow `DELIVERABLE_FLOW`."""
        deliverable = self.deliverable(deliverable_id)
        current = self.tracker.deliverable_state(deliverable.id)
        changes: dict[str, str | None] = {}
        if status is not None:
            new = parse_status(status, DELIVERABLE_STATUSES, "deliverable")
            if new != current.status and new not in DELIVERABLE_FLOW[current.status]:
                allowed = ", ".join(DELIVERABLE_FLOW[current.status])
                raise TrackerError(
                    f"{deliverable.id} cannot go from {current.status} to {new} (from {current.status}: {allowed})"
                )
            changes["status"] = new
        if owner is not None:
            changes["owner"] = owner.strip() or None
        if path is not None:
            cleaned = check_text(path, f"{deliverable.id}'s path", error=TrackerError).strip()
            if cleaned and (cleaned.startswith(("/", "~")) or ".." in Path(cleaned).parts):
                raise TrackerError(
                    f"{deliverable.id}: path {path!r} must stay inside the repository"
                )
            odd = _DOCUMENT_PATH_REFUSED.search(cleaned)
            if odd or cleaned.endswith("/"):
                raise TrackerError(
                    f"{deliverable.id}: path {path!r} must name one file relative to the "
                    "repository, with '/' between folders (no URI, drive, glob or backslash)"
                )
            if cleaned:  # a symlinked folder on the way must not lead out either
                inside_repo(self.root, cleaned, what=f"{deliverable.id}'s path")
            changes["path"] = cleaned or None
        changes.update(
            _reason_rule(
                deliverable.id, current.status, current.reason, changes.get("status"), reason
            )
        )
        return self.tracker.update("deliverable", deliverable.id, changes)

    def step_deliverable(self, deliverable_id: str, forward: bool = True) -> list[Event]:
        """One step along missing → draft → in review → approved (or back)."""
        deliverable = self.deliverable(deliverable_id)
        status = self.tracker.deliverable_state(deliverable.id).status
        order = DELIVERABLE_STATUSES[:4]
        if status == "not_applicable":
            target = "missing"
        elif forward:
            if status == "approved":
                raise TrackerError(f"{deliverable.id} is already approved")
            target = order[order.index(status) + 1]
        else:
            if status == "missing":
                raise TrackerError(f"{deliverable.id} is missing: there is no step back")
            target = order[order.index(status) - 1]
        return self.set_deliverable(deliverable.id, status=target)

    # --- derived views -------------------------------------------------------------------------

    def item_states(self) -> dict[str, ItemState]:
        return self.tracker.item_states()

    def deliverable_states(self) -> dict[str, DeliverableState]:
        return self.tracker.deliverable_states()

    def item_state(self, item_id: str) -> ItemState:
        return self.tracker.item_state(item_id)

    def deliverable_state(self, deliverable_id: str) -> DeliverableState:
        return self.tracker.deliverable_state(deliverable_id)

    def deliverable_path(
        self, deliverable: Deliverable, state: DeliverableState | None = None
    ) -> str:
        state = state or self.tracker.deliverable_state(deliverable.id)
        return state.path or deliverable.path

    def progress(
        self,
        phase: Phase,
        items: dict[str, ItemState] | None = None,
        delivs: dict[str, DeliverableState] | None = None,
    ) -> Progress:
        items = self.item_states() if items is None else items
        delivs = self.deliverable_states() if delivs is None else delivs
        required = [i for i in phase.items if not i.optional]
        needed = [d for d in phase.deliverables if not d.optional]
        return Progress(
            sum(1 for i in required if _status(items, i.id, "todo") in ("done", "not_applicable")),
            len(required),
            sum(
                1
                for d in needed
                if _status(delivs, d.id, "missing") in ("approved", "not_applicable")
            ),
            len(needed),
        )

    def phase_status(
        self,
        phase: Phase,
        items: dict[str, ItemState] | None = None,
        delivs: dict[str, DeliverableState] | None = None,
        gates: dict[str, str] | None = None,
    ) -> str:
        """not_started | in_progress | in_review (a gate review is open) | passed (its latest
        gate review passed, with or without waivers)."""
        gates = self.gate_states() if gates is None else gates
        if phase.id in gates:
            return gates[phase.id]
        items = self.item_states() if items is None else items
        delivs = self.deliverable_states() if delivs is None else delivs
        touched = any(_status(items, i.id, "todo") != "todo" for i in phase.items) or any(
            _status(delivs, d.id, "missing") != "missing" for d in phase.deliverables
        )
        return "in_progress" if touched else "not_started"

    def gate_states(self) -> dict[str, str]:
        """passed | in_review per phase with gate activity (deliverables.gates records it)."""
        return self.tracker.gate_states(PASSING)

    def current_phase(
        self,
        items: dict[str, ItemState] | None = None,
        delivs: dict[str, DeliverableState] | None = None,
        gates: dict[str, str] | None = None,
    ) -> Phase:
        """The first phase that has neither passed its gate nor everything done (the last phase
        when all have)."""
        items = self.item_states() if items is None else items
        delivs = self.deliverable_states() if delivs is None else delivs
        gates = self.gate_states() if gates is None else gates
        for phase in self.model.phases:
            progress = self.progress(phase, items, delivs)
            if gates.get(phase.id) != "passed" and progress.done < progress.total:
                return phase
        return self.model.phases[-1]

    def due_items(
        self, limit: int = 10, states: dict[str, ItemState] | None = None
    ) -> list[DueItem]:
        """Open items with a due date, soonest first."""
        states = self.item_states() if states is None else states
        due = [
            DueItem(item, states[item.id])
            for item in self.model.items
            if item.id in states and states[item.id].due and states[item.id].status == "todo"
        ]
        due.sort(key=lambda d: (d.state.due or "", d.item.id))
        return due[:limit]

    def today(self) -> date:
        return self.tracker.clock().astimezone().date()

    def now(self) -> datetime:
        return self.tracker.clock()


def _status(states: dict, ident: str, default: str) -> str:
    state = states.get(ident)
    return state.status if state else default


def _reason_rule(
    ident: str, old_status: str, old_reason: str | None, new_status: str | None, reason: str | None
) -> dict[str, str | None]:
    """Not applicable and blocked need a reason; leaving them drops the reason."""
    status = new_status or old_status
    if status in ("not_applicable", "blocked"):
        keep = old_reason if new_status in (None, old_status) else None
        text = (reason if reason is not None else keep or "").strip()
        if not text:
            label = STATUS_LABELS.get(status, status)
            raise TrackerError(f'{ident}: {label} needs a reason (--reason "...")')
        return {"reason": text}
    if reason is not None and reason.strip():
        raise TrackerError(f"{ident}: a reason is only kept for 'not applicable' or 'blocked'")
    return {"reason": None} if old_reason else {}


def resolve_moment(root: Path, moment: str) -> str:
    """`2026-11-20` (the end of that day), `2026-11-20T14:00` / `...Z` (UTC unless it says),
    or a commit (`HEAD~3`, a sha, a tag): its committer date. Returns UTC `...Z`."""
    from deliverables.store import format_time

    text = moment.strip()
    if _DAY.match(text):
        try:
            date.fromisoformat(text)
        except ValueError:
            raise TrackerError(f"--at {moment}: not a real date") from None
        return f"{text}T23:59:59Z"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is not None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return format_time(when)
    committed = git.commit_date(root, text)
    if committed is None:
        raise TrackerError(
            f"--at {moment}: neither a date (YYYY-MM-DD), a time (YYYY-MM-DDTHH:MM) nor a "
            "commit of this repository"
        )
    return format_time(datetime.fromisoformat(committed))


def _ignore_tracker(root: Path) -> str | None:
    """Projects made before the op log committed tracker.db: ignore it from now on, and say
    once how to stop tracking it. No git process unless the line was missing."""
    ignore = root / STATE_DIR / ".gitignore"
    try:
        text = ignore.read_text() if ignore.exists() else None
    except OSError:
        return None
    if text is None or "tracker.db" in text.split():
        return None
    try:
        ignore.write_text(text + ("" if text.endswith("\n") or not text else "\n") + "tracker.db\n")
    except OSError:
        return None
    if git.is_tracked(root, f"{STATE_DIR}/{TRACKER_FILE}"):
        return (
            f"{STATE_DIR}/{TRACKER_FILE} is now a local view of the op log (`phasegate sync` "
            f"shares it through git refs): stop committing it with `git rm --cached "
            f"{STATE_DIR}/{TRACKER_FILE}` and commit that"
        )
    return None


def _inside_git(path: Path) -> bool:
    return any((p / ".git").exists() for p in (path, *path.parents))
