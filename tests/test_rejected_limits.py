"""`max_rejected`: each limit of a spec against a run's rejected counts (pipelines.rejects)."""

from __future__ import annotations

import pytest

from pipelines import load_spec
from pipelines.rejects import check_rejected
from tests.test_pipeline_spec import BASE, _write


@pytest.mark.parametrize(
    ("quality", "counts", "rows", "read", "expected"),
    [
        ("", {}, 0, 100, [("max_rejected", "passed", 0, 0)]),
        ("", {"qty": 1}, 1, 100, [("max_rejected", "failed", 1, 0)]),
        (
            "quality:\n  - {rule: max_rejected, max: 2}\n",
            {"qty": 2, "(record)": 1},
            3,
            100,
            [("max_rejected", "failed", 3, 2)],
        ),
        (
            "quality:\n  - {rule: max_rejected, max_percent: 5}\n",
            {"qty": 5},
            5,
            100,
            [("max_rejected", "passed", 5, 5)],
        ),
        (
            "quality:\n  - {rule: max_rejected, max_percent: 5}\n",
            {"qty": 6},
            6,
            100,
            [("max_rejected", "failed", 6, 5)],
        ),
        (  # a percent of a small batch rounds down: 1% of 50 rows allows none
            "quality:\n  - {rule: max_rejected, max_percent: 1}\n",
            {"qty": 1},
            1,
            50,
            [("max_rejected", "failed", 1, 0)],
        ),
        (
            "quality:\n  - {rule: max_rejected, max: 0, severity: warning}\n",
            {"qty": 1},
            1,
            10,
            [("max_rejected", "warning", 1, 0)],
        ),
        (  # a row counts once in all, under each of its columns
            "quality:\n  - {rule: max_rejected, max: 10}\n"
            "  - {rule: max_rejected, column: qty, max: 1}\n",
            {"qty": 2, "ordered_at": 2},
            2,
            10,
            [("max_rejected", "passed", 2, 10), ("max_rejected_qty", "failed", 2, 1)],
        ),
    ],
)
def test_each_limit_is_one_check(tmp_path, quality, counts, rows, read, expected):
    spec = load_spec(_write(tmp_path, "orders", BASE + quality), tmp_path)
    checks = check_rejected(spec, counts, rows, read)
    assert [(c.name, c.outcome, c.rejected, c.allowed) for c in checks] == expected


def test_the_detail_names_the_counts_and_the_limit(tmp_path):
    spec = load_spec(_write(tmp_path, "orders", BASE), tmp_path)
    (check,) = check_rejected(spec, {"qty": 2, "(record)": 1}, 3, 40)
    assert check.detail({"qty": 2, "(record)": 1}) == (
        "3 of 40 rows rejected in all, at most 0 allowed: (record) 1, qty 2"
    )
