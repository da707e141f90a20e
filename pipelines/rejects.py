"""The `max_rejected` rule: how many rows a run may keep out of its batch.

The generated job rejects a row whose text does not parse as the spec's types (Spark's
PERMISSIVE mode would make those values null) or that has a null in a NOT NULL column; it writes
those rows to `<table>_rejected` and returns how many it rejected per column. Each limit of the
spec (`spec.max_rejected`: the pipeline-wide default is 0) becomes one check, evaluated here for
the full tier and written into the GX suite's meta (`suite_meta`) for the generated quality
runner, which applies the same comparison to the batch the job returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.spec import PipelineSpec, QualityRule


@dataclass(frozen=True)
class RejectedCheck:
    """One limit against one run's counts."""

    rule: QualityRule
    rejected: int
    allowed: int
    rows_read: int

    @property
    def name(self) -> str:
        return self.rule.id

    @property
    def passed(self) -> bool:
        return self.rejected <= self.allowed

    @property
    def outcome(self) -> str:
        if self.passed:
            return "passed"
        return "failed" if self.rule.severity == "error" else "warning"

    def detail(self, counts: dict[str, int]) -> str:
        where = f"in {self.rule.column}" if self.rule.column else "in all"
        text = f"{self.rejected} of {self.rows_read} rows rejected {where}, at most {self.allowed} allowed"
        if self.rule.max_percent is not None:
            text += f" ({self.rule.max_percent:g}%)"
        shown = {c: n for c, n in counts.items() if not self.rule.column or c == self.rule.column}
        if shown:
            text += ": " + ", ".join(f"{c} {n}" for c, n in sorted(shown.items()))
        return text


def check_rejected(
    spec: PipelineSpec, counts: dict[str, int], rejected_rows: int, rows_read: int
) -> list[RejectedCheck]:
    """Every `max_rejected` limit of `spec` against one run: `counts` per column (RECORD for
    records that do not parse), `rejected_rows` in all, out of `rows_read`."""
    checks = []
    for rule in spec.max_rejected:
        found = counts.get(rule.column, 0) if rule.column else rejected_rows
        checks.append(RejectedCheck(rule, found, allowed(rule, rows_read), rows_read))
    return checks


def allowed(rule: QualityRule, rows_read: int) -> int:
    """The most rows `rule` lets a run of `rows_read` rows reject."""
    if rule.max_percent is not None:
        return int(rows_read * rule.max_percent / 100)
    return int(rule.max or 0)


def suite_meta(spec: PipelineSpec) -> list[dict]:
    """The limits as the GX suite's `meta.max_rejected`: what the quality runner compares with
    the `rejected` / `rejected_rows` of the batch the job returns (column None: all rows)."""
    return [
        {
            "rule": rule.id,
            "column": rule.column,
            "max": rule.max,
            "max_percent": rule.max_percent,
            "severity": rule.severity,
        }
        for rule in spec.max_rejected
    ]
