"""Safe generation: render files, compare with what was generated before, apply without losing edits.

The anchor is copier's update: the manifest `.phasegate/generated.json` lists every file
phasegate generated, and `.phasegate/generated/` keeps the exact text it wrote last time (the
merge base). A run classifies each file:

- new: not there yet → written
- unchanged: the generator produces what it produced last time → left alone (user edits stay)
- updated: the generator changed and the user did not touch the file → rewritten
- merged: both changed, without overlap → three-way merged (`git merge-file`), user edits kept
- conflict: both changed the same lines → conflict markers written, the file listed
- deleted: the user deleted a generated file → it stays deleted
- kept: a file phasegate did not generate is in the way → left alone, reported

Everything is rendered and planned before the first byte is written; a dry run stops there.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipelines.errors import GenerationError

MANIFEST = Path(".phasegate") / "generated.json"
BASES = Path(".phasegate") / "generated"
STATES = ("new", "unchanged", "updated", "merged", "conflict", "deleted", "kept")
# A staging file of `_stage` (tempfile.mkstemp: prefix, 8 random characters, suffix). A run
# killed between staging and moving leaves them behind; the next run removes them.
_STAGING = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp\Z")


def is_staging_file(name: str) -> bool:
    """Whether a file name is one of generation's staging files (never a user's file)."""
    return _STAGING.match(PurePosixPath(name).name) is not None


@dataclass(frozen=True)
class RenderedFile:
    path: str  # relative, forward slashes
    content: str
    template: str = ""  # which template (and version) produced it, for the manifest


@dataclass(frozen=True)
class PlannedFile:
    path: str
    state: str
    content: str | None  # what the file will hold after apply (None: not written)
    diff: str = ""


@dataclass(frozen=True)
class Plan:
    files: tuple[PlannedFile, ...]

    def count(self, state: str) -> int:
        return sum(1 for f in self.files if f.state == state)

    @property
    def writes(self) -> tuple[PlannedFile, ...]:
        return tuple(f for f in self.files if f.state in ("new", "updated", "merged", "conflict"))

    def summary(self) -> str:
        return ", ".join(f"{self.count(s)} {s}" for s in STATES if self.count(s))


def generation_document(
    what: str,
    plan_: Plan,
    *,
    dry_run: bool,
    ticked: Iterable[str] = (),
    drafted: Iterable[str] = (),
) -> dict:
    """`phasegate generate … --json` (docs/json.md): every file with its state and, in a dry
    run, the diff of each file that would be written."""
    from deliverables.json_documents import document_header

    return {
        **document_header("generation"),
        "what": what,
        "dry_run": dry_run,
        "summary": plan_.summary(),
        "files": [
            {"path": f.path, "state": f.state, **({"diff": f.diff} if dry_run and f.diff else {})}
            for f in plan_.files
        ],
        "ticked": list(ticked),
        "drafted": list(drafted),
    }


def plan(root: Path, rendered: Iterable[RenderedFile]) -> Plan:
    """Classifies every rendered file against the manifest and the work tree. Writes nothing."""
    root = Path(root)
    manifest = _read_manifest(root)
    planned = []
    seen: set[str] = set()
    for item in rendered:
        path = _safe_path(item.path)
        if path in seen:
            raise GenerationError(f"two templates render {path}")
        seen.add(path)
        target = _inside(root, path)
        on_disk = _read(target)
        entry = manifest.get(path)
        if entry is None:
            if on_disk is None:
                planned.append(
                    PlannedFile(path, "new", item.content, _diff(path, "", item.content))
                )
            elif on_disk == item.content:
                planned.append(PlannedFile(path, "unchanged", None))
            else:
                planned.append(PlannedFile(path, "kept", None))
            continue
        base = _read(root / BASES / path)
        if base is None:  # the base copy is gone: treat the file as the user's
            base = on_disk if on_disk is not None else ""
        if on_disk is None:
            planned.append(PlannedFile(path, "deleted", None))
        elif item.content == base or item.content == on_disk:
            planned.append(PlannedFile(path, "unchanged", None))
        elif on_disk == base:
            planned.append(
                PlannedFile(path, "updated", item.content, _diff(path, on_disk, item.content))
            )
        else:
            merged, clean = _merge(on_disk, base, item.content)
            state = "merged" if clean else "conflict"
            planned.append(PlannedFile(path, state, merged, _diff(path, on_disk, merged)))
    return Plan(tuple(planned))


def apply(root: Path, plan_: Plan, rendered: Iterable[RenderedFile]) -> None:
    """Writes the planned files and the new merge bases, each through a temporary file that is
    moved into place only once everything is staged."""
    root = Path(root)
    by_path = {_safe_path(r.path): r for r in rendered}
    manifest = _read_manifest(root)
    clean_staging(root, [*by_path, *(str(BASES / p) for p in by_path), str(MANIFEST)])
    staged: list[tuple[Path, Path]] = []
    try:
        for planned in plan_.files:
            if planned.content is not None:
                staged.append(_stage(_inside(root, planned.path), planned.content))
            if planned.state in ("kept", "deleted"):
                continue  # not ours, or deleted on purpose: the manifest entry stays as it was
            produced = by_path[planned.path]
            if _read(root / BASES / planned.path) != produced.content:
                staged.append(_stage(_inside(root, BASES / planned.path), produced.content))
            manifest[planned.path] = {
                "sha256": hashlib.sha256(produced.content.encode()).hexdigest(),
                "template": produced.template,
            }
        text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
        if text != _read(root / MANIFEST):
            staged.append(_stage(root / MANIFEST, text))
    except (OSError, UnicodeEncodeError, GenerationError) as exc:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        if isinstance(exc, GenerationError):
            raise
        if isinstance(exc, UnicodeEncodeError):
            raise GenerationError(f"cannot write generated text: {exc.reason}") from None
        raise GenerationError(f"cannot write {exc.filename}: {exc.strerror}") from None
    for temp, final in staged:
        os.replace(temp, final)


def clean_staging(root: Path, paths: Iterable[str]) -> list[Path]:
    """Removes the staging files a killed run left beside `paths` (relative to `root`);
    returns what it removed."""
    removed = []
    by_folder: dict[Path, set[str]] = {}
    for path in paths:
        target = Path(root) / path
        by_folder.setdefault(target.parent, set()).add(target.name)
    for folder, names in by_folder.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # not there yet: nothing was staged in it
        for entry in entries:
            match = _STAGING.match(entry.name)
            if match and match.group("name") in names and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
    return removed


def _stage(final: Path, content: str) -> tuple[Path, Path]:
    data = content.encode("utf-8")  # before any file exists: text that cannot be written fails here
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(temp, 0o755 if content.startswith("#!") else 0o644)
    return Path(temp), final


def _merge(ours: str, base: str, theirs: str) -> tuple[str, bool]:
    """Three-way merge with `git merge-file`; returns (text, clean)."""
    from deliverables.git import GitError, merge_file

    try:
        return merge_file(ours, base, theirs, ("your version", "generated before", "generated now"))
    except GitError as exc:
        raise GenerationError(str(exc)) from None


def _diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"
        )
    )


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise GenerationError(f"cannot read {path}: {exc}") from None


def _read_manifest(root: Path) -> dict[str, dict]:
    text = _read(root / MANIFEST)
    if text is None:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GenerationError(
            f"{root / MANIFEST}:{exc.lineno}: not valid JSON ({exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise GenerationError(f"{root / MANIFEST}: expected a JSON object")
    return data


def _inside(root: Path, path: str | Path) -> Path:
    """The file `path` names, when it stays inside the repository once links are followed (a
    symlinked sql/ or agent-prompts/ would otherwise carry the write elsewhere)."""
    from deliverables.paths import OutsideRepo, inside_repo

    try:
        inside_repo(root, path, what="generated file")
    except OutsideRepo as exc:
        raise GenerationError(str(exc)) from None
    return Path(root) / path


def _safe_path(path: str) -> str:
    pure = PurePosixPath(path)
    if (
        pure.is_absolute()
        or ".." in pure.parts
        or not pure.parts
        or str(pure).startswith(".phasegate")
    ):
        raise GenerationError(
            f"refusing to generate {path!r}: outside the repository or inside .phasegate"
        )
    return str(pure)
