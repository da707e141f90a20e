"""The solution's Iceberg catalog as the generated code loads it, and its audit branches.

The catalog is `load_catalog(<name>)`: the name is the solution's (agent-prompts/context.yaml,
`tech_stack.storage.catalog_name`, default the solution's slug); its settings come from the
repository's `.pyiceberg.yaml` (else a SQLite catalog under .phasegate/lake/), overridden by
PyIceberg's own configuration (PYICEBERG_HOME's or ~/.pyiceberg.yaml, PYICEBERG_CATALOG__<NAME>__*
variables). The generated job (templates/pipeline/job.py.j2, `catalog_properties`) applies the
same rules; tests/test_lake.py holds both to the same answers.

Audit branches: each job run writes to `audit-<run date>-<correlation id>` and publishing to main
removes the branch; a branch left is a run not published (a failed check is recorded as the table
property `phasegate.audit-failed.<branch>`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.errors import LakeError

if TYPE_CHECKING:
    from pipelines.spec import PipelineSpec

CONTEXT = "agent-prompts/context.yaml"
CONFIG_FILE = ".pyiceberg.yaml"
AUDIT_PREFIX = "audit-"
FAILED_PROPERTY = "phasegate.audit-failed."
_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}\Z")
_AUDIT = re.compile(r"audit-(\d{4}-\d{2}-\d{2})-(.+)\Z")


def catalog_name(root: Path) -> str:
    """The solution's catalog name: context.yaml's tech_stack.storage.catalog_name, else the
    slug of its `project`, else of the repository's folder."""
    import yaml

    path = root / CONTEXT
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LakeError(f"{path}: not valid YAML ({first})") from None
    document = document if isinstance(document, dict) else {}
    stack = document.get("tech_stack")
    storage = stack.get("storage") if isinstance(stack, dict) else None
    given = storage.get("catalog_name") if isinstance(storage, dict) else None
    if given is not None:
        if not isinstance(given, str) or not _NAME.match(given):
            raise LakeError(
                f"{path}: tech_stack.storage.catalog_name: {given!r} is not a catalog name "
                "(a-z, 0-9 and -, starting with a letter)"
            )
        return given
    return default_catalog_name(str(document.get("project") or root.name))


def default_catalog_name(project: str) -> str:
    """The slug of a solution's name, as a catalog name (a letter first)."""
    from phases.model import slugify

    slug = slugify(project)[:63].strip("-") or "lake"
    return slug if slug[0].isalpha() else f"lake-{slug}"[:63].strip("-")


def env_prefix(name: str) -> str:
    """PyIceberg's environment variables of catalog `name` (its `-` is `_` in the variable)."""
    return f"PYICEBERG_CATALOG__{name.upper().replace('-', '_')}__"


def catalog_properties(root: Path, name: str | None = None) -> dict[str, str]:
    """The catalog's settings, resolved as the generated job resolves them (relative paths are
    the repository's)."""
    name = name or catalog_name(root)
    lake = root / ".phasegate" / "lake"
    properties = _section(root / CONFIG_FILE, name) or {
        "type": "sql",
        "uri": f"sqlite:///{lake / 'catalog.db'}",
        "warehouse": (lake / "warehouse").as_uri(),
    }
    for folder in (os.environ.get("PYICEBERG_HOME"), os.path.expanduser("~")):
        if folder and (Path(folder) / CONFIG_FILE).is_file():
            properties.update(_section(Path(folder) / CONFIG_FILE, name))
            break
    prefix = env_prefix(name).lower()
    for variable, value in os.environ.items():
        if variable.lower().startswith(prefix):
            key = variable.lower()[len(prefix) :].replace("__", ".").replace("_", "-")
            properties[key] = value
    uri, where = properties.get("uri", ""), properties.get("warehouse", "")
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        properties["uri"] = f"sqlite:///{root / uri.removeprefix('sqlite:///')}"
    if (
        where
        and "://" not in where
        and not where.startswith("file:")
        and not Path(where).is_absolute()
    ):
        properties["warehouse"] = (root / where).as_uri()
    return properties


def _section(path: Path, name: str) -> dict[str, str]:
    if not path.is_file():
        return {}
    import strictyaml

    try:
        data = strictyaml.load(path.read_text(encoding="utf-8")).data or {}
    except strictyaml.YAMLError as exc:
        raise LakeError(f"{path}: not valid YAML ({str(exc).strip().splitlines()[0]})") from None
    catalogs = data.get("catalog") if isinstance(data, dict) else None
    if not isinstance(catalogs, dict):
        return {}
    found = {str(k).lower(): v for k, v in catalogs.items()}.get(name)
    if not isinstance(found, dict):
        return {}
    return {str(k).lower(): str(v) for k, v in found.items()}


