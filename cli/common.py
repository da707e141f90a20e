"""What every command group shares: opening the project, messages, argument types."""

from __future__ import annotations

import argparse
import sys

from deliverables import Project


def open_project(args: argparse.Namespace) -> Project:
    """The project of `phasegate -C PATH` (or of a command's own PATH argument)."""
    return Project.open(args.path or args.project)


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
