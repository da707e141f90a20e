"""S3 sources of `phasegate profile`: `s3://bucket/prefix`, `s3://bucket/key.csv`, or a glob in
the key (`s3://bucket/landing/*.csv`), read through PyArrow's S3 filesystem.

The connection comes from the standard AWS settings: credentials from `AWS_ACCESS_KEY_ID` /
`AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` or the profile (`AWS_PROFILE`, `~/.aws/`), the
region from `AWS_REGION` / `AWS_DEFAULT_REGION` or the profile, and the endpoint of an
S3-compatible store (MinIO, moto, Ceph) from `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`.

The objects are copied, streamed, into a temporary folder (the key's folders kept, so
`key=value` partitions stay visible), where the checks of local files run on them (empty, binary, not in its encoding) and the profiling subprocess's Spark reads them: the
pyspark package has no S3 connector (hadoop-aws), and a copy gives Spark the same bytes as a
local file, so an S3 source profiles exactly as the same file on disk. The copy is removed when
profiling ends (`SourceFiles.discard`).

A sampled profile of a large CSV or JSON-lines source (pipelines.profiling.blocks) copies only the
sampled blocks, each read with a ranged GET (`open_input_file`, then seek and read), not the
whole objects.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO, NamedTuple
from urllib.parse import urlsplit

from pipelines.errors import ProfileError
from pipelines.profiling.blocks import BlockSample, Piece

if TYPE_CHECKING:
    from pyarrow.fs import S3FileSystem

SCHEMES = ("s3", "s3a")
CHUNK = 8 << 20
CONNECT_TIMEOUT = 10.0  # seconds: an endpoint that does not answer is one line, soon
REQUEST_TIMEOUT = 120.0
_GLOB = ("*", "?", "[")


def filesystem() -> S3FileSystem:
    """PyArrow's S3 filesystem as the standard AWS settings describe it (see the module)."""
    from pyarrow import fs

    options: dict = {"connect_timeout": CONNECT_TIMEOUT, "request_timeout": REQUEST_TIMEOUT}
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region:
        options["region"] = region
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ProfileError(
                f"AWS_ENDPOINT_URL {endpoint!r} is not an http(s) URL (e.g. http://127.0.0.1:9000)"
            )
        options["endpoint_override"] = parts.netloc + parts.path.rstrip("/")
        options["scheme"] = parts.scheme
    try:
        # credentials: the AWS SDK's default chain (the environment, then AWS_PROFILE's)
        return fs.S3FileSystem(**options)
    except (OSError, ValueError) as exc:
        raise ProfileError(f"cannot set up the S3 connection: {_first_line(exc)}") from None


class Staged(NamedTuple):
    """The objects of an S3 location, copied: their URIs, the local copies (in the same order;
    of a block sample, the staged blocks of the objects that got one), their bytes, and the
    temporary folder that holds the copies."""

    uris: tuple[str, ...]
    local: tuple[str, ...]
    bytes: int
    staging: str
    sample: BlockSample | None = None


def stage(
    location: str,
    check: Callable[[Path, str], int],
    keep: Callable[[PurePosixPath], bool],
    sample: Callable[[list[Piece]], BlockSample | None] | None = None,
) -> Staged:
    """Copies the objects `location` names (those `keep` accepts) into a temporary folder;
    `check(copy, uri)` checks each copy as a local file is checked and returns its size.
    `sample(pieces)`, when given, may stage a block sample instead (ranged reads); when it
    returns None the objects are copied whole."""
    scheme, bucket, key = split(location)
    s3 = filesystem()
    objects = _objects(s3, location, bucket, key)
    if not objects:
        raise ProfileError(f"{location}: no object matches")
    if sample is not None:
        kept = [(path, size) for path, size in objects if keep(PurePosixPath(path))]
        for path, size in kept:
            if size == 0:
                raise ProfileError(
                    f"{scheme}://{path}: the file is empty (0 bytes): nothing to profile"
                )
        pieces = [
            Piece(f"{scheme}://{path}", path, size, _opener(s3, path, f"{scheme}://{path}"))
            for path, size in kept
        ]
        staged = sample(pieces) if pieces else None
        if staged is not None:
            uris = tuple(p.shown for p in pieces)
            return Staged(uris, staged.local, sum(p.size for p in pieces), staged.staging, staged)
    folder = Path(tempfile.mkdtemp(prefix="phasegate-s3-"))
    uris, local, size = [], [], 0
    try:
        for path, _ in objects:
            if not keep(PurePosixPath(path)):
                continue
            uri = f"{scheme}://{path}"
            copy = folder / path
            copy.parent.mkdir(parents=True, exist_ok=True)
            _download(s3, path, copy, uri)
            size += check(copy, uri)
            uris.append(uri)
            local.append(str(copy))
        if not uris:
            raise ProfileError(f"{location}: no object matches (only hidden or _ files)")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Staged(tuple(uris), tuple(local), size, str(folder))


