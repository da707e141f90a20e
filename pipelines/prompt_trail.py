"""The prompt audit trail of process 4.2: compose, log, and record the outcome of prompts.

- `compose`: the explicit-context prompt ("Option 2") for a task file, naming its schema,
  standards and template, from the task's DEPENDENCIES section.
- `log_prompt`: `agent-prompts/executed_prompts/YYYY-MM-DD_<feature>_vN.md` in the document's
  format, plus an entry in `prompt_log.yaml` with the commit it started from.
- `record_outcome`: fills OUTCOME from git: files created or modified since that commit, with
  line counts, and the status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from deliverables import git
from phases.text import check_text
from pipelines.errors import GenerationError
from pipelines.generate import is_staging_file

TASKS = Path("agent-prompts") / "tasks"
EXECUTED = Path("agent-prompts") / "executed_prompts"
LOG = EXECUTED / "prompt_log.yaml"
STATUSES = ("SUCCESS", "PARTIAL", "FAILED")


class PromptError(GenerationError):
    """A task or prompt record is missing or malformed."""


@dataclass(frozen=True)
class Prompt:
    task: str  # repo-relative path of the task file
    feature: str
    text: str
    context_files: tuple[str, ...]


def find_task(root: Path, name: str) -> Path:
    """`ingestion/pos_orders`, `pos_orders`, or a path to the task file."""
    root = Path(root)
    candidates = [root / name, root / TASKS / name, root / TASKS / f"{name}.md"]
    candidates += sorted((root / TASKS).rglob(f"{Path(name).name.removesuffix('.md')}.md"))
    for candidate in candidates:
        if candidate.is_file() and candidate.resolve().is_relative_to((root / TASKS).resolve()):
            return candidate
    raise PromptError(
        f"no task '{name}' under {TASKS}/ (task files are markdown, e.g. {TASKS}/ingestion/orders.md)"
    )


def compose(root: Path, name: str) -> Prompt:
    task = find_task(root, name)
    text = task.read_text(encoding="utf-8")
    title = re.search(r"(?m)^## TASK:\s*(.+)$", text)
    deps = dict(re.findall(r"(?m)^- (Schema|Standards|Template):\s*(.+)$", text))
    relative = task.relative_to(root).as_posix()
    feature = task.stem
    what = title.group(1).strip() if title else feature
    sentence = f"Create {what} as defined in {relative}."
    context = [relative]
    if "Schema" in deps:
        sentence += f" Use {deps['Schema'].strip()}"
        context.append(_agent_path(deps["Schema"].strip()))
    standards = [s.strip() for s in deps.get("Standards", "").split(",") if s.strip()]
    if standards:
        sentence += (" and follow " if "Schema" in deps else " Follow ") + " and ".join(standards)
        context.extend(_agent_path(s) for s in standards)
    if "Schema" in deps or standards:
        sentence += "."
    if "Template" in deps:
        sentence += f" Start from {deps['Template'].strip()}."
        context.append(_agent_path(deps["Template"].strip()))
    return Prompt(relative, feature, sentence, tuple(context))


def log_prompt(
    root: Path,
    prompt: Prompt,
    *,
    developer: str,
    model: str,
    now: datetime,
    text: str | None = None,
) -> Path:
    """Writes the executed-prompt record and appends it to prompt_log.yaml; returns its path."""
    import yaml

    root = Path(root)
    check_text(developer, "the developer", error=PromptError)
    check_text(model, "the model", error=PromptError)
    check_text(text or "", "the prompt", multiline=True, error=PromptError)
    folder = _inside(root, EXECUTED)
    folder.mkdir(parents=True, exist_ok=True)
    version = 1 + max(
        (
            int(m.group(1))
            for p in folder.glob(f"*_{prompt.feature}_v*.md")
            if (m := re.search(r"_v([0-9]+)\.md\Z", p.name))
        ),
        default=0,
    )
    record = folder / f"{now:%Y-%m-%d}_{prompt.feature}_v{version}.md"
    head = git.head(root)[0] or ""
    body = "\n".join(
        [
            f"# {(EXECUTED / record.name).as_posix()}",
            "## Metadata",
            f"- Timestamp: {now:%Y-%m-%d %H:%M:%S}",
            f"- Developer: {developer}",
            f"- Claude Model: {model}",
            f"- Task Reference: {prompt.task.removeprefix('agent-prompts/')}",
            f"- Git commit: {head or '(none yet)'}",
            "",
            "## PROMPT",
            (text or prompt.text).strip(),
            "",
            "## CONTEXT FILES",
            *[f"- {path}" for path in prompt.context_files],
            "",
            "## OUTCOME",
            "- Status: PENDING (run `phasegate prompt outcome` when the work is done)",
            "",
            "## FOLLOW-UP PROMPTS",
            "",
        ]
    )
    record.write_text(body, encoding="utf-8")
    log_path = _inside(root, LOG)
    header, entries = read_log(log_path)
    entries.append(
        {
            "file": record.name,
            "timestamp": f"{now:%Y-%m-%d %H:%M:%S}",
            "developer": developer,
            "model": model,
            "task": prompt.task.removeprefix("agent-prompts/"),
            "commit": head,
            "status": "PENDING",
        }
    )
    log_path.write_text(
        header + yaml.safe_dump({"prompts": entries}, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return record


def record_outcome(
    root: Path, record_name: str | None = None, *, status: str = "SUCCESS", notes: str = ""
) -> tuple[Path, list[str]]:
    """Fills OUTCOME of a record (the newest when none is named) from git; returns its lines."""
    import yaml

    if status not in STATUSES:
        raise PromptError(f"status must be one of: {', '.join(STATUSES)}")
    check_text(notes, "the notes", multiline=True, error=PromptError)
    root = Path(root)
    header, entries = read_log(root / LOG)
    if not entries:
        raise PromptError(f"{LOG} has no prompts yet; log one with `phasegate prompt log TASK`")
    entry = (
        entries[-1]
        if record_name is None
        else next((e for e in entries if e.get("file") == record_name), None)
    )
    if entry is None:
        raise PromptError(f"no prompt '{record_name}' in {LOG}")
    record = _inside(root, EXECUTED / str(entry["file"]))
    lines = [
        *changes_since(root, entry.get("commit") or None, ignore=(record, root / LOG)),
        f"- Status: {status}",
    ]
    if notes:
        lines.append(f"- Notes: {notes}")
    text = record.read_text(encoding="utf-8")
    text = re.sub(
        r"(?s)## OUTCOME\n.*?(?=\n## FOLLOW-UP PROMPTS)",
        "## OUTCOME\n" + "\n".join(lines) + "\n",
        text,
    )
    record.write_text(text, encoding="utf-8")
    entry["status"] = status
    _inside(root, LOG).write_text(
        header + yaml.safe_dump({"prompts": entries}, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    return record, lines


def _inside(root: Path, path: Path) -> Path:
    """`root / path`, refused when it (or a symlinked folder on the way) leaves the repository."""
    from deliverables.paths import OutsideRepo, inside_repo

    try:
        return inside_repo(root, path, what="prompt file")
    except OutsideRepo as exc:
        raise PromptError(str(exc)) from None


def changes_since(root: Path, commit: str | None, ignore: tuple[Path, ...] = ()) -> list[str]:
    """`- Generated: path (N lines)` / `- Modified: path (+a -d)` for the work tree against `commit`."""
    skip = {p.resolve() for p in ignore}
    out = []
    try:
        changed = git.changes_since(root, commit) if commit else []
        new_files = git.untracked(root)
    except git.GitError as exc:
        raise PromptError(str(exc)) from None
    for added, deleted, path in changed:
        if (root / path).resolve() in skip or path.startswith(".phasegate/"):
            continue
        if not git.exists_in(root, commit, path):
            out.append(f"- Generated: {path} ({added} lines)")
        else:
            out.append(f"- Modified: {path} (+{added} -{deleted})")
    for path in new_files:
        if (root / path).resolve() in skip or path.startswith(".phasegate/"):
            continue
        if is_staging_file(path):  # a killed generation's leftover, not anyone's file
            continue
        try:
            count = len((root / path).read_text(encoding="utf-8").splitlines())
        except (UnicodeDecodeError, OSError):
            count = 0
        out.append(f"- Generated: {path} ({count} lines)")
    return out or ["- No files changed since the prompt was logged"]


def read_log(path: Path) -> tuple[str, list[dict]]:
    import yaml

    if not path.exists():
        return "# Audit trail of executed prompts (process 4.2)\n", []
    text = path.read_text(encoding="utf-8")
    header = "".join(line for line in text.splitlines(True) if line.startswith("#"))
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise PromptError(f"{path}: not valid YAML ({exc})") from None
    entries = data.get("prompts") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise PromptError(f"{path}: expected `prompts:` with a list")
    return header, entries


def _agent_path(path: str) -> str:
    """Task dependencies name paths relative to agent-prompts/ (the document's convention)."""
    return (
        path
        if path.startswith(("pipelines/", "agent-prompts/", "src/", "docs/"))
        else f"agent-prompts/{path}"
    )
