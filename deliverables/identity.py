"""Who is acting: PHASEGATE_USER, else the repository's git user.name and user.email."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from phases.text import control_problem


def current_actor(repo: Path) -> str:
    """`Name <email>` as git would sign a commit; falls back to the login name."""
    override = os.environ.get("PHASEGATE_USER", "").strip()
    if override:
        from deliverables.errors import TrackerError

        problem = control_problem(override)
        if problem:  # it is stored in every record and shown in every report
            raise TrackerError(f"PHASEGATE_USER {problem}")
        return override
    from deliverables.git import identity  # a process: only when the actor is first needed

    name, email = identity(repo)
    if name and email:
        return f"{name} <{email}>"
    return name or email or getpass.getuser()


def display_name(actor: str | None) -> str:
    """`Ana Ruiz <ana@example.com>` -> `Ana Ruiz`."""
    if not actor:
        return ""
    return actor.split(" <", 1)[0].strip() or actor


def email_of(actor: str | None) -> str:
    """`Ana Ruiz <ana@example.com>` -> `ana@example.com` ('' when there is none)."""
    if not actor or "<" not in actor:
        return ""
    return actor.rsplit("<", 1)[1].rstrip(">").strip().lower()


def same_person(a: str | None, b: str | None) -> bool:
    """Whether two identities (`Name <email>`, a name, or a bare e-mail) name one person: by
    e-mail when both carry one, else by name, ignoring case."""
    if not a or not b:
        return False
    mail_a, mail_b = _mail(a), _mail(b)
    if mail_a and mail_b:
        return mail_a == mail_b
    return display_name(a).casefold() == display_name(b).casefold()


def _mail(identity: str) -> str:
    bare = identity.strip().lower()
    return email_of(identity) or (bare if "@" in bare and " " not in bare else "")


def possessive(name: str) -> str:
    """`Ana Ruiz` -> `Ana Ruiz's`; `Chris` -> `Chris'`."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"
