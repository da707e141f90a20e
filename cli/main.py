# PYTHON_ARGCOMPLETE_OK  (argcomplete's marker: `register-python-argcomplete phasegate` completes)
"""`phasegate`'s entry point: the top-level parser, the command groups, and the one error guard.

Exit codes: 0 ok, 1 an error explained in one line, 2 a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cli import (
    branches,
    day,
    gates,
    generate,
    items,
    pipelines,
    profile,
    project,
    publish,
    sync,
    validate,
)
from cli.common import (
    argument_problem,
    fail,
    quiet_broken_pipe,
    raw_output,
    terminal_safe_output,
    usage,
)
from deliverables import TrackerError
from phases import ProcessError
from pipelines.errors import (
    GenerationError,
    LakeError,
    ProfileError,
    SpecError,
    ValidationError,
)

# The order of `phasegate --help`: the project first, then the work of a phase, then its gate.
GROUPS = (
    project,
    items,
    profile,
    pipelines,
    generate,
    validate,
    branches,
    gates,
    day,
    sync,
    publish,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; returns its exit code (never raises, except on PHASEGATE_DEBUG)."""
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions: answer and exit
        import argcomplete

        argcomplete.autocomplete(parser)
    arguments = list(sys.argv[1:] if argv is None else argv)
    problem = argument_problem(arguments)
    if problem:
        return usage(problem)
    # every line phasegate prints passes through here: user text cannot drive the terminal
    with terminal_safe_output():
        try:
            code = _run(parser, arguments)
            sys.stdout.flush()  # here, not at exit: a closed pipe is then still ours to handle
            return code
        except BrokenPipeError:
            return quiet_broken_pipe()


def _run(parser: argparse.ArgumentParser, arguments: list[str]) -> int:
    args = parser.parse_args(arguments)
    try:
        if args.run is project.open_tui:  # the TUI draws with escape sequences of its own
            with raw_output():
                return args.run(args) or 0
        return args.run(args) or 0
    except BrokenPipeError:
        raise  # the reader went away (`phasegate status | head -1`): not an error to report
    except (
        TrackerError,
        ProcessError,
        GenerationError,
        SpecError,
        ValidationError,
        LakeError,
        ProfileError,
    ) as exc:
        return fail(str(exc))
    except OSError as exc:
        target = f"{exc.filename}: " if exc.filename else ""
        return fail(f"{target}{exc.strerror or exc}")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last guard: one line, and the traceback only on request
        if os.environ.get("PHASEGATE_DEBUG"):
            raise
        return fail(
            f"internal error: {type(exc).__name__}: {exc} (set PHASEGATE_DEBUG=1 for details)"
        )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: each group adds its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="phasegate",
        description="Walk a data solution through the seven-phase delivery process.",
        epilog="Without a command, opens the TUI on the project that holds the current folder.",
    )
    parser.add_argument(
        "-C", "--project", metavar="PATH", default=".", help="the project folder (default: .)"
    )
    parser.add_argument("--version", action=_Version, help="print phasegate's version and exit")
    parser.set_defaults(run=project.open_tui, path=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


class _Version(argparse.Action):
    """`--version`: the installed distribution's version, read only when asked (importlib.metadata
    costs start-up time every other command would pay)."""

    def __init__(self, option_strings, dest, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("phasegate")
        except PackageNotFoundError:  # run from a source tree that was never installed
            number = "unknown (not installed)"
        print(f"phasegate {number}")  # on standard output, as argparse's own version action
        parser.exit()


if __name__ == "__main__":
    sys.exit(main())
