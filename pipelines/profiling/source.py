"""What `phasegate profile` reads: the location and reader options checked as a spec's are
(pipelines.spec), the files it names (in the repository, or objects in S3 copied to a temporary
folder: pipelines.profiling.remote), their size and path partitions, and the bad input that is
cheaper to find before Spark starts: an unreadable, empty or binary file, text that is not UTF-8
(or mixes encodings), a Parquet file that is not one.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from pipelines.errors import ProfileError
from pipelines.spec import (
    FORMATS,
    location_problem,
    option_key_problem,
    option_value_problem,
)

_PARTITION = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=([^/]*)\Z")
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".jsonl": "json"}
_EXTENSIONS |= {".ndjson": "json", ".parquet": "parquet", ".pq": "parquet"}
CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceFiles:
    location: str  # as given (relative to the repository, or a URI)
    format: str
    options: dict[str, str | int | float | bool]
    files: tuple[str, ...]  # absolute local paths, or URIs
    bytes: int
    partitions: dict[str, list[str]] = field(default_factory=dict)
    # an S3 source: the local copies Spark reads, one per URI of `files`, in a temporary folder
    # (pipelines.profiling.remote)
    local: tuple[str, ...] = ()
    staging: str | None = None

    @property
    def remote(self) -> bool:
        return "://" in self.location and not self.location.startswith("file:")

    @property
    def readable(self) -> tuple[str, ...]:
        """The paths Spark reads."""
        return self.local or self.files

    def discard(self) -> None:
        """Removes the temporary copies of a remote source (nothing for a local one)."""
        from pipelines.profiling.remote import discard

        discard(self.staging)


def parse_options(pairs: list[str]) -> dict[str, str | int | float | bool]:
    """`--option k=v` pairs, each value read as YAML reads a plain scalar (true, 3, ";"), each
    checked as a spec's `source.options` are."""
    options: dict[str, str | int | float | bool] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ProfileError(f"--option {pair!r}: expected key=value, e.g. --option delimiter=;")
        problem = option_key_problem(key)
        if problem:
            raise ProfileError(f"--option {key}: {problem}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        if not isinstance(value, str | int | float | bool):
            value = raw
        problem = option_value_problem(key, value)
        if problem:
            raise ProfileError(f"--option {key}: {problem}")
        options[key] = value
    return options


def check_options(options: dict) -> dict[str, str | int | float | bool]:
    """Reader options kept in a stored profile (this clone's, or a teammate's once synced),
    checked as `--option` pairs are before they are read again."""
    for key, value in options.items():
        problem = option_key_problem(str(key))
        if problem is None and not isinstance(value, str | int | float | bool):
            problem = f"{value!r} is not a plain value"
        problem = problem or option_value_problem(str(key), value)
        if problem:
            raise ProfileError(f"option {key}: {problem}")
    return dict(options)


def guess_format(location: str) -> str | None:
    name = location.rstrip("/").rsplit("/", 1)[-1]
    # the last extension of the last segment, also of a glob (`*.csv`, whose stem is a wildcard)
    _, dot, extension = name.rpartition(".")
    return _EXTENSIONS.get(f".{extension.lower()}") if dot else None


def resolve(
    root: Path, location: str, fmt: str | None, options: dict[str, str | int | float | bool]
) -> SourceFiles:
    """The checked source: its files (every glob match inside the repository), format, bytes."""
    from deliverables.paths import file_uri_path, matches, scheme_of

    try:
        problem = location_problem(root, location, allow_uri=True, allow_glob=True)
    except (RuntimeError, OSError) as exc:  # a symlink loop on the way (Path.resolve)
        raise ProfileError(f"{location}: cannot read the file ({exc})") from None
    if problem:
        raise ProfileError(f"{location}: {problem}")
    fmt = fmt or guess_format(location)
    if fmt is None:
        raise ProfileError(
            f"{location}: cannot tell the format from the name; pass --format csv|json|parquet"
        )
    if fmt not in FORMATS:
        raise ProfileError(f"--format {fmt!r} is not one of: {', '.join(FORMATS)}")
    scheme = scheme_of(location)
    if scheme not in (None, "file"):
        from pipelines.profiling.remote import stage

        staged = stage(
            location, lambda copy, uri: check_file(copy, uri, fmt, options), keep=data_file
        )
        return SourceFiles(
            location,
            fmt,
            dict(options),
            staged.uris,
            staged.bytes,
            partitions_of(list(staged.uris)),
            local=staged.local,
            staging=staged.staging,
        )
    local = file_uri_path(location) if scheme == "file" else location
    if re.search(r"[*?\[]", local):
        found = [str(Path(root) / m) for m in matches(root, local)]
    else:
        path = Path(root) / local
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.is_file() and data_file(p))
        elif path.exists():
            found = [str(path)]
        elif path.is_symlink():
            raise ProfileError(f"{location}: cannot read the file (a link to nothing readable)")
        else:
            raise ProfileError(f"{location}: no such file")
    found = [f for f in found if Path(f).is_file()]
    if not found:
        raise ProfileError(f"{location}: no file matches")
    size = 0
    for name in found:
        size += check_file(Path(name), location_of(root, name), fmt, options)
    return SourceFiles(
        location, fmt, dict(options), tuple(found), size, partitions_of(found, Path(root))
    )


