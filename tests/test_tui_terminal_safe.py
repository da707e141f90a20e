"""No control character a stored row holds reaches the terminal (issue 9 §3).

Rows are written straight into the tracker's SQLite, bypassing the input checks (as a row stored
before they existed, or folded from a teammate's op, would be); every screen that shows them is
then drawn, and its screenshot must hold no raw control character. The widgets do it in one
place (tui/widgets.py: VimTable, LogPanel, Static, Label, RichLog; the app's notify), so the
screens must take Static and Label from there.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from rich.text import Text

from tests.conftest import ROOT
from tui.app import PhasegateApp
from tui.widgets import shown

SIZE = (150, 42)
SHOWS_STORED_ROWS = "dpDtR"
# name -> a value as a stored row may hold it
HOSTILE = {
    "csi clear screen": "\x1b[2J\x1b[H",
    "osc 52 clipboard write": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "osc 8 hyperlink": "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\",
    "osc title": "\x1b]0;owned\x9c",
    "bel": "ding\x07dong",
    "cr overwrite": "fine\roverwritten",
    "backspace": "ab\x08\x08cd",
    "nul": "nu\x00l",
    "del": "de\x7fl",
    "c1 csi": "\x9b31mred",
    "c1 osc": "\x9d0;title\x07",
    "vt ff": "v\x0bf\x0c",
    "bidi override": "abc\u202edcba",
    "line separator": "one\u2028two",
    "newline in a field": "first\nsecond",
}


def _raw_controls(text: str, *, allow_newline: bool = True) -> list[str]:
    """The characters of `text` a terminal would act on instead of showing."""
    return sorted(
        {
            f"U+{ord(ch):04X}"
            for ch in text
            if (unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or "\u202a" <= ch <= "\u202e")
            and not (allow_newline and ch == "\n")
        }
    )


def _svg_text(svg: str) -> str:
    """The characters a screenshot draws (its text nodes), entities decoded."""
    import html

    return html.unescape("".join(re.findall(r">([^<]*)</text>", svg)))


def _poison(root: Path) -> None:
    """Writes every hostile value into the rows the screens show, with plain SQL."""
    values = list(HOSTILE.values())
    db = sqlite3.connect(root / ".phasegate" / "tracker.db")
    with db:
        items = [row[0] for row in db.execute("SELECT id FROM items ORDER BY id")]
        for n, item in enumerate(items):
            value = values[n % len(values)]
            db.execute(
                "UPDATE items SET note = ?, owner = ?, due = '2026-11-28' WHERE id = ?",
                (f"note {value}", value, item),
            )
        for n, (deliverable,) in enumerate(db.execute("SELECT id FROM deliverables").fetchall()):
            value = values[n % len(values)]
            db.execute(
                "UPDATE deliverables SET owner = ?, reason = ? WHERE id = ?",
                (value, f"reason {value}", deliverable),
            )
        for value in values:
            db.execute(
                "INSERT INTO activity (at, actor, action, subject, field, before, after) "
                "VALUES ('2026-11-27T09:00:00Z', ?, 'item.set', ?, 'note', ?, ?)",
                (f"Eve {value}", f"3.1.1{value}", value, f"after {value}"),
            )
        db.execute(
            "INSERT INTO standups (actor, day, yesterday, today, blockers, at) "
            "VALUES (?, '2026-11-27', ?, ?, ?, '2026-11-27T09:00:00Z')",
            ("Test Engineer <test@example.com>", *values[:3]),
        )
        db.execute(
            "INSERT INTO waivers (target, reason, requester, requested_at, expires) "
            "VALUES ('3.1.2', ?, ?, '2026-11-26T10:00:00Z', '2026-12-10')",
            (f"reason {values[1]}", f"Eve {values[0]}"),
        )
    db.close()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_shown_escapes_every_control_and_keeps_styles(name):
    value = HOSTILE[name]
    assert _raw_controls(shown(value), allow_newline=False) == []
    assert _raw_controls(shown(value, multiline=True)) == []
    text = Text("ok ", style="bold")
    text.append(value, style="red")
    text.append(" end", style="italic")
    safe = shown(text)
    assert _raw_controls(safe.plain, allow_newline=False) == []
    assert safe.plain.startswith("ok ") and safe.plain.endswith(" end")
    # the styles stay on their characters (Rich itself drops BEL, BS, VT, FF and CR)
    assert safe.style == "bold"
    italic = next(s for s in safe.spans if s.style == "italic")
    assert safe.plain[italic.start : italic.end] == " end"
    red = [s for s in safe.spans if s.style == "red"]
    assert "".join(safe.plain[s.start : s.end] for s in red) == shown(Text(value).plain)


@pytest.mark.parametrize("value", ["\udc80", "a\ud800b", "\udfff"])
def test_lone_surrogates_are_shown_as_escapes(value):
    assert _raw_controls(shown(value)) == []
    assert _raw_controls(shown(Text(value, style="bold")).plain) == []
    shown(value).encode("utf-8")  # a terminal can be sent it


def test_printable_text_is_untouched():
    text = Text("Ana Ruiz · café 👩‍💻 ✓", style="bold")
    assert shown(text) is text
    assert shown("Ana Ruiz · café") == "Ana Ruiz · café"


@pytest.mark.parametrize("key", ["d", "p", "D", "t", "R", "M", "V", "r", "P", "T", "F"])
async def test_every_screen_draws_stored_controls_as_escapes(demo, key):
    _poison(demo.root)
    demo.tracker.append(
        "sessions", {"actor": "Test Engineer <test@example.com>", "at": "2026-11-24T00:00:00Z"}
    )
    app = PhasegateApp(demo)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press(key)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.notify(HOSTILE["osc 52 clipboard write"], title=HOSTILE["csi clear screen"])
        app.screen.notify(HOSTILE["c1 osc"])
        while len(app.screen.query("Toast")) < 2:  # the toasts are mounted a refresh later
            await pilot.pause()
        svg = app.export_screenshot()
    drawn = _svg_text(svg)
    assert _raw_controls(drawn) == []
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07" in drawn  # a notification, drawn as escapes
    if key in SHOWS_STORED_ROWS:  # the stored values are drawn, as escapes
        assert "\\x9b31m" in drawn or "\\x1b[2J" in drawn


def test_screens_take_static_and_label_from_tui_widgets():
    """The one place: a screen that imported textual's Static or Label would skip it."""
    offenders = []
    for path in [*(ROOT / "tui" / "screens").glob("*.py"), ROOT / "tui" / "dialogs.py"]:
        for line in path.read_text().splitlines():
            if re.match(r"\s*from textual\.widgets import .*\b(Static|Label|RichLog|Log)\b", line):
                offenders.append(f"{path.name}: {line.strip()}")
    assert offenders == []
