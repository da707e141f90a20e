"""How domain values look on screen: glyphs, colours, bars, times.

Colours are never written here as names ("green", "red"): a style names a *tone* (`ok`, `bad`,
`warn`, `info`, `extra`) that `tone()` resolves to the current theme's readable text colour
($text-success, $text-error, ...), so every Textual theme, light or dark, reads well.
The app calls `use_theme()` at start and whenever the theme changes, then redraws the screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from rich.text import Text

from deliverables.identity import display_name
from deliverables.statuses import CRITERION_MARKS as MARKS_OF_CRITERIA
from deliverables.statuses import STATUS_LABELS
from deliverables.templating import local_time, progress_bar

# tone -> the theme variable that colours it (Textual computes the $text-* ones to be legible
# on the theme's background)
TONE_VARIABLES = {
    "ok": "text-success",
    "bad": "text-error",
    "warn": "text-warning",
    "info": "text-primary",
    "extra": "text-secondary",
}
# until a theme is applied (pure-function tests, the CLI): textual-dark's values
_TONES: dict[str, str] = {
    "ok": "#8AD4A1",
    "bad": "#D17E92",
    "warn": "#FFC473",
    "info": "#57A5E2",
    "extra": "#5684A5",
}
_CACHE: dict[str, str] = {}


def use_theme(variables: Mapping[str, str]) -> bool:
    """Takes the tones from a theme's CSS variables (`App.get_css_variables()`); True if any
    tone changed (what is on screen then needs drawing again)."""
    before = dict(_TONES)
    for name, variable in TONE_VARIABLES.items():
        value = variables.get(variable, "")
        if value.startswith("#"):  # "auto 87%" and the like only make sense to Textual's CSS
            _TONES[name] = value
    _CACHE.clear()
    return before != _TONES


def tone(spec: str) -> str:
    """A Rich style from a spec of tones and attributes: "bold bad" -> "bold #D17E92"."""
    style = _CACHE.get(spec)
    if style is None:
        style = _CACHE[spec] = " ".join(_TONES.get(word, word) for word in spec.split())
    return style


def toned(text: str, spec: str) -> Text:
    """`text` in the style `spec` (see `tone`)."""
    return Text(text, style=tone(spec))


ITEM_GLYPHS = {
    "todo": ("☐", ""),
    "done": ("☑", "ok"),
    "not_applicable": ("⊘", "dim"),
    "blocked": ("⛔", "bold bad"),
}
STATUS_STYLES = {
    "todo": "",
    "done": "ok",
    "not_applicable": "dim",
    "blocked": "bold bad",
    "missing": "bad",
    "draft": "warn",
    "in_review": "info",
    "approved": "ok",
    "not_started": "dim",
    "in_progress": "warn",
    "passed": "bold ok",
}


def status_text(status: str) -> Text:
    return toned(STATUS_LABELS.get(status, status.replace("_", " ")), STATUS_STYLES.get(status, ""))


def item_mark(status: str) -> Text:
    glyph, style = ITEM_GLYPHS.get(status, ("?", ""))
    return toned(glyph, style)


def bar(fraction: float, width: int = 20) -> Text:
    cells = progress_bar(fraction, width)  # the reports' and the CLI's bar, coloured
    filled = cells.count("█")
    text = toned(cells[:filled], "ok" if fraction >= 1 else "info")
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
            "bold bad" if days < 0 else "bold warn" if days == 0 else "warn" if days <= 7 else ""
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
        return toned(words, style)
    if days < 0:
        return toned(f"{due} (overdue {-days}d)", "bold bad")
    if days == 0:
        return toned(f"{due} (today)", "bold warn")
    if days <= 7:
        return toned(f"{due} (in {days}d)", "warn")
    return Text(due)


def who(actor: str | None) -> str:
    return display_name(actor) or "—"


def short_name(actor: str | None) -> str:
    """`Ana Ruiz <ana@example.com>` -> `Ana R.`, for narrow columns."""
    parts = who(actor).split()
    return parts[0] if len(parts) < 2 else f"{parts[0]} {parts[-1][0]}."


# A gate criterion's status, and a gate's outcome, on screen.
CRITERION_STYLES = {"met": "ok", "waived": "warn", "unmet": "bad", "pending": "info"}
CRITERION_MARKS = {
    status: (mark, CRITERION_STYLES[status]) for status, mark in MARKS_OF_CRITERIA.items()
}
GATE_OUTCOME_STYLES = {
    "passed": "bold ok",
    "passed_with_waivers": "ok",
    "failed": "bold bad",
    "pending": "info",
}
