"""Block sampling of a line-oriented source (CSV, JSON lines) for `phasegate profile --sample`:
instead of reading every byte, K blocks of whole lines spread evenly over the files (in
proportion to their sizes) are copied into a temporary folder, where the checks of local files
run on them (pipelines.profiling.source) and Spark reads them, as it reads an S3 source's copies.

A block: seek to an offset, drop the partial line there, read whole lines up to the block's
budget (the last line finished). Blocks cut at line ends only, so a line terminator (`\\n` or
`\\r\\n`) is kept as it was and a UTF-8 character is never split. A CSV with a header: each
staged file starts with the first file's header line (Spark drops the first line of every file
it reads with `header=true`).

Refused (`sample_blocks` returns None: the whole source is read, as without a sample) when lines
are not records: `multiLine`, a `lineSep` of its own, an encoding in which a line end is not the
byte `\\n` (UTF-16/32), a JSON document that is not JSON lines; and when the source is not well
above what the sample needs (a small file is read whole).

What a sample cannot see: a bad byte outside the sampled blocks. Every statistic of such a
profile is labelled `sampled`; the row count is estimated from the bytes of the sampled lines.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

HEAD = 64 * 1024  # bytes of the first file that estimate the bytes of a row
MARGIN = 1.1  # the sample's bytes: this much more than sample_rows rows need (the head
# of a file often has shorter rows than the rest: ids grow)
WHOLE_BELOW = 2.0  # a source under this many times what the sample needs is read whole
MAX_BLOCKS = 64
MIN_BLOCK_ROWS = 50  # fewer, larger blocks for a small sample
SLACK = 16 * 1024  # read past a block's budget in the same request, to finish its last line
MORE = 64 * 1024


class Piece(NamedTuple):
    """One file of the source: as messages name it, where its sample goes (relative to the
    staging folder: `key=value` folders kept), its size, and how to open it for seek/read."""

    shown: str
    name: str
    size: int
    open: Callable[[], BinaryIO]


class BlockSample(NamedTuple):
    """The staged sample: the staged files (one per source file that got a block), the
    temporary folder, the blocks, and the lines and bytes read."""

    local: tuple[str, ...]
    staging: str
    blocks: int
    rows_staged: int
    rows_estimated: int
    bytes_read: int


def blockable(fmt: str, options: dict) -> bool:
    """Whether every line of the source is one record (see the module)."""
    if fmt not in ("csv", "json"):
        return False
    lowered = {str(k).lower(): v for k, v in options.items()}
    if _true(lowered.get("multiline")) or "linesep" in lowered:
        return False
    encoding = str(lowered.get("encoding") or lowered.get("charset") or "utf-8")
    try:
        return "\r\n".encode(encoding) == b"\r\n"
    except (LookupError, UnicodeError):
        return False  # the checks of the whole source say what is wrong with it


def has_header(fmt: str, options: dict) -> bool:
    lowered = {str(k).lower(): v for k, v in options.items()}
    return fmt == "csv" and _true(lowered.get("header", True))


def sample_blocks(
    pieces: Sequence[Piece],
    fmt: str,
    options: dict,
    sample_rows: int,
    check: Callable[[bytes, str], None],
    prefix: str = "phasegate-sample-",
) -> BlockSample | None:
    """The staged block sample of `pieces` for about `sample_rows` rows, or None when the
    source is read whole (see the module). `check(data, shown)` checks each block's bytes (as
    a local file's are checked) and raises on bad input."""
    if not pieces or not blockable(fmt, options):
        return None
    header_line = b""
    with pieces[0].open() as handle:
        head = handle.read(min(HEAD, pieces[0].size))
    body = head
    if has_header(fmt, options):
        end = head.find(b"\n")
        if end < 0:
            return None  # a header longer than the head: read whole
        header_line, body = head[: end + 1], head[end + 1 :]
    if fmt == "json" and body.lstrip()[:1] == b"[":
        return None  # a JSON array, not JSON lines
    lines = body.count(b"\n")
    if lines == 0:
        return None
    per_row = (body.rfind(b"\n") + 1) / lines
    total = sum(p.size for p in pieces) - len(header_line) * len(pieces)
    needed = sample_rows * per_row * MARGIN
    if total <= needed * WHOLE_BELOW:
        return None
    count = max(1, min(MAX_BLOCKS, sample_rows // MIN_BLOCK_ROWS))
    budget = max(1, math.ceil(needed / count))
    terminator = b"\r\n" if b"\r\n" in head else b"\n"
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        return _stage(
            pieces, header_line, count, budget, terminator, folder, check, fmt, options, total
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _stage(pieces, header_line, count, budget, terminator, folder, check, fmt, options, total):
    skip_header = has_header(fmt, options)
    starts = _starts(pieces, count, budget)
    local, rows, data_bytes, read = [], 0, 0, 0
    for index, piece in enumerate(pieces):
        offsets = starts.get(index)
        if not offsets:
            continue
        target = folder / piece.name
        target.parent.mkdir(parents=True, exist_ok=True)
        covered = 0  # the blocks of one file never overlap: the next starts where one ended
        with piece.open() as handle, target.open("wb") as out:
            out.write(header_line)
            for start in offsets:
                start = max(start, covered)
                if start >= piece.size:
                    break
                block, begin, end, taken = _read_block(
                    handle, piece.size, start, budget, skip_header, terminator
                )
                read += taken
                covered = end
                if not block:
                    continue
                check(block, f"{piece.shown} (the sampled block from byte {begin:,})")
                out.write(block)
                rows += block.count(b"\n")
                data_bytes += len(block)
        local.append(str(target))
    if rows == 0:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    estimated = round(total / (data_bytes / rows))
    return BlockSample(tuple(local), str(folder), count, rows, estimated, read)


def _starts(pieces: Sequence[Piece], count: int, budget: int) -> dict[int, list[int]]:
    """{piece index: block offsets}: `count` offsets evenly spaced over all the files' bytes,
    as if the files were one, the first at the start and the last a budget before the end (the
    newest rows of an appended file are in its tail: freshness)."""
    total = sum(p.size for p in pieces)
    stride = max(0, total - budget) / max(1, count - 1)
    out: dict[int, list[int]] = {}
    index, before = 0, 0  # the piece the offset falls in, and the bytes of the pieces before it
    for j in range(count):
        at = int(j * stride)
        while at >= before + pieces[index].size:
            before += pieces[index].size
            index += 1
        out.setdefault(index, []).append(at - before)
    return out


def _read_block(
    handle: BinaryIO, size: int, start: int, budget: int, skip_header: bool, terminator: bytes
) -> tuple[bytes, int, int, int]:
    """(whole lines, the offset of the first, the offset after the last, bytes read): the
    lines from the first line start at or after `start`, up to `budget` bytes, the last line
    finished. At the start of a file with a header, the header line is dropped."""
    # from the byte before `start`: a line that starts exactly at `start` is kept
    at = max(0, start - 1)
    handle.seek(at)
    data = handle.read(min(size - at, budget + SLACK + 1))
    read = len(data)

    def line_end(after: int) -> int:
        """The first line end at or after `after`, reading on until one comes or the file
        ends (-1)."""
        nonlocal data, read
        found = data.find(b"\n", after)
        while found < 0 and at + len(data) < size:
            more = handle.read(MORE)
            read += len(more)
            data += more
            found = data.find(b"\n", after)
        return found

    begin = 0
    if start > 0 or skip_header:  # drop the partial line before `start`, or the header
        first = line_end(0)
        if first < 0:
            return b"", size, size, read
        begin = first + 1
    # the line end at or after the budget's last byte
    cut = line_end(begin + budget - 1)
    if cut < 0:  # the file's last line, without a line end of its own
        block = data[begin:]
        end = at + len(data)
        if block and not block.endswith(b"\n"):
            block += terminator
    else:
        block = data[begin : cut + 1]
        end = at + cut + 1
    return bytes(block), at + begin, end, read


def _true(value) -> bool:
    return value is True or str(value).strip().lower() == "true"
