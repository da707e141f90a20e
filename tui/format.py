"""How domain values look on screen: glyphs, colours, bars, times. Pure functions."""

from __future__ import annotations

from datetime import date

from rich.text import Text

from deliverables.identity import display_name
from deliverables.statuses import CRITERION_MARKS as MARKS_OF_CRITERIA
from deliverables.statuses import STATUS_LABELS
from deliverables.templating import local_time, progress_bar

ITEM_GLYPHS = {
    "todo": ("☐", ""),
    "done": ("☑", "green"),
    "not_applicable": ("⊘", "dim"),
    "blocked": ("⛔", "bold red"),
}
STATUS_STYLES = {
    "todo": "",
    "done": "green",
    "not_applicable": "dim",
    "blocked": "bold red",
    "missing": "red",
    "draft": "yellow",
    "in_review": "cyan",
    "approved": "green",
    "not_started": "dim",
    "in_progress": "yellow",
    "passed": "bold green",
}


def status_text(status: str) -> Text:
    return Text(
        STATUS_LABELS.get(status, status.replace("_", " ")), style=STATUS_STYLES.get(status, "")
    )


def item_mark(status: str) -> Text:
    glyph, style = ITEM_GLYPHS.get(status, ("?", ""))
    return Text(glyph, style=style)


def bar(fraction: float, width: int = 20) -> Text:
    cells = progress_bar(fraction, width)  # the reports' and the CLI's bar, coloured
    filled = cells.count("█")
    text = Text(cells[:filled], style="green" if fraction >= 1 else "cyan")
    text.append(cells[filled:], style="dim")
    text.append(f" {fraction:4.0%}")
    return text


def when(iso: str) -> str:
    """An event time in local time, compact (as in the reports)."""
    return local_time(iso)


def due_text(due: str | None, today: date, compact: bool = False) -> Text:
    if not due:
        return Text("—", style="dim")
    days = (date.fromisoformat(due) - today).days
    if compact:
        style = (
            "bold red"
            if days < 0
            else "bold yellow"
            if days == 0
            else "yellow"
            if days <= 7
            else ""
        )
        words = (
            f"{-days}d late"
            if days < 0
            else "today"
            if days == 0
            else f"in {days}d"
            if days <= 7
            else due[5:]
        )
        return Text(words, style=style)
    if days < 0:
        return Text(f"{due} (overdue {-days}d)", style="bold red")
    if days == 0:
        return Text(f"{due} (today)", style="bold yellow")
    if days <= 7:
        return Text(f"{due} (in {days}d)", style="yellow")
    return Text(due)


def who(actor: str | None) -> str:
    return display_name(actor) or "—"


def short_name(actor: str | None) -> str:
    """`Ana Ruiz <ana@example.com>` -> `Ana R.`, for narrow columns."""
    parts = who(actor).split()
    return parts[0] if len(parts) < 2 else f"{parts[0]} {parts[-1][0]}."


# A gate criterion's status, and a gate's outcome, on screen.
CRITERION_STYLES = {"met": "green", "waived": "yellow", "unmet": "red", "pending": "cyan"}
CRITERION_MARKS = {
    status: (mark, CRITERION_STYLES[status]) for status, mark in MARKS_OF_CRITERIA.items()
}
GATE_OUTCOME_STYLES = {
    "passed": "bold green",
    "passed_with_waivers": "green",
    "failed": "bold red",
    "pending": "cyan",
}
