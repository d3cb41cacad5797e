"""How far an evaluation's figures can be trusted: 95 % confidence intervals.

A class's F1 on ten held-out messages moves by about 0.05 with each answer, so "0.74" alone
cannot say whether the class misses a goal of 0.80 or only had two unlucky messages. Shares
(right among routed) get Wilson score intervals, which stay inside [0, 1] and behave near
100 %; F1 and macro-F1, which are not shares, a percentile bootstrap over the messages
(they are redrawn with replacement, within each category, and the figure recomputed; the
middle 95 % of the recomputed figures is the interval), with a fixed seed so that a file
always prints the same.

Written by hand: each is a few lines, and the app's environment (where `flask nlu evaluate`
runs) has neither scipy nor statsmodels; a large dependency for one formula is not worth it.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence

Interval = tuple[float, float]

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile
RESAMPLES = 1000
SEED = 0


def wilson(successes: int, total: int, z: float = Z95) -> Interval:
    """The Wilson score interval of the share successes/total ((0, 1) when total is 0)."""
    if total <= 0:
        return (0.0, 1.0)
    share = successes / total
    spread = z * z / total
    centre = (share + spread / 2) / (1 + spread)
    half = z * math.sqrt(share * (1 - share) / total + spread / (4 * total)) / (1 + spread)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _f1s(pairs: Iterable[tuple[str, str]], labels: Sequence[str]) -> list[float]:
    """Each label's F1 (0 for a label neither said nor present, as in nlu.evaluation)."""
    right: Counter[str] = Counter()
    gold: Counter[str] = Counter()
    said: Counter[str] = Counter()
    for g, p in pairs:
        gold[g] += 1
        said[p] += 1
        if g == p:
            right[g] += 1
    return [
        2 * right[label] / (gold[label] + said[label]) if gold[label] + said[label] else 0.0
        for label in labels
    ]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of an empty sequence")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _middle(values: Sequence[float], share: float = 0.95) -> Interval:
    """The interval holding the middle `share` of the values (percentile bootstrap)."""
    tail = (1 - share) / 2 * 100
    return (percentile(values, tail), percentile(values, 100 - tail))


def bootstrap_f1(
    gold: Sequence[str],
    predicted: Sequence[str],
    labels: Iterable[str],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> tuple[dict[str, Interval], Interval]:
    """Percentile-bootstrap intervals of each label's F1 and of their mean (macro-F1).

    Messages are redrawn within each gold category, so every resample holds as many of each
    as the set does: the held-out sets are built with a fixed number a category, and a
    category a resample happened to miss would otherwise read as F1 0 (or be left out of the
    average), which the set itself can never do.
    """
    label_list = list(labels)
    pairs = list(zip(gold, predicted, strict=True))
    if not pairs or not label_list:
        return {label: (0.0, 1.0) for label in label_list}, (0.0, 1.0)
    strata: dict[str, list[tuple[str, str]]] = {}
    for pair in pairs:
        strata.setdefault(pair[0], []).append(pair)
    rng = random.Random(seed)
    per_label: list[list[float]] = [[] for _ in label_list]
    macro: list[float] = []
    for _ in range(resamples):
        drawn = [pair for group in strata.values() for pair in rng.choices(group, k=len(group))]
        f1s = _f1s(drawn, label_list)
        for column, f1 in zip(per_label, f1s, strict=True):
            column.append(f1)
        macro.append(sum(f1s) / len(f1s))
    intervals = {
        label: _middle(column) for label, column in zip(label_list, per_label, strict=True)
    }
    return intervals, _middle(macro)
