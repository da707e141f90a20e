"""Baselines interleaved with the measured runs: A, B, A, B…, medians of both, a ratio.

A single run of each, the baseline first on a cold cache, reads noise as a result on a shared VM
(timings here drift by +-30 % within minutes). Alternating puts both sides under the same drift;
one discarded warm-up of each takes the cold caches out; the medians ignore a stray outlier.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Pair:
    """Times (seconds) of the baseline and of ours, one per round, in the order they ran."""

    baseline: list[float] = field(default_factory=list)
    ours: list[float] = field(default_factory=list)
    extra: list[object] = field(default_factory=list)  # what each of our runs returned

    @property
    def base_median(self) -> float:
        return statistics.median(self.baseline)

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours)

    @property
    def ratio(self) -> float:
        return self.ours_median / self.base_median

    def spread(self) -> str:
        """The range of the per-round ratios (ours_i / baseline_i)."""
        ratios = [o / b for o, b in zip(self.ours, self.baseline, strict=True)]
        return f"{min(ratios):.2f}-{max(ratios):.2f}x"


def interleave(
    baseline: Callable[[], float],
    ours: Callable[[], tuple[float, object]],
    rounds: int,
    *,
    warm_up: bool = True,
) -> Pair:
    """Runs baseline, ours, baseline, ours… `rounds` times each (after one discarded warm-up of
    each, unless warm_up=False). `baseline` returns its seconds; `ours` returns (seconds, result)."""
    if warm_up:
        baseline()
        ours()
    pair = Pair()
    for _ in range(rounds):
        pair.baseline.append(baseline())
        seconds, result = ours()
        pair.ours.append(seconds)
        pair.extra.append(result)
    return pair


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"
