"""What every command group shares: opening the project, messages, argument types."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from deliverables import Project

# `-o` without a file name: the document's own place in the repository, as the TUI writes it
OWN_PLACE = "<own place>"


def open_project(args: argparse.Namespace) -> Project:
    """The project of `phasegate -C PATH` (or of a command's own PATH argument)."""
    return Project.open(args.path or args.project)


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
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0")
    return value