def location_of(root: Path, name: str) -> str:
    try:
        return str(Path(name).relative_to(root))
    except ValueError:
        return name


def data_file(path: Path | PurePosixPath) -> bool:
    """Not a hidden or bookkeeping file (`.crc`, `_SUCCESS`)."""
    return not path.name.startswith((".", "_"))


def partitions_of(files: list[str], root: Path | None = None) -> dict[str, list[str]]:
    """Hive-style `key=value` folders on the files' paths: {key: sorted values}."""
    found: dict[str, set[str]] = {}
    for name in files:
        relative = location_of(root, name) if root else name
        for part in PurePosixPath(relative).parts[:-1]:
            match = _PARTITION.match(part)
            if match:
                found.setdefault(match.group(1), set()).add(match.group(2))
    return {k: sorted(v) for k, v in sorted(found.items())}


def check_file(path: Path, shown: str, fmt: str, options: dict) -> int:
    """The file's size, once it is readable and not empty; a text format must be text in its
    encoding (UTF-8 unless `encoding`/`charset` says otherwise), Parquet must be Parquet."""
    try:
        size = path.stat().st_size
        handle = path.open("rb")
    except OSError as exc:
        raise ProfileError(f"{shown}: cannot read the file ({exc.strerror or exc})") from None
    with handle:
        if size == 0:
            raise ProfileError(f"{shown}: the file is empty (0 bytes): nothing to profile")
        if fmt == "parquet":
            head = handle.read(4)
            handle.seek(max(0, size - 4))
            tail = handle.read(4)
            if head != b"PAR1" or tail != b"PAR1":
                raise ProfileError(f"{shown}: not a Parquet file (no PAR1 magic bytes)")
            return size
        _check_text(handle, shown, options)
    return size


def _check_text(handle, shown: str, options: dict) -> None:
    lowered = {k.lower(): v for k, v in options.items()}
    encoding = str(lowered.get("encoding") or lowered.get("charset") or "utf-8")
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    except LookupError:
        raise ProfileError(f"--option encoding={encoding}: unknown encoding") from None
    utf8 = codecs.lookup(encoding).name == "utf-8"
    line, non_ascii_line = 1, None
    while chunk := handle.read(CHUNK):
        if b"\x00" in chunk and utf8:
            at = line + chunk[: chunk.index(b"\x00")].count(b"\n")
            raise ProfileError(
                f"{shown}: line {at}: a NUL byte: this looks like a binary file, not text "
                "(profile Parquet with --format parquet)"
            )
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            good = chunk[: exc.start]
            at = line + good.count(b"\n")
            if non_ascii_line is None and not good.isascii():
                non_ascii_line = line + good[: _first_non_ascii(good)].count(b"\n")
            bad = chunk[exc.start : exc.start + 4]
            if non_ascii_line is not None:
                raise ProfileError(
                    f"{shown}: line {at}: mixed encodings: {encoding} text (line "
                    f"{non_ascii_line} has {encoding} characters) and bytes that are not "
                    f"{encoding} ({bad!r}); convert the file to one encoding"
                ) from None
            raise ProfileError(
                f"{shown}: line {at}: not {encoding} text ({bad!r}); if the whole file is in "
                "another encoding, pass it, e.g. --option encoding=ISO-8859-1"
            ) from None
        # what decoded: bytes the decoder still holds (the start of a character the next chunk
        # may end, or a byte of another encoding) are not text of this encoding yet
        held = len(decoder.getstate()[0])
        decoded = chunk[: max(0, len(chunk) - held)]
        if non_ascii_line is None and not decoded.isascii():
            first = _first_non_ascii(decoded)
            non_ascii_line = line + decoded[:first].count(b"\n")
        line += chunk.count(b"\n")


_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _first_non_ascii(data: bytes) -> int:
    """Where the first byte above 127 is (in C: a byte-by-byte Python loop took 10-20 s over the
    chunks of a 50 MB file before Spark even started)."""
    found = _NON_ASCII.search(data)
    return found.start() if found else len(data)