def split(location: str) -> tuple[str, str, str]:
    """(scheme, bucket, key) of `s3://bucket/key`; the key may be empty (the whole bucket)."""
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ProfileError(
            f"{location}: only s3:// object-store sources are read (not {scheme}://); copy "
            "a sample into the repository and profile that file"
        )
    if not parts.netloc:
        raise ProfileError(f"{location}: no bucket: expected s3://bucket/prefix")
    if parts.query or parts.fragment:
        raise ProfileError(f"{location}: a ? or # in an S3 location is not read; drop it")
    return scheme, parts.netloc, parts.path.lstrip("/")


def _objects(s3, location: str, bucket: str, key: str) -> list[tuple[str, int]]:
    """(bucket/key, size) of every object the location names, sorted."""
    from pyarrow import fs

    segments = key.split("/") if key else []
    glob_at = next((i for i, s in enumerate(segments) if any(c in s for c in _GLOB)), None)
    try:
        if glob_at is None:
            path = f"{bucket}/{key}".rstrip("/")
            info = s3.get_file_info(path)
            if info.type == fs.FileType.File:
                return [(info.path, info.size)]
            if info.type == fs.FileType.NotFound:
                raise ProfileError(f"{location}: no such object or prefix")
            base, pattern = path, None
        else:
            base = "/".join([bucket, *segments[:glob_at]])
            pattern = [bucket, *segments]
        found = s3.get_file_info(fs.FileSelector(base, recursive=True, allow_not_found=True))
    except ProfileError:
        raise
    except (OSError, ValueError) as exc:
        raise ProfileError(f"{location}: cannot read from S3: {_first_line(exc)}") from None
    out = []
    for info in found:
        if info.type != fs.FileType.File:
            continue
        if pattern is not None:
            parts = info.path.split("/")
            if len(parts) != len(pattern) or not all(
                fnmatchcase(p, q) for p, q in zip(parts, pattern, strict=True)
            ):
                continue
        out.append((info.path, info.size))
    return sorted(out)


def _opener(s3, path: str, uri: str) -> Callable[[], BinaryIO]:
    def opened():
        try:
            return _Ranged(s3.open_input_file(path), uri)
        except OSError as exc:
            raise ProfileError(f"{uri}: cannot read from S3: {_first_line(exc)}") from None

    return opened


class _Ranged:
    """An S3 object opened for ranged reads (each read one GET of that range), its errors one
    line naming the object."""

    def __init__(self, handle, uri: str) -> None:
        self.handle, self.uri = handle, uri

    def seek(self, offset: int) -> None:
        self.handle.seek(offset)

    def read(self, size: int) -> bytes:
        try:
            return self.handle.read(size)
        except OSError as exc:
            raise ProfileError(f"{self.uri}: cannot read from S3: {_first_line(exc)}") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()


def _download(s3, path: str, target: Path, uri: str) -> None:
    try:
        with s3.open_input_stream(path) as source, target.open("wb") as copy:
            while chunk := source.read(CHUNK):
                copy.write(chunk)
    except OSError as exc:
        raise ProfileError(f"{uri}: cannot read from S3: {_first_line(exc)}") from None


def discard(staging: str | None) -> None:
    """Removes the temporary copies of an S3 source."""
    if staging:
        shutil.rmtree(staging, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
