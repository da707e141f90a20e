"""Drift between a source's stored profile and a new one: columns added, removed or retyped (a
schema change), null rates that moved, numeric and time distributions that shifted (population
stability index over the previous profile's histogram bins), and categories never seen before.
Pure: two profiles in, findings out.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

NULL_SHIFT = 0.05  # absolute change of the null rate
PSI_ALERT = 0.2  # the usual "significant shift" of the population stability index
_EPSILON = 1e-4


def drift(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Findings, each {kind, column, detail}; kinds: added, removed, retyped, nulls,
    distribution, categories."""
    old = {c["name"]: c for c in before["columns"]}
    new = {c["name"]: c for c in after["columns"]}
    found: list[dict[str, Any]] = []
    for name in new.keys() - old.keys():
        found.append(
            {"kind": "added", "column": name, "detail": f"new column ({new[name]['type']})"}
        )
    for name in old.keys() - new.keys():
        found.append({"kind": "removed", "column": name, "detail": "the column is gone"})
    rows_before, rows_after = before["rows_profiled"] or 1, after["rows_profiled"] or 1
    for name in sorted(old.keys() & new.keys()):
        a, b = old[name], new[name]
        if a["type"] != b["type"]:
            found.append(
                {"kind": "retyped", "column": name, "detail": f"{a['type']} → {b['type']}"}
            )
            continue
        rate_a, rate_b = a["nulls"] / rows_before, b["nulls"] / rows_after
        if abs(rate_b - rate_a) > NULL_SHIFT:
            found.append(
                {
                    "kind": "nulls",
                    "column": name,
                    "detail": f"null rate {100 * rate_a:.1f} % → {100 * rate_b:.1f} %",
                }
            )
        index = psi(a.get("histogram"), b.get("histogram"))
        if index is not None and index > PSI_ALERT:
            found.append(
                {
                    "kind": "distribution",
                    "column": name,
                    "detail": f"population stability index {index:.2f} (> {PSI_ALERT})",
                    "psi": round(index, 4),
                }
            )
        if a.get("categories") and b.get("categories") is not None and not b.get("withheld"):
            unseen = sorted(set(b["categories"]) - set(a["categories"]))
            if unseen:
                shown = ", ".join(unseen[:5]) + (" …" if len(unseen) > 5 else "")
                found.append(
                    {
                        "kind": "categories",
                        "column": name,
                        "detail": f"{len(unseen)} new value(s): {shown}",
                    }
                )
    order = ("removed", "retyped", "added", "nulls", "distribution", "categories")
    found.sort(key=lambda f: (order.index(f["kind"]), f["column"]))
    return found


def psi(before: dict | None, after: dict | None) -> float | None:
    """The population stability index of `after` against `before`'s bins (the new histogram's
    counts spread evenly over its own bins, then summed into the old bins; values outside the
    old range count in its first or last bin). None without two histograms."""
    if not before or not after or not before.get("counts") or not after.get("counts"):
        return None
    edges_a, counts_a = _numbers(before["edges"]), list(before["counts"])
    edges_b, counts_b = _numbers(after["edges"]), after["counts"]
    if edges_a is None or edges_b is None:
        return None
    # a bin of no width (edges rounded to whole days) joins the bin before it
    n = 0
    while n < len(counts_a) and len(counts_a) > 1:
        if edges_a[n + 1] > edges_a[n]:
            n += 1
        elif n == 0:
            first = counts_a.pop(0)
            counts_a[0] += first
            edges_a.pop(1)
        else:
            counts_a[n - 1] += counts_a.pop(n)
            edges_a.pop(n + 1)
    moved = [0.0] * len(counts_a)
    for (lo, hi), count in zip(pairwise(edges_b), counts_b, strict=False):
        if not count:
            continue
        if hi <= lo:
            moved[_bin(edges_a, lo)] += count
            continue
        for n in range(len(counts_a)):
            a_lo = -math.inf if n == 0 else edges_a[n]
            a_hi = math.inf if n == len(counts_a) - 1 else edges_a[n + 1]
            overlap = max(0.0, min(hi, a_hi) - max(lo, a_lo))
            moved[n] += count * overlap / (hi - lo)
    total_a, total_b = sum(counts_a), sum(moved)
    if not total_a or not total_b:
        return None
    index = 0.0
    for expected, actual in zip(counts_a, moved, strict=False):
        p = max(expected / total_a, _EPSILON)
        q = max(actual / total_b, _EPSILON)
        index += (q - p) * math.log(q / p)
    return index


def _bin(edges: list[float], x: float) -> int:
    for n in range(len(edges) - 2, -1, -1):
        if x >= edges[n]:
            return n
    return 0


def _numbers(edges: list) -> list[float] | None:
    from datetime import date, datetime

    out = []
    for edge in edges:
        if isinstance(edge, int | float):
            out.append(float(edge))
            continue
        try:
            if len(str(edge)) == 10:
                out.append(float(date.fromisoformat(edge).toordinal()))
            else:
                out.append(datetime.fromisoformat(edge).timestamp())
        except ValueError:
            return None
    return out
