"""The one exception type of the tracker package."""


class TrackerError(Exception):
    """Something the user can act on: an unknown id, a refused transition, an unwritable file."""