def open_catalog(root: Path, name: str | None = None):
    """`load_catalog(name)` with the solution's settings."""
    from pyiceberg.catalog import load_catalog

    name = name or catalog_name(root)
    properties = catalog_properties(root, name)
    if properties.get("uri", "").startswith("sqlite:///"):  # a local catalog: its folder
        Path(properties["uri"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        return load_catalog(name, **properties)
    except Exception as exc:  # a bad setting: one line naming the catalog, no password
        raise LakeError(f"catalog {name}: cannot open it: {_describe(exc, properties)}") from None


def _describe(exc: BaseException, properties: dict[str, str]) -> str:
    from phases.text import mask_secrets, uri_secrets

    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = f"{type(exc).__name__}: {lines[0][:300]}" if lines else type(exc).__name__
    return mask_secrets(text, uri_secrets(properties.get("uri", "")))


# --- audit branches --------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditBranch:
    pipeline: str
    table: str
    name: str
    run_date: str
    correlation_id: str
    snapshot_id: int
    written_at: datetime
    rows: int | None
    failed: str | None  # why its check failed, when that was recorded

    @property
    def status(self) -> str:
        return "failed" if self.failed is not None else "unpublished"

    def as_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "table": self.table,
            "branch": self.name,
            "run_date": self.run_date,
            "correlation_id": self.correlation_id,
            "snapshot_id": self.snapshot_id,
            "written_at": self.written_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rows": self.rows,
            "status": self.status,
            "failed": self.failed,
        }


def branches_document(catalog: str, branches: list[AuditBranch]) -> dict[str, Any]:
    """`phasegate branches --json` (docs/json.md, docs/schemas/branches.schema.json)."""
    return {
        "document": "branches",
        "version": 1,
        "catalog": catalog,
        "branches": [b.as_dict() for b in branches],
    }


def audit_branches(root: Path, specs: list[PipelineSpec], lake=None) -> list[AuditBranch]:
    """Every audit branch of the specs' tables, oldest first (a table not created yet has none)."""
    from pyiceberg.exceptions import NoSuchNamespaceError, NoSuchTableError
    from pyiceberg.table.refs import SnapshotRefType

    lake = lake or open_catalog(root)
    found = []
    for spec in specs:
        try:
            table = lake.load_table(spec.target.identifier)
        except (NoSuchTableError, NoSuchNamespaceError):
            continue
        except Exception as exc:  # the catalog is unreachable, or its table unreadable
            raise LakeError(
                f"catalog {lake.name}: cannot read {spec.target.identifier}: "
                f"{_describe(exc, dict(lake.properties))}"
            ) from None
        properties = table.metadata.properties
        for name, ref in table.refs().items():
            match = _AUDIT.match(name)
            if not match or ref.snapshot_ref_type != SnapshotRefType.BRANCH:
                continue
            snapshot = table.snapshot_by_id(ref.snapshot_id)
            summary = snapshot.summary if snapshot is not None else None
            added = summary.get("added-records") if summary is not None else None
            found.append(
                AuditBranch(
                    pipeline=spec.name,
                    table=spec.target.identifier,
                    name=name,
                    run_date=match.group(1),
                    correlation_id=match.group(2),
                    snapshot_id=ref.snapshot_id,
                    written_at=datetime.fromtimestamp(
                        (snapshot.timestamp_ms if snapshot else 0) / 1000, UTC
                    ),
                    rows=int(added) if added is not None else None,
                    failed=properties.get(FAILED_PROPERTY + name),
                )
            )
    return sorted(found, key=lambda b: (b.written_at, b.pipeline, b.name))


def drop_branches(
    root: Path,
    specs: list[PipelineSpec],
    names: list[str] | None = None,
    *,
    failed: bool = False,
    older_than: float | None = None,
    now: datetime | None = None,
    lake=None,
) -> list[AuditBranch]:
    """Drops the named audit branches, or those whose check failed, or those written more than
    `older_than` days ago (with both: failed and older); returns what it dropped. An unknown name
    drops nothing and says which branches there are."""
    lake = lake or open_catalog(root)
    branches = audit_branches(root, specs, lake)
    if names:
        known = {b.name for b in branches}
        unknown = [n for n in names if n not in known]
        if unknown:
            listed = ", ".join(sorted(known)) if known else "there are none"
            raise LakeError(f"no audit branch {', '.join(unknown)}; the audit branches: {listed}")
        chosen = [b for b in branches if b.name in set(names)]
    elif failed or older_than is not None:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than or 0)
        chosen = [
            b
            for b in branches
            if (not failed or b.failed is not None)
            and (older_than is None or b.written_at < cutoff)
        ]
    else:
        raise LakeError("name the branches to drop, or use --failed / --older-than DAYS")
    from pyiceberg.table.update.snapshot import ManageSnapshots

    for branch in chosen:
        table = lake.load_table(branch.table)
        with table.transaction() as tx:
            ManageSnapshots(tx).remove_branch(branch.name).commit()
            if FAILED_PROPERTY + branch.name in table.metadata.properties:
                tx.remove_properties(FAILED_PROPERTY + branch.name)
    return chosen
