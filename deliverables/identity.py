"""Who is acting: PHASEGATE_USER, else the repository's git user.name and user.email."""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path


def current_actor(repo: Path) -> str:
    """`Name <email>` as git would sign a commit; falls back to the login name."""
    override = os.environ.get("PHASEGATE_USER", "").strip()
    if override:
        return override
    values: dict[str, str] = {}
    try:
        out = subprocess.run(
            ["git", "config", "--get-regexp", r"^user\.(name|email)$"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
        for line in out.splitlines():
            key, _, value = line.partition(" ")
            values[key] = value.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    name, email = values.get("user.name", ""), values.get("user.email", "")
    if name and email:
        return f"{name} <{email}>"
    return name or email or getpass.getuser()


def display_name(actor: str | None) -> str:
    """`Ana Ruiz <ana@example.com>` -> `Ana Ruiz`."""
    if not actor:
        return ""
    return actor.split(" <", 1)[0].strip() or actor
