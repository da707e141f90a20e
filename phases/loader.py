"""Builds the process model from the packaged YAML and a team's `.phasegate/process.yaml`.

Every problem becomes a `ProcessError` naming the file, the line and the field, so a team that
tailors the process sees exactly what to fix. Unknown keys are rejected, not ignored.

The packaged default is parsed once and then read from a pickle in the user's cache folder,
keyed by the content of the YAML and of the code that reads it: start-up skips PyYAML entirely
unless the project has an overlay.
"""

from __future__ import annotations

import os
import pickle
import zlib
from pathlib import Path

from phases.errors import ProcessError
from phases.model import ProcessModel

DEFAULT_PROCESS = Path(__file__).with_name("process.yaml")
OVERLAY_NAME = "process.yaml"
_CODE = (Path(__file__).with_name("model.py"), Path(__file__).with_name("_reader.py"))

__all__ = ["DEFAULT_PROCESS", "OVERLAY_NAME", "ProcessError", "load_process"]


def load_process(project_root: Path | None = None, *, use_cache: bool = True) -> ProcessModel:
    """The default process, with the project's `.phasegate/process.yaml` applied when it exists."""
    model = _default_model(use_cache)
    if project_root is not None:
        overlay = Path(project_root) / ".phasegate" / OVERLAY_NAME
        if overlay.exists():
            from phases._reader import apply_overlay

            model = apply_overlay(model, overlay)
    return model


def _default_model(use_cache: bool) -> ProcessModel:
    try:
        raw = DEFAULT_PROCESS.read_bytes()
    except OSError as exc:
        raise ProcessError(DEFAULT_PROCESS, None, "", f"cannot read: {exc.strerror}") from None
    # crc32 rather than hashlib: loading OpenSSL costs ~3 ms of start-up, and a key only has to
    # change when the content does (the unpickled object is checked as well)
    key = zlib.crc32(raw)
    for code in _CODE:
        key = zlib.crc32(code.read_bytes(), key)
    cache = cache_dir() / f"process-{key:08x}-{len(raw)}.pickle"
    if use_cache:
        try:
            model = pickle.loads(cache.read_bytes())
            if isinstance(model, ProcessModel):
                return model
        except Exception:  # missing, unreadable or from another version: parse again
            pass
    from phases._reader import read_default

    model = read_default(DEFAULT_PROCESS).freeze((str(DEFAULT_PROCESS),))
    if use_cache:
        _write_quietly(cache, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
    return model


def cache_dir() -> Path:
    """phasegate's cache folder for this user, where the platform keeps caches (platformdirs:
    $XDG_CACHE_HOME/phasegate on Linux, ~/Library/Caches/phasegate on macOS)."""
    from platformdirs import user_cache_dir  # Textual imports it anyway: no start-up cost

    return Path(user_cache_dir("phasegate", appauthor=False))


def _write_quietly(path: Path, data: bytes) -> None:
    """A cache that cannot be written is no error: the next start parses again."""
    import tempfile  # only when the cache is (re)written

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".process-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except OSError:
        pass
