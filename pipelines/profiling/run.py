"""Profiles a source from the parent process (the CLI, the TUI): the source is resolved and its
bad input found here, without a JVM; the statistics are computed in the profiling subprocess
(`pipelines.profiling.child`, one warm Spark session), whose progress arrives as events.

`profile_and_write` is what `phasegate profile` and the TUI's Profiles screen both run: the
profile, then what it leaves behind (pipelines.profiling.outputs.write_outputs: the stored
profile and its drift, the D1.3 report, the drafted spec, the tracker's `profile` op).
`profile_again` profiles a stored profile's source the way it was profiled. Nothing is written
until the profile is complete: a refused, failed or cancelled run leaves what is stored as it was.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pipelines.errors import ProfileError
from pipelines.profiling import PROFILE_VERSION
from pipelines.profiling.source import (
    SourceFiles,
    check_options,
    location_of,
    parse_options,
    resolve,
)

if TYPE_CHECKING:
    from deliverables import Project
    from pipelines.profiling.outputs import ProfileOutcome

Listener = Callable[[dict], None]
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}\Z")
TIMEOUT = 1800.0


def pipeline_name(location: str, given: str | None = None) -> str:
    """`--name`, or one made from the location's file name (`landing/Orders-2026.csv` →
    `orders_2026`)."""
    if given is not None:
        if not _NAME.match(given):
            raise ProfileError(
                f"--name {given!r} is not a safe pipeline name (a-z, 0-9, _; starts with a letter)"
            )
        return given
    stem = PurePosixPath(location.rstrip("/").replace("*", "")).name.split(".")[0]
    name = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")
    if not name or not name[0].isalpha():
        name = f"source_{name}".rstrip("_")
    if not _NAME.match(name[:63]):
        raise ProfileError(f"cannot make a pipeline name from {location!r}; pass --name")
    return name[:63]


def profile_and_write(
    project: Project,
    location: str,
    *,
    name: str | None = None,
    fmt: str | None = None,
    options: list[str] | dict | None = None,
    sample_rows: int | None = None,
    update: bool = False,
    listener: Listener | None = None,
    cancel: threading.Event | None = None,
) -> ProfileOutcome:
    """Profiles `location` (profile_source) and writes what the profile leaves behind
    (outputs.write_outputs); the outcome's profile carries the drift found against the profile
    before. Raises ProfileError (bad input, a failed or cancelled run: nothing written)."""
    from pipelines.profiling.outputs import write_outputs

    profile = profile_source(
        project.root,
        location,
        name=name,
        fmt=fmt,
        options=options,
        sample_rows=sample_rows,
        listener=listener,
        cancel=cancel,
        now=project.now(),  # the profile's time is its op's: the project's clock
    )
    return write_outputs(project, profile, update=update)


def profile_again(
    project: Project,
    stored: dict[str, Any],
    *,
    listener: Listener | None = None,
    cancel: threading.Event | None = None,
) -> ProfileOutcome:
    """Profiles the source of `stored` (a profile as team_profiles returns it) again, as it was
    profiled: its location, format, reader options, name and sample size. The spec is not
    drafted over (as `phasegate profile` without `--update`)."""
    try:
        source = stored["source"]
        location, fmt = source["location"], source["format"]
        options = source.get("options") or {}
        if not isinstance(location, str) or not isinstance(options, dict):
            raise TypeError
    except (KeyError, TypeError):
        raise ProfileError(
            f"the stored profile of {stored.get('name', '?')} does not say what source it read"
        ) from None
    return profile_and_write(
        project,
        location,
        name=stored.get("name"),
        fmt=fmt,
        options=options,
        sample_rows=stored.get("sample_rows"),
        listener=listener,
        cancel=cancel,
    )


def profile_source(
    root: Path,
    location: str,
    *,
    name: str | None = None,
    fmt: str | None = None,
    options: list[str] | dict | None = None,
    sample_rows: int | None = None,
    listener: Listener | None = None,
    now: datetime | None = None,
    timeout: float = TIMEOUT,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    """The profile of `location` (see pipelines.profiling.compute) with the source's facts.
    Setting `cancel` ends the profiling subprocess (ProfileError)."""
    root = Path(root)
    parsed = (
        check_options(options) if isinstance(options, dict) else parse_options(list(options or []))
    )
    if sample_rows is not None and sample_rows < 1:
        raise ProfileError(f"--sample must be at least 1 row, not {sample_rows}")
    chosen = pipeline_name(location, name)
    source = resolve(root, location, fmt, parsed, sample_rows)
    when = now or datetime.now(UTC)
    try:
        result = _run_child(
            root, source, sample_rows, when, listener or (lambda e: None), timeout, cancel
        )
    finally:
        source.discard()  # an S3 source's temporary copies
    return assemble(root, chosen, source, result, when)


def assemble(
    root: Path, name: str, source: SourceFiles, result: dict[str, Any], when: datetime
) -> dict[str, Any]:
    """The stored profile: the statistics (pipelines.profiling.compute) with the source's facts."""
    files = [location_of(root, f) for f in source.files]
    return {
        "version": PROFILE_VERSION,
        "name": name,
        "profiled_at": when.isoformat(timespec="seconds"),
        "source": {
            "location": source.location,
            "format": source.format,
            "options": source.options,
            "files": len(files),
            "file_names": files[:20],
            "bytes": source.bytes,
            "partitions": source.partitions,
        },
        **result,
    }


