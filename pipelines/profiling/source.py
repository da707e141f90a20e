"""What `phasegate profile` reads: the location and reader options checked as a spec's are
(pipelines.spec), the files it names (in the repository, or objects in S3 copied to a temporary
folder: pipelines.profiling.remote), their size and path partitions, and the bad input that is
cheaper to find before Spark starts: an unreadable, empty or binary file, text that is not UTF-8
(or mixes encodings), a Parquet file that is not one.
"""

from __future__ import annotations

import codecs
import io
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
    # a block-sampled source (`--sample`, pipelines.profiling.blocks): `local` holds blocks of
    # whole lines of the files, not copies; `bytes` stays the whole source's
    block_sampled: bool = False
    rows_staged: int | None = None  # the lines in those blocks
    rows_estimated: int | None = None  # the source's rows: its bytes / the blocks' bytes a line

    @property
    def remote(self) -> bool:
        return "://" in self.location and not self.location.startswith("file:")

    @property
    def readable(self) -> tuple[str, ...]:
        """The paths Spark reads."""
        return self.local or self.files

    def discard(self) -> None:
        """Removes the temporary copies of a remote source or the staged blocks of a sample
        (nothing for a local source read whole)."""
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
    root: Path,
    location: str,
    fmt: str | None,
    options: dict[str, str | int | float | bool],
    sample_rows: int | None = None,
) -> SourceFiles:
    """The checked source: its files (every glob match inside the repository), format, bytes.
    With `sample_rows`, a large CSV or JSON-lines source is block-sampled
    (pipelines.profiling.blocks): only the sampled blocks are read and checked."""
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
            location,
            lambda copy, uri: check_file(copy, uri, fmt, options),
            keep=data_file,
            sample=_sampler(fmt, options, sample_rows),
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
            **_sampled_facts(staged.sample),
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
    sampler = _sampler(fmt, options, sample_rows)
    if sampler is not None:
        pieces = [_local_piece(root, name) for name in found]
        sample = sampler(pieces)
        if sample is not None:
            return SourceFiles(
                location,
                fmt,
                dict(options),
                tuple(found),
                sum(p.size for p in pieces),
                partitions_of(found, Path(root)),
                local=sample.local,
                staging=sample.staging,
                **_sampled_facts(sample),
            )
    size = 0
    for name in found:
        size += check_file(Path(name), location_of(root, name), fmt, options)
    return SourceFiles(
        location, fmt, dict(options), tuple(found), size, partitions_of(found, Path(root))
    )


def _sampler(fmt: str, options: dict, sample_rows: int | None):
    """pieces -> the staged block sample (or None: read whole), when a sample of this format
    and these options can be taken in blocks; else None."""
    from pipelines.profiling.blocks import blockable, sample_blocks

    if not sample_rows or not blockable(fmt, options):
        return None

    def check(data: bytes, shown: str) -> None:
        _check_text(io.BytesIO(data), shown, options)

    return lambda pieces: sample_blocks(pieces, fmt, options, sample_rows, check)


def _sampled_facts(sample) -> dict:
    if sample is None:
        return {}
    return {
        "block_sampled": True,
        "rows_staged": sample.rows_staged,
        "rows_estimated": sample.rows_estimated,
    }


def _local_piece(root: Path, name: str):
    """A local file as a block sample reads it, checked for what its size alone tells."""
    from pipelines.profiling.blocks import Piece

    path = Path(name)
    shown = location_of(root, name)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ProfileError(f"{shown}: cannot read the file ({exc.strerror or exc})") from None
    if size == 0:
        raise ProfileError(f"{shown}: the file is empty (0 bytes): nothing to profile")

    def opened():
        try:
            return path.open("rb")
        except OSError as exc:
            raise ProfileError(f"{shown}: cannot read the file ({exc.strerror or exc})") from None

    # its folders kept under the staging folder (`key=value` partitions), never above it
    parts = [p for p in PurePosixPath(Path(shown).as_posix()).parts if p not in ("/", "..")]
    return Piece(shown, str(PurePosixPath(*parts)), size, opened)


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
