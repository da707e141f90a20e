"""The ground floor every document stands on: Jinja2 rendering of `deliverables/templates/`,
markdown escaping (phases.text's, shared with pipelines' templates), local-time formatting, the progress bar, event descriptions, atomic writes.

It imports only the bottom of the package (errors, identity, statuses, store's time parsing), so
the report, the gate reports, the day, the deliverable documents and both front ends can import
it without a loop.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from deliverables.errors import TrackerError
from deliverables.identity import display_name
from deliverables.statuses import CRITERION_MARKS, STATUS_LABELS
from deliverables.store import parse_time
from phases.text import md_code, md_escape, mermaid_label

__all__ = ["md_escape", "render_template", "write_atomically"]  # md_escape: phases.text's, the one

TEMPLATES = Path(__file__).with_name("templates")


def render_template(name: str, context: dict[str, Any]) -> str:
    """Any template of deliverables/templates/, with the report filters."""
    return _environment().get_template(name).render(context)


def write_atomically(path: Path, text: str) -> None:
    """Writes via a temporary file in the same folder: a reader never sees half a document."""
    import tempfile  # only when writing: not worth its import at start-up

    folder = path.parent
    if not folder.is_dir():
        raise TrackerError(f"cannot write {path}: folder {folder} does not exist")
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_document(path: Path, text: str) -> Path:
    """Writes a document at its own place in the repository (a path the domain chose, such as
    `report.status_report_path`), making its folders; returns the path."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrackerError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    write_atomically(path, text)
    return path


def local_time(iso: str) -> str:
    """A stored UTC time (`2026-11-27T12:00:00Z`) in the reader's local time, to the minute."""
    return parse_time(iso).astimezone().strftime("%Y-%m-%d %H:%M")


def progress_bar(fraction: float, width: int = 20) -> str:
    """`█████░░░░░`: a fraction (clamped to 0..1) as `width` cells."""
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "█" * filled + "░" * (width - filled)


def describe_event(event) -> str:
    """`status: todo → done` for field changes, the action name for others."""
    if event.field:
        before = (
            STATUS_LABELS.get(event.before or "", event.before)
            if event.field == "status"
            else event.before
        )
        after = (
            STATUS_LABELS.get(event.after or "", event.after)
            if event.field == "status"
            else event.after
        )
        return f"{event.field}: {before or '—'} → {after or '—'}"
    return event.action


@cache
def _environment():
    import jinja2  # lazily: the TUI starts without it

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = md_escape  # the one markdown escaper (phases.text), as pipelines' templates
    env.filters["code"] = md_code
    env.filters["mermaid"] = mermaid_label
    env.filters["label"] = lambda status: STATUS_LABELS.get(status, status)
    env.filters["local"] = local_time
    env.filters["describe"] = describe_event
    env.filters["who"] = lambda actor: md_escape(display_name(actor)) if actor else "—"
    env.filters["bar"] = progress_bar
    env.filters["mark"] = lambda status: CRITERION_MARKS.get(status, status)
    return env