def _run_child(
    root: Path,
    source: SourceFiles,
    sample_rows: int | None,
    now: datetime,
    listener: Listener,
    timeout: float,
    cancel: threading.Event | None = None,
) -> dict[str, Any]:
    request = {
        "source": {**asdict(source), "files": list(source.files), "local": list(source.local)},
        "sample_rows": sample_rows,
        "now": now.isoformat(),
    }
    read_fd, write_fd = os.pipe()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryFile(mode="w+b") as log:
        try:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pipelines.profiling.child",
                    "--events-fd",
                    str(write_fd),
                    json.dumps(request, default=str),
                ],
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                start_new_session=True,
            )
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            raise ProfileError(f"cannot start the profiling subprocess: {exc}") from None
        os.close(write_fd)
        result: dict[str, Any] | None = None
        error: str | None = None
        # the events are read until the child closes its end: the time limit ends the child's
        # process group from a timer, which closes that end (a wait after the loop never ran
        # while the child was working)
        expired, cancelled, finished = threading.Event(), threading.Event(), threading.Event()

        def expire() -> None:
            expired.set()
            _end(child)

        def watch(cancel: threading.Event) -> None:
            # `cancel` is set by the caller's thread (the TUI leaving): end the child the way the
            # time limit does
            while not finished.wait(0.2):
                if cancel.is_set():
                    cancelled.set()
                    _end(child)
                    return

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        timer.start()
        if cancel is not None:
            threading.Thread(target=watch, args=(cancel,), daemon=True).start()
        try:
            with os.fdopen(read_fd, "r", encoding="utf-8", errors="replace") as events:
                for line in events:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    kind = event.get("event")
                    if kind == "profile":
                        result = event["profile"]
                    elif kind == "error":
                        error = event.get("message", "")
                    elif kind == "pass":
                        listener(event)
            code = child.wait(timeout=60)  # its end closed: it is exiting
        except subprocess.TimeoutExpired:
            code = None
        finally:
            finished.set()
            timer.cancel()
            if child.poll() is None:
                _end(child)
        if cancelled.is_set():
            raise ProfileError("profiling cancelled: nothing was stored")
        if expired.is_set():
            raise ProfileError(f"profiling took longer than {timeout:g} s: stopped")
        if error:
            raise ProfileError(error)
        if result is None:
            log.seek(0)
            tail = [x for x in log.read().decode("utf-8", "replace").splitlines() if x.strip()]
            last = " | ".join(x.strip()[:200] for x in tail[-3:])
            raise ProfileError(f"the profiling subprocess ended (exit code {code}): {last}")
    return result


def _end(child: subprocess.Popen) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(child.pid, sig)
            child.wait(timeout=5)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
