"""The one guard for paths a person or a spec gives: `inside_repo` resolves a path (symlinks
included) and refuses what ends outside the repository, for reads and writes alike.

`local_or_remote` reads a location that may be a URI: the remote schemes of `REMOTE_SCHEMES`
pass as they are; `file:` in any spelling (`file:/etc/passwd`, `FILE:///etc/passwd`) is a local
path and is checked like one; any other scheme is refused. Globs are checked match by match,
since a pattern through a symlinked folder reaches wherever the link points.

Lowest in the import graph: only the standard library and deliverables.errors.
"""

from __future__ import annotations

import glob as _glob
import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from deliverables.errors import TrackerError

# Object stores and HDFS: the job reads them with the cluster's credentials, not the user's disk.
REMOTE_SCHEMES = ("s3", "s3a", "gs", "abfs", "abfss", "hdfs")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_GLOB = re.compile(r"[*?\[]")
# Glob syntax Hadoop's reader (Spark's) knows and Python's glob does not: alternatives `{a,b}`,
# negation `[^a]` / `[!a]`, escapes. A match phasegate cannot list, it cannot check.
_HADOOP_ONLY = re.compile(r"[{}\\^!]")


class OutsideRepo(TrackerError):
    """A path ends outside the repository (directly, through `..`, or through a symlink)."""


def inside_repo(root: Path, path: str | Path, *, what: str = "path") -> Path:
    """`path` (relative to `root`, or absolute) resolved with every symlink followed, when that
    lands inside `root`; else OutsideRepo naming `what`. The file need not exist: its nearest
    existing folder decides where it lands."""
    base = Path(root).resolve()
    if "\x00" in str(path):
        raise OutsideRepo(f"{what} {str(path)!r} holds a NUL character".lstrip())
    candidate = Path(path).expanduser() if str(path).startswith("~") else Path(path)
    try:
        resolved = (base / candidate).resolve()  # strict=False: follows every link that exists
    except (RuntimeError, OSError) as exc:  # a symlink loop (RuntimeError on Python 3.11)
        prefix = f"{what} " if what else ""
        raise OutsideRepo(
            f"{prefix}{str(path)!r} cannot be resolved (a symbolic link loop?): {exc}; refused"
        ) from None
    if resolved != base and not resolved.is_relative_to(base):
        lexical = Path(os.path.normpath(base / candidate))
        how = " through a link" if lexical.is_relative_to(base) else ""
        prefix = f"{what} " if what else ""
        raise OutsideRepo(f"{prefix}{str(path)!r} leaves the repository {base}{how}; refused")
    return resolved


def scheme_of(location: str) -> str | None:
    """The URI scheme of `location` in lower case (`file`, `s3`…), or None for a plain path.
    A single letter is a Windows drive, not a scheme."""
    match = _SCHEME.match(location)
    if not match or len(match.group(1)) == 1:
        return None
    return match.group(1).lower()


def file_uri_path(location: str) -> str:
    """The local path of a `file:` URI in any of its spellings (`file:x`, `file:/x`,
    `file:///x`, `file://localhost/x`, percent-escapes)."""
    parts = urlsplit(location)
    if parts.netloc not in ("", "localhost"):
        raise OutsideRepo(f"{location!r} names another host ({parts.netloc}); refused")
    return unquote(parts.path)


def local_or_remote(
    root: Path, location: str, *, what: str = "path", allow_remote: bool = True
) -> Path | None:
    """Checks a location: None for an allowed remote URI, else the resolved local path inside
    the repository (every glob match checked too)."""
    scheme = scheme_of(location)
    if scheme is not None and scheme != "file":
        if allow_remote and scheme in REMOTE_SCHEMES:
            return None
        allowed = ", ".join(f"{s}://" for s in REMOTE_SCHEMES) if allow_remote else "none"
        raise OutsideRepo(
            f"{what} {location!r}: the scheme {scheme}: is not allowed (remote schemes: {allowed};"
            " or a path inside the repository)".lstrip()
        )
    local = file_uri_path(location) if scheme == "file" else location
    if scheme == "file":
        what = f"{what} {location!r}: the local path".lstrip()
    odd = _HADOOP_ONLY.search(local)
    if odd:
        raise OutsideRepo(
            f"{what} {location!r}: {odd.group()!r} is not allowed in a local path (Spark reads "
            "{ } ^ ! \\ as glob syntax whose matches phasegate cannot check; use * ? [abc])".lstrip()
        )
    resolved = inside_repo(root, local, what=what)
    if _GLOB.search(local):
        for match in matches(root, local):
            inside_repo(root, match, what=f"{what} {local!r}: its match".lstrip())
    return resolved


def matches(root: Path, pattern: str) -> list[str]:
    """The files a glob pattern names today, relative to `root` (or absolute, as given)."""
    base = Path(root)
    absolute = PurePosixPath(pattern).is_absolute()
    found = _glob.glob(pattern if absolute else str(base / pattern), recursive=True)
    return sorted(found if absolute else (str(Path(f).relative_to(base)) for f in found))


def create_file(root: Path, relative: str | Path, text: str, *, what: str = "document") -> Path:
    """Creates `relative` (inside the repository, links followed) holding `text`; never over an
    existing file. The text is encoded before the file exists, so a failure leaves no empty
    file behind."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise TrackerError(
            f"cannot write {relative}: the text is not UTF-8 ({exc.reason})"
        ) from None
    target = inside_repo(root, relative, what=what)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("xb") as handle:  # "x": never over a file that appeared meanwhile
            handle.write(data)
    except FileExistsError:
        raise TrackerError(
            f"{relative} already exists: phasegate never overwrites a document"
        ) from None
    return target


def repo_file(root: Path, relative: str | Path, *, what: str = "document") -> Path:
    """`root / relative`, a file phasegate itself places in the repository (a report, a log),
    once `inside_repo` has made sure a symlinked folder does not carry it elsewhere."""
    inside_repo(root, relative, what=what)
    return Path(root) / relative
