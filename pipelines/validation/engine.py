"""Runs a validation: one subprocess (`pipelines.validation.child`) for the selected pipelines,
driven from here, with every outcome stored in the tracker as it arrives.

The parent owns what the child cannot report itself: a per-pipeline timeout and a crash (the
pipeline it was on gets a failed result, the child is restarted for the rest), cancellation (the
subprocess group is ended, what did not finish is recorded as cancelled). The CLI and the TUI
call `validate`; neither imports Spark, GX or Airflow.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from deliverables.git import head
from deliverables.store import CheckRecord
from deliverables.validations import pipeline_outcome, run_log_path
from phases.text import mask_secrets, uri_secrets
from pipelines.errors import LakeError, ValidationError
from pipelines.validation.protocol import CATALOG_ENV, STEPS

if TYPE_CHECKING:
    from deliverables import Project
    from deliverables.store import Tracker

TIERS = ("static", "full")
DEFAULT_TIMEOUT = {"static": 300.0, "full": 900.0}  # seconds per pipeline
DEFAULT_ROWS = 1000
GROUP_EXIT_SECONDS = 10.0
Listener = Callable[[dict], None]


@dataclass
class RunOutcome:
    run_id: int
    tier: str
    status: str  # passed | failed | cancelled
    summary: str
    pipelines: dict[str, str] = field(default_factory=dict)  # name -> passed | failed | ...
    checks: list[CheckRecord] = field(default_factory=list)
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status == "passed"


def lake_location(project: Project, catalog_uri: str | None = None) -> tuple[str, str]:
    """The Iceberg catalog the full tier writes to: the solution's, as its generated jobs load
    it (pipelines.lake: .pyiceberg.yaml, PYICEBERG_CATALOG__<NAME>__URI, ...; by default SQLite
    under .phasegate/lake/), its URI replaced by `catalog_uri` (--catalog-uri, e.g.
    postgresql+psycopg://postgres@127.0.0.1:5432/lake)."""
    from pipelines.lake import catalog_properties

    try:
        properties = catalog_properties(project.root)
    except LakeError as exc:
        raise ValidationError(str(exc)) from None
    return catalog_uri or properties.get("uri", ""), properties.get("warehouse", "")


def validate(
    project: Project,
    names: list[str] | None = None,
    tier: str = "static",
    *,
    rows: int = DEFAULT_ROWS,
    catalog_uri: str | None = None,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
    listener: Listener | None = None,
) -> RunOutcome:
    """Validates `names` (default: every spec) at `tier`; stores and returns the run."""
    from pipelines.spec import load_specs

    if tier not in TIERS:
        raise ValidationError(f"unknown tier '{tier}' (choose static or full)")
    if rows < 1:
        raise ValidationError(f"--rows must be at least 1, not {rows}")
    specs = load_specs(project.root)
    known = [s.name for s in specs]
    if not known:
        raise ValidationError(
            f"{project.root / 'pipelines'} has no pipeline specs to validate "
            "(see docs/pipeline-spec.md)"
        )
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise ValidationError(
            f"unknown pipeline(s) {', '.join(unknown)}; the specs are: {', '.join(known)}"
        )
    selected = list(dict.fromkeys(names)) if names else known
    uri, warehouse = lake_location(project, catalog_uri)
    if tier == "full" and uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    commit, dirty = head(project.root)
    tracker = project.tracker
    run_id = tracker.start_run(tier, selected, commit, dirty)
    log_path = run_log_path(project, run_id)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _ignore_logs(project.root)
    runner = _Runner(
        root=project.root,
        tracker=tracker,
        run_id=run_id,
        tier=tier,
        rows=rows,
        uri=uri,
        warehouse=warehouse,
        timeout=timeout or DEFAULT_TIMEOUT[tier],
        cancel=cancel or threading.Event(),
        listener=listener or (lambda event: None),
        log_path=log_path,
    )
    try:
        runner.run(selected)
    finally:
        status, summary, per_pipeline = _conclude(selected, runner.checks, runner.cancelled)
        tracker.finish_run(run_id, status, summary, runner.versions)
        runner.notify({"event": "finished", "run_id": run_id, "status": status, "summary": summary})
    return RunOutcome(run_id, tier, status, summary, per_pipeline, runner.checks, runner.log_path)


def _ignore_logs(root: Path) -> None:
    """Run logs stay out of git (projects made before logs existed lack the line)."""
    ignore = root / ".phasegate" / ".gitignore"
    try:
        text = ignore.read_text() if ignore.exists() else ""
        if "runs/" not in text.split():
            ignore.write_text(text + ("" if text.endswith("\n") or not text else "\n") + "runs/\n")
    except OSError:
        pass  # an unwritable .gitignore costs a noisy `git status`, not the run


def _conclude(
    selected: list[str], checks: list[CheckRecord], cancelled: bool
) -> tuple[str, str, dict[str, str]]:
    per = {
        name: pipeline_outcome([c.outcome for c in checks if c.pipeline == name])
        for name in selected
    }
    status = (
        "cancelled"
        if cancelled
        else ("passed" if all(v == "passed" for v in per.values()) else "failed")
    )
    good = [n for n, v in per.items() if v == "passed"]
    bad = [f"{n} ({v})" for n, v in per.items() if v != "passed"]
    summary = f"{len(good)} of {len(per)} pipeline(s) passed"
    if bad:
        summary += "; " + ", ".join(bad)
    return status, summary, per


class _Runner:
    """Drives child processes until every selected pipeline has a result."""

    def __init__(
        self,
        *,
        root: Path,
        tracker: Tracker,
        run_id: int,
        tier: str,
        rows: int,
        uri: str,
        warehouse: str,
        timeout: float,
        cancel: threading.Event,
        listener: Listener,
        log_path: Path,
    ) -> None:
        self.root, self.tracker, self.run_id = root, tracker, run_id
        self.tier, self.rows = tier, rows
        self.uri, self.warehouse, self.timeout = uri, warehouse, timeout
        self.cancel_event, self.listener, self.log_path = cancel, listener, log_path
        self.checks: list[CheckRecord] = []
        self.versions: dict[str, str] = {}
        self.cancelled = False
        self._tail: deque[str] = deque(maxlen=40)
        self._lock = threading.Lock()
        self._secrets = uri_secrets(uri)

    def notify(self, event: dict) -> None:
        try:
            self.listener(event)
        except Exception:  # a broken listener (a closed TUI) must not lose the run's results
            self.listener = lambda event: None

    def run(self, selected: list[str]) -> None:
        remaining = list(selected)
        self.notify(
            {
                "event": "started",
                "run_id": self.run_id,
                "tier": self.tier,
                "pipelines": selected,
                "steps": list(STEPS[self.tier]),
            }
        )
        with self.log_path.open("a", encoding="utf-8") as log:
            self._log = log
            while remaining and not self.cancelled:
                remaining = self._one_child(remaining)

    # --- one subprocess ------------------------------------------------------------------------

    def _one_child(self, remaining: list[str]) -> list[str]:
        """Runs a child for `remaining`; returns the pipelines still without a result."""
        read_fd, write_fd = os.pipe()
        command = [
            sys.executable,
            "-m",
            "pipelines.validation.child",
            "--root",
            str(self.root),
            "--tier",
            self.tier,
            "--events-fd",
            str(write_fd),
            "--rows",
            str(self.rows),
            "--warehouse",
            self.warehouse,
            *remaining,
        ]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", CATALOG_ENV: self.uri}
        try:
            child = subprocess.Popen(
                command,
                cwd=self.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                start_new_session=True,
            )
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            for name in remaining:
                self._record(
                    name,
                    "sample" if self.tier == "full" else "sync",
                    "subprocess",
                    "error",
                    f"cannot start the validation subprocess: {exc}",
                )
            return []
        os.close(write_fd)
        self.notify({"event": "subprocess", "pid": child.pid, "pipelines": remaining})
        events = os.fdopen(read_fd, "rb")
        done: set[str] = set()
        current: str | None = None
        started_at = time.monotonic()
        selector = selectors.DefaultSelector()
        selector.register(events, selectors.EVENT_READ, "events")
        selector.register(child.stdout, selectors.EVENT_READ, "log")
        open_streams = 2
        buffers = {"events": b"", "log": b""}
        try:
            while open_streams:
                if self.cancel_event.is_set():
                    self._end(child)
                    self.cancelled = True
                    for name in remaining:
                        if name not in done:
                            self._record(
                                name,
                                "run",
                                "cancelled",
                                "cancelled",
                                "the run was cancelled before this pipeline finished",
                            )
                    return []
                if current is not None and time.monotonic() - started_at > self.timeout:
                    self._end(child)
                    self._record(
                        current,
                        "run",
                        "timeout",
                        "timeout",
                        f"no result within {self.timeout:g} s: the subprocess was ended",
                    )
                    done.add(current)
                    return [n for n in remaining if n not in done]
                for key, _ in selector.select(timeout=0.2):
                    chunk = os.read(key.fileobj.fileno(), 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        open_streams -= 1
                        continue
                    buffers[key.data] += chunk
                    *lines, buffers[key.data] = buffers[key.data].split(b"\n")
                    for raw in lines:
                        text = raw.decode("utf-8", errors="replace")
                        if key.data == "log":
                            self._log_line(text)
                            continue
                        event = _parse(text)
                        if event is None:
                            continue
                        kind = event.get("event")
                        if kind == "versions":
                            self.versions = event.get("versions") or {}
                        elif kind == "step":
                            if event.get("pipeline") != current:
                                current, started_at = event.get("pipeline"), time.monotonic()
                        elif kind == "check":
                            self._record(
                                event["pipeline"],
                                event["step"],
                                event["check"],
                                event["outcome"],
                                event.get("detail", ""),
                                event.get("data") or {},
                                event.get("duration"),
                            )
                            continue  # _record notifies
                        elif kind == "pipeline":
                            done.add(event["pipeline"])
                            if current == event["pipeline"]:
                                current = None
                        self.notify(event)
            code = child.wait()
        finally:
            selector.close()
            events.close()
            if child.poll() is None:
                self._end(child)
        left = [n for n in remaining if n not in done]
        if not left:
            return []
        reason = _exit_reason(code, list(self._tail))
        if current is not None and current in left:
            self._record(
                current,
                "run",
                "subprocess",
                "error",
                f"the validation subprocess crashed: {reason}",
            )
            return [n for n in left if n != current]
        # it died before starting any pipeline: restarting would fail the same way
        for name in left:
            self._record(
                name,
                "run",
                "subprocess",
                "error",
                f"the validation subprocess failed before this pipeline: {reason}",
            )
        return []

    def _record(
        self,
        pipeline: str,
        step: str,
        check: str,
        outcome: str,
        detail: str = "",
        data: dict | None = None,
        duration: float | None = None,
    ) -> None:
        # what is stored and shown never holds the catalog's password
        detail = mask_secrets(detail, self._secrets)
        record = CheckRecord(
            self.run_id,
            pipeline,
            step,
            check,
            outcome,
            detail,
            mask_secrets(json.dumps(data or {}, default=str), self._secrets),
            duration,
        )
        self.tracker.add_checks([record])
        self.checks.append(record)
        self.notify(
            {
                "event": "check",
                "pipeline": pipeline,
                "step": step,
                "check": check,
                "outcome": outcome,
                "detail": detail,
                "duration": duration,
            }
        )

    def _log_line(self, text: str) -> None:
        text = mask_secrets(text, self._secrets)
        self._tail.append(text)
        self._log.write(text + "\n")
        self._log.flush()
        self.notify({"event": "log", "line": text})

    def _end(self, child: subprocess.Popen) -> None:
        """Ends the child's whole process group (the JVM included): TERM, then KILL."""
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 10)):
            try:
                os.killpg(child.pid, sig)
            except ProcessLookupError:
                break
            try:
                child.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):  # the JVM may outlive its parent
            os.killpg(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + GROUP_EXIT_SECONDS
        while time.monotonic() < deadline:  # until the kernel has removed the whole group
            try:
                os.killpg(child.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)


def _parse(text: str) -> dict | None:
    try:
        event = json.loads(text)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def _exit_reason(code: int | None, tail: list[str]) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        reason = f"killed by {name}"
    else:
        reason = f"exit code {code}"
    last = [line for line in tail if line.strip()][-3:]
    return reason + (": " + " | ".join(s.strip()[:200] for s in last) if last else "")
