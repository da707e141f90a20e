"""The exceptions of the pipelines package; light, so the CLI can catch them at start-up."""

from __future__ import annotations

from phases.errors import LocatedError


class SpecError(LocatedError):
    """A pipeline spec is wrong: `str()` is `file:line: field: problem`."""


class GenerationError(Exception):
    """Generation could not run; nothing was written."""


class ValidationError(Exception):
    """A validation could not start (bad arguments, no specs); nothing was stored."""


class LakeError(Exception):
    """The solution's Iceberg catalog could not be configured or read, or a branch is unknown."""


class ProfileError(Exception):
    """A source could not be profiled (bad input, a bad option): one line naming the file."""
