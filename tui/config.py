"""The user's TUI settings: `config.toml` in phasegate's config folder (platformdirs:
`$XDG_CONFIG_HOME/phasegate/`, by default `~/.config/phasegate/`).

    theme = "textual-light"      # any Textual theme; ctrl+p "Change theme" writes it back

    [keymap]                      # binding id = keys (comma-separated); `?` lists the ids
    "go.deliverables" = "ctrl+d"
    "phase.toggle" = "space,t"

A bad file never stops the app: each problem is one line naming the file and the key, and the
defaults are used for what it got wrong. Nothing here imports Textual.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

CONFIG_FILE = "config.toml"
KNOWN_KEYS = ("theme", "keymap")


class Settings:
    """What the config file asks for, and what was wrong with it (one message per problem).
    A plain class: a dataclass costs ~4 M instructions to define, at every start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.theme: str | None = None
        self.keymap: dict[str, str] = {}
        self.problems: list[str] = []

    def __repr__(self) -> str:
        return f"Settings({self.path!r}, theme={self.theme!r}, keymap={self.keymap!r})"


def config_path() -> Path:
    """Where the settings live: the platform's user config folder, XDG_CONFIG_HOME honoured."""
    from platformdirs import user_config_path  # already imported by Textual

    return user_config_path("phasegate", appauthor=False) / CONFIG_FILE


def load_settings(path: Path | None = None) -> Settings:
    """Reads `path` (default `config_path()`); a missing file is no settings, not a problem."""
    path = path or config_path()
    settings = Settings(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return settings
    except OSError as exc:
        settings.problems.append(f"{path}: cannot be read ({exc.strerror or exc}); using defaults")
        return settings
    import tomllib

    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        settings.problems.append(f"{path}: not valid TOML ({exc}); using defaults")
        return settings
    for key in document:
        if key not in KNOWN_KEYS:
            settings.problems.append(
                f"{path}: unknown key '{key}' (the file knows {', '.join(KNOWN_KEYS)})"
            )
    theme = document.get("theme")
    if theme is not None:
        if isinstance(theme, str) and theme.strip():
            settings.theme = theme.strip()
        else:
            settings.problems.append(
                f'{path}: theme must be the name of a theme, e.g. theme = "textual-light"'
            )
    keymap = document.get("keymap", {})
    if not isinstance(keymap, dict):
        settings.problems.append(
            f'{path}: keymap must be a table: [keymap] then lines like "go.report" = "ctrl+r"'
        )
        keymap = {}
    for binding_id, keys in keymap.items():
        if isinstance(keys, str) and keys.strip() and "" not in _split(keys):
            settings.keymap[binding_id] = ",".join(_split(keys))
        else:
            settings.problems.append(
                f'{path}: keymap."{binding_id}" must be keys such as "ctrl+r" or "r,ctrl+r"'
            )
    return settings


def _split(keys: str) -> list[str]:
    return [key.strip() for key in keys.split(",")]


_THEME_LINE = re.compile(r"(?m)^[ \t]*theme[ \t]*=.*$")
_TABLE = re.compile(r"(?m)^[ \t]*\[")


def save_theme(path: Path, theme: str) -> str | None:
    """Writes `theme = "<theme>"` into the file, keeping every other line (comments too).
    Returns a message when it cannot, e.g. the file does not parse (it is left as it is)."""
    import tempfile
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        return f"{path}: cannot be read ({exc}); the theme is not remembered"
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return f"{path}: not valid TOML ({exc}); the theme is not remembered"
    line = f'theme = "{theme}"'
    # top-level keys come before the first [table]; a `theme` inside a table is not ours
    first_table = _TABLE.search(text)
    head, tail = (
        (text[: first_table.start()], text[first_table.start() :]) if first_table else (text, "")
    )
    found = _THEME_LINE.search(head)
    head = _THEME_LINE.sub(line, head, count=1) if found else f"{line}\n{head}"
    text = head + tail
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=".config-", delete=False
        ) as handle:
            handle.write(text)
        os.replace(handle.name, path)
    except OSError as exc:
        return f"{path}: cannot be written ({exc.strerror or exc}); the theme is not remembered"
    return None
