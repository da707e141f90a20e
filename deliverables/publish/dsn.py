"""Where `phasegate publish` sends the facts, and how a password never shows.

The DSN comes from `--dsn`, else `PHASEGATE_PUBLISH_DSN`, else the solution's
agent-prompts/context.yaml (`tech_stack.serving.publish_dsn`). It may be a URL
(`postgresql://user:pw@host:5432/db?sslmode=require`, also SQLAlchemy's `postgresql+psycopg://`)
or libpq's key=value form (`host=db user=me password='s3 cret' dbname=dash`), and its password may
sit in the user part, in the query string (`?password=`), or in a key=value pair, written as is or
percent-encoded. `secrets` finds every spelling; `redact` is what every message, log line and
stored record about a publish goes through.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, unquote_plus

from deliverables.errors import TrackerError
from phases.text import control_problem, mask_uri

ENV = "PHASEGATE_PUBLISH_DSN"
CONTEXT = "agent-prompts/context.yaml"
FIELD = "tech_stack.serving.publish_dsn"
SECRET_KEYS = ("password", "sslpassword")
_URL = re.compile(r"\A\s*(?P<scheme>postgres(?:ql)?(?:\+[A-Za-z0-9_]+)?)://", re.IGNORECASE)
_ANY_URL = re.compile(r"\A\s*(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
# key=value pairs: a quoted value may hold spaces and escaped quotes (libpq's rules). The key is
# any that looks like a password's (`passwd`, `pass\word`, `pwd`): libpq refuses such a DSN, and
# its text is then shown as written. Not `passfile`: where a password belongs, not one
_PAIR = re.compile(
    r"(?P<key>(?<![\w\\])(?!passfile\b)[\w\\]*(?:pass|pwd)[\w\\]*)(?P<eq>\s*=\s*)"
    r"(?P<value>'(?:\\.|[^'\\])*'?|\"[^\"]*\"?|[^\s&'\"]*)",
    re.IGNORECASE,
)
MASK = "***"


class PublishError(TrackerError):
    """A publish that could not happen, in one line a user can act on (no password in it)."""


class Target(NamedTuple):
    dsn: str
    source: str  # --dsn | PHASEGATE_PUBLISH_DSN | agent-prompts/context.yaml

    @property
    def shown(self) -> str:
        return redact(self.dsn, self.dsn)


def resolve_dsn(root: Path, given: str | None = None) -> Target:
    """The DSN to publish to, and where it came from; a DSN that cannot be one (empty, with a
    control character, of another database's scheme) is refused here, in words that never
    quote it."""
    if given is not None:
        return _checked(given, "--dsn")
    from_env = os.environ.get(ENV, "").strip()
    if from_env:
        return _checked(from_env, ENV)
    from_context = _from_context(Path(root) / CONTEXT)
    if from_context:
        return _checked(from_context, CONTEXT)
    raise PublishError(f"no database to publish to: give --dsn, set {ENV}, or {FIELD} in {CONTEXT}")


def _checked(dsn: str, source: str) -> Target:
    what = FIELD if source == CONTEXT else source
    if not dsn.strip():
        raise PublishError(f"{what} is empty: give a PostgreSQL DSN (a URL or key=value pairs)")
    problem = control_problem(dsn)
    if problem:  # libpq would read up to a NUL and publish to another database
        raise PublishError(f"{what} {problem}: a DSN is one line of printable text")
    other = _ANY_URL.match(dsn)
    if other and not _URL.match(dsn):
        raise PublishError(
            f"{what} is a {other['scheme']}:// URL: phasegate publishes to PostgreSQL "
            "(postgresql://user@host:5432/db, or key=value pairs)"
        )
    return Target(dsn.strip(), source)


def libpq_dsn(dsn: str) -> str:
    """The DSN as libpq reads it: SQLAlchemy's `postgresql+psycopg://` and a scheme in capitals
    are `postgresql://`."""
    match = _URL.match(dsn)
    if match:
        return "postgresql://" + dsn[match.end() :]
    return dsn.strip()


def secrets(dsn: str) -> tuple[str, ...]:
    """Every spelling of the DSN's passwords (as written, percent-decoded, unquoted), longest
    first, and PGPASSWORD's: what `redact` replaces wherever it appears."""
    found = _written_secrets(dsn)
    if os.environ.get("PGPASSWORD"):
        found.add(os.environ["PGPASSWORD"])
    spelled: set[str] = set()
    for value in found:
        spelled |= {value, unquote(value), unquote_plus(value)}
    return tuple(sorted((s for s in spelled if s), key=lambda s: (-len(s), s)))


def _written_secrets(dsn: str) -> set[str]:
    """The passwords written in the DSN itself, in every place a DSN can hold one."""
    found: set[str] = set()
    if _URL.match(dsn):
        rest = dsn[_URL.match(dsn).end() :]
        netloc, _, tail = rest.partition("/")
        if "?" in netloc:  # postgresql://u:p@h?password=... without a path
            netloc, _, query = netloc.partition("?")
        else:
            query = tail.partition("?")[2]
        userinfo = netloc.rpartition("@")[0] if "@" in netloc else ""
        if ":" in userinfo:
            found.add(userinfo.partition(":")[2])
        query = query.partition("#")[0]
        for part in query.split("&"):
            key, _, value = part.partition("=")
            if unquote_plus(key).strip().lower() in SECRET_KEYS:
                found.add(value)
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key.strip().lower() in SECRET_KEYS:
                found.add(value)
    for match in _PAIR.finditer(dsn):
        value = match["value"]
        found.add(value)
        if value[:1] in ("'", '"'):
            inner = value[1:-1] if value.endswith(value[0]) and len(value) > 1 else value[1:]
            found.add(inner)
            found.add(re.sub(r"\\(.)", r"\1", inner))
    found |= _parsed_secrets(dsn)
    return {value for value in found if value}


def _parsed_secrets(dsn: str) -> set[str]:
    """The passwords as libpq itself reads the DSN (whatever spelling it accepts); nothing when
    it cannot read it (the spellings above are then all there is)."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parsed = conninfo_to_dict(libpq_dsn(dsn))
    except Exception:  # not a DSN libpq reads (or no psycopg): nothing more to find
        return set()
    return {str(parsed[key]) for key in SECRET_KEYS if parsed.get(key)}


def redact(text: str, dsn: str = "") -> str:
    """`text` with every password of `dsn` (in any spelling), of any URI, and of any
    `password=` pair replaced by `***`. A short password is replaced wherever it appears, even
    inside other words: a mangled message is better than a leaked secret."""
    for secret in secrets(dsn) if dsn else ():
        text = text.replace(secret, MASK)
    text = mask_uri(text)
    return _PAIR.sub(lambda m: f"{m['key']}{m['eq']}{MASK}" if m["value"] else m[0], text)


def _from_context(path: Path) -> str | None:
    if not path.is_file():
        return None
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PublishError(f"{path}: not valid YAML ({redact(first)})") from None
    node = document
    for part in FIELD.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return None
    if not isinstance(node, str) or not node.strip():
        raise PublishError(f"{path}: {FIELD} must be a PostgreSQL DSN (a URL or key=value pairs)")
    if _written_secrets(node):  # the file is committed: the password would be in git's history
        raise PublishError(
            f"{path}: {FIELD} holds a password, and the file is committed: remove it and keep "
            "it in ~/.pgpass or PGPASSWORD (or give the whole DSN in PHASEGATE_PUBLISH_DSN)"
        )
    return node.strip()
