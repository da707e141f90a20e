"""What every command group shares: opening the project, messages, argument types."""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from deliverables import Project
from phases.text import control_problem, terminal_safe

# SQLite stores ids as signed 64-bit integers: a larger number is no record, and SQLite would
# raise OverflowError binding it.
MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]+\Z")  # ASCII only: int() also reads "١٢" and "1_000"

# `-o` without a file name: the document's own place in the repository, as the TUI writes it
OWN_PLACE = "<own place>"


def open_project(args: argparse.Namespace) -> Project:
    """The project of `phasegate -C PATH` (or of a command's own PATH argument); with `--at`,
    the project as it was then (read-only: deliverables.project.Project.at)."""
    project = Project.open(args.path or args.project)
    if project.notice:
        print(f"phasegate: {project.notice}", file=sys.stderr)
    if getattr(args, "at", None):
        try:
            past = project.at(args.at)
        finally:
            project.close()
        return past
    return project


AT_HELP = "the state as it was: a date (YYYY-MM-DD, its end), a time, or a commit"


def add_output(parser: argparse.ArgumentParser, where: str) -> None:
    """`-o FILE`, or `-o` alone for the document's own place (`where`, as the TUI's `w`)."""
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        nargs="?",
        const=OWN_PLACE,
        help=f"write to FILE instead of standard output; -o alone: {where} (where the TUI writes it)",
    )


def emit_document(
    project: Project, output: str | None, text: str, own_place: Callable[[], Path]
) -> None:
    """The document on standard output, in FILE, or at its own place (`own_place()`)."""
    from deliverables.templating import write_atomically, write_document

    if output is None:
        sys.stdout.write(text)
        return
    if output == OWN_PLACE:
        path = write_document(own_place(), text)
        shown = path.relative_to(project.root)
    else:
        shown = path = Path(output)
        write_atomically(path, text)
    print(f"Wrote {shown}", file=sys.stderr)


def print_json(document: dict) -> None:
    """A JSON document of deliverables.json_documents on standard output (UTF-8 as is)."""
    import json

    print(json.dumps(document, indent=2, ensure_ascii=False))


def item_status(text: str) -> str:
    """An argparse type: an item status in any accepted spelling (`n/a`, `in review`, …); any
    other value is a usage error (exit 2)."""
    return _status(text, "item")


def deliverable_status(text: str) -> str:
    """An argparse type: a deliverable status in any accepted spelling."""
    return _status(text, "deliverable")


def _status(text: str, what: str) -> str:
    from deliverables import TrackerError
    from deliverables.statuses import DELIVERABLE_STATUSES, ITEM_STATUSES, parse_status

    allowed = ITEM_STATUSES if what == "item" else DELIVERABLE_STATUSES
    try:
        return parse_status(text, allowed, what)
    except TrackerError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def fail(message: str) -> int:
    """An error in one line on standard error; exit code 1."""
    print(f"phasegate: {message}", file=sys.stderr)
    return 1


def usage(message: str) -> int:
    """A usage error in one line on standard error; exit code 2 (as argparse's own)."""
    print(f"phasegate: {message}", file=sys.stderr)
    return 2


def positive_int(text: str) -> int:
    """An argparse type: a whole number from 1 to MAX_ID (ids, counts, rows)."""
    cleaned = text.strip()
    if not _DIGITS.match(cleaned):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    value = int(cleaned)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    if value > MAX_ID:
        raise argparse.ArgumentTypeError(f"{cleaned} is too large (at most {MAX_ID})")
    return value


def argument_problem(arguments: list[str]) -> str | None:
    """Why the command line cannot be read (an argument that is not UTF-8 text), or None.
    Python hands such bytes over as lone surrogates; nothing downstream could store or print
    them."""
    for n, argument in enumerate(arguments, 1):
        problem = control_problem(argument, multiline=True)
        if problem and "not UTF-8" in problem:
            return f"argument {n} {problem}"
    return None


class _TerminalSafe(io.TextIOBase):
    """A text stream that escapes what a terminal would obey (ESC, BEL, CR, OSC…) and keeps
    newlines and tabs: stored text from before the input checks, file contents, git output."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(terminal_safe(text, multiline=True))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return self._stream.encoding


@contextlib.contextmanager
def terminal_safe_output() -> Iterator[None]:
    """stdout and stderr, terminal-safe, for the duration of a command."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _TerminalSafe(out), _TerminalSafe(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


@contextlib.contextmanager
def raw_output() -> Iterator[None]:
    """The streams as they were, for the TUI (its escape sequences are its own)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = out._stream if isinstance(out, _TerminalSafe) else out
    sys.stderr = err._stream if isinstance(err, _TerminalSafe) else err
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def quiet_broken_pipe() -> int:
    """The reader of standard output went away (`phasegate status | head -1`): end quietly as
    Unix tools do, with 128 + SIGPIPE, and without Python's second complaint at exit."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 128 + signal.SIGPIPE


def positive_float(text: str) -> float:
    """An argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if not math.isfinite(value) or not 0.001 <= value <= 7 * 24 * 3600:
        raise argparse.ArgumentTypeError(
            f"{text} must be a number of seconds from 0.001 to 604800 (a week)"
        )
    return value
